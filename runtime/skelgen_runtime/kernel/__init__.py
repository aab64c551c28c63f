"""The running kernel as files and perf events show it: its BTF (vmlinux and
modules), configuration and version, symbols, CPUs, and the perf events that
tracepoints, kprobes and uprobes are opened as."""
