"""Constants of the kernel's user-space ABI: pure data, no syscalls."""
