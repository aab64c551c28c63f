"""USDT probes (``<sys/sdt.h>``) as libbpf's ``usdt.bpf.h`` sees them.  No syscalls.

:mod:`.notes` reads the ``.note.stapsdt`` notes, :mod:`.sites` turns a binary's notes
into uprobe file offsets, :mod:`.args` parses the argument locations and :mod:`.spec`
lays them out as the ``struct __bpf_usdt_spec`` the BPF side reads.
"""

# The maps usdt.bpf.h declares (weak, so every object including it has one of each).
SPECS_MAP = "__bpf_usdt_specs"  # spec id → struct __bpf_usdt_spec
IP_TO_SPEC_ID_MAP = "__bpf_usdt_ip_to_spec_id"  # probe address → spec id (no cookies)
