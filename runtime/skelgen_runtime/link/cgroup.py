"""cgroup programs (skb, sock, sock_addr, sockopt, sysctl, dev, sockops,
lsm_cgroup) on a cgroup v2 directory."""

from __future__ import annotations

from ..uapi.bpf import AttachType
from .attaching import AttachableProgram, attach_to_fd_of, expected_type
from .link import Link

_CGROUP_TYPES = (
    *(t for t in AttachType if t.name.startswith("CGROUP_")),
    AttachType.LSM_CGROUP,
)


def attach_cgroup(
    program: AttachableProgram, cgroup: str | int, attach_type: AttachType | None = None
) -> Link:
    """A cgroup program (skb, sock, sock_addr, sockopt, sysctl, dev, sockops,
    lsm_cgroup) on a cgroup v2 directory or its fd."""
    if attach_type is None:
        attach_type = expected_type(
            program,
            "cgroup",
            str(cgroup),
            _CGROUP_TYPES,
            "it names no cgroup hook; pass attach_type, e.g. AttachType.CGROUP_INET_INGRESS",
        )
    kind = f"cgroup {attach_type.name.lower().removeprefix('cgroup_')}"
    return attach_to_fd_of(program, kind, cgroup, attach_type)
