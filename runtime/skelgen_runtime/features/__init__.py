"""What the running kernel can do: probes made once per process, as libbpf makes them."""
