"""The kernel-facing layer: syscall numbers, ``bpf_attr`` layouts, raw calls."""
