"""USDT probes (``<sys/sdt.h>``) as libbpf's ``usdt.bpf.h`` sees them.  No syscalls.

:mod:`.notes` reads the ``.note.stapsdt`` notes, :mod:`.sites` turns a binary's notes
into uprobe file offsets, :mod:`.args` parses the argument locations and :mod:`.spec`
lays them out as the ``struct __bpf_usdt_spec`` the BPF side reads.
"""
