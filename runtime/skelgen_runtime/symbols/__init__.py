"""Addresses to names, and the kernel's ``bpf_printk`` output: what bcc users expect.

:mod:`.table` looks addresses up in a sorted symbol table; :mod:`.kallsyms` builds
one from ``/proc/kallsyms`` (kernel addresses, :func:`ksym`); :mod:`.elf_symbols`
from an ELF file's symbol tables and :mod:`.proc_maps` reads ``/proc/PID/maps``,
which :mod:`.user` combines (user-space addresses, :func:`sym`); :mod:`.trace_pipe`
reads tracefs's ``trace_pipe``.  Parsing is pure and works on bytes and text; only
the functions that open ``/proc`` and tracefs files touch the system.
"""
