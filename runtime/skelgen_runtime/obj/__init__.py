"""Object files → :class:`~.spec.ObjectSpec`: ELF and BTF reading, the section-name
table, subprogram linking, relocation arithmetic and extern collection.  Pure: no
syscalls, nothing of the running kernel."""
