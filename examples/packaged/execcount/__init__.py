"""execcount: every exec() on the machine as it happens, then how often each
command ran — a BPF tool shipped as a wheel that needs only skelgen-runtime."""
