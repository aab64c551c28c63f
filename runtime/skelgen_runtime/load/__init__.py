"""Loading: an :class:`~..obj.spec.ObjectSpec` becomes kernel objects (BTF, maps with
their global data, relocated programs), and global data is mapped into Python."""
