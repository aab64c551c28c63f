"""skelgen: generate typed Python skeletons from compiled eBPF objects."""

__version__ = "0.1.0"
