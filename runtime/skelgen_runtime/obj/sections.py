"""ELF section names of BPF programs and what they mean to a loader.

A BPF object file places each program in a section whose name (``SEC("...")``
in the C source) decides the program type, the expected attach type given to
``BPF_PROG_LOAD`` and how the program is attached afterwards.  This module
holds libbpf's table of those conventions and its matching rule, so that this
loader reads object files exactly as libbpf would.

Sources: ``section_defs[]``, ``sec_def_matches()`` and
``libbpf_prepare_prog_load()`` of libbpf v1.7.
"""

from __future__ import annotations

from ..lean.enums import Enum, Flag, auto
from ..lean.records import dataclass
from ..uapi.bpf import AttachType, ProgType


class AttachKind(Enum):
    """The mechanism that attaches a program once it is loaded.

    The kinds in ``AUTO_ATTACH_KINDS`` are those a skeleton's ``attach()``
    handles by itself, as libbpf's does, taking the hook from the section's
    target (a section without a target is skipped, not an error).  The others
    need something only the caller knows, such as a cgroup, an interface or a
    socket, and are attached by hand.
    """

    #: Not attached through bpf(2) links or setsockopt: installed by routing
    #: configuration (lwt_*) or as a devmap/cpumap entry (xdp/devmap ...).
    NONE = auto()
    TRACEPOINT = auto()
    RAW_TRACEPOINT = auto()
    #: fentry/fexit/fmod_ret/tp_btf and freplace: a tracing link on a BTF id.
    TRACING = auto()
    LSM = auto()
    KPROBE = auto()
    #: kprobe.multi, kretprobe.multi and kprobe.session.
    KPROBE_MULTI = auto()
    #: A kprobe on the architecture's syscall entry symbol.
    KSYSCALL = auto()
    UPROBE = auto()
    #: uprobe.multi, uretprobe.multi and uprobe.session.
    UPROBE_MULTI = auto()
    USDT = auto()
    ITER = auto()
    #: Attached to a perf event file descriptor.
    PERF_EVENT = auto()
    XDP = auto()
    TCX = auto()
    NETKIT = auto()
    #: Legacy netlink tc (cls_bpf filter or act_bpf action).
    TC = auto()
    #: setsockopt() on a socket (SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_EBPF).
    SOCKET = auto()
    #: A cgroup link; includes sockops and lsm_cgroup.
    CGROUP = auto()
    SK_LOOKUP = auto()
    NETFILTER = auto()
    #: The struct_ops map is attached (auto-attached by skeletons), not the
    #: program itself.
    STRUCT_OPS = auto()
    SK_SKB = auto()
    SK_MSG = auto()
    LIRC = auto()
    FLOW_DISSECTOR = auto()
    #: Never attached: run on demand with BPF_PROG_RUN.
    SYSCALL = auto()


AUTO_ATTACH_KINDS: frozenset[AttachKind] = frozenset(
    {
        AttachKind.TRACEPOINT,
        AttachKind.RAW_TRACEPOINT,
        AttachKind.TRACING,
        AttachKind.LSM,
        AttachKind.KPROBE,
        AttachKind.KPROBE_MULTI,
        AttachKind.KSYSCALL,
        AttachKind.UPROBE,
        AttachKind.UPROBE_MULTI,
        AttachKind.USDT,
        AttachKind.ITER,
    }
)


class SecFlag(Flag):
    """libbpf's ``SEC_*`` load-time flags (same bit values).

    libbpf's ``SEC_ATTACHABLE`` is left out: libbpf itself documents it as
    unused legacy metadata that changes nothing at load time.
    """

    NONE = 0
    #: Kernels older than 4.17 reject expected_attach_type; libbpf then
    #: loads with 0 instead.
    EXP_ATTACH_OPT = 1
    #: The target is a BTF function or type, resolved to attach_btf_id
    #: (and attach_btf_obj_fd for module BTF) before loading.
    ATTACH_BTF = 4
    #: Load with BPF_F_SLEEPABLE.
    SLEEPABLE = 8
    #: Load with BPF_F_XDP_HAS_FRAGS.
    XDP_FRAGS = 16
    #: libbpf loads USDT programs with expected_attach_type
    #: TRACE_UPROBE_MULTI when the kernel has uprobe_multi links, so that
    #: they can be attached through one.
    USDT = 32


@dataclass(frozen=True)
class SectionDef:
    """One row of libbpf's section table.

    ``prefix`` is matched as in libbpf: a trailing ``+`` means the name may
    also be followed by ``/`` and a target, otherwise the match is exact.
    ``expected_attach_type`` is what libbpf puts in the load attributes
    (see ``SecFlag`` for its adjustments); ``None`` is libbpf's 0 meaning
    "unspecified" rather than CGROUP_INET_INGRESS, and is loaded as 0.
    """

    prefix: str
    prog_type: ProgType
    expected_attach_type: AttachType | None
    attach_kind: AttachKind
    flags: SecFlag = SecFlag.NONE

    @property
    def sleepable(self) -> bool:
        return SecFlag.SLEEPABLE in self.flags

    @property
    def attach_btf(self) -> bool:
        return SecFlag.ATTACH_BTF in self.flags

    @property
    def auto_attach(self) -> bool:
        return self.attach_kind in AUTO_ATTACH_KINDS


@dataclass(frozen=True)
class ProgramSection:
    """An ELF section name matched against ``SECTION_DEFS``.

    ``target`` is what follows ``prefix/`` (the tracepoint, function, binary
    and symbol, BTF name ...), or ``""`` when the name has none.
    """

    section: str
    definition: SectionDef
    target: str

    @property
    def prog_type(self) -> ProgType:
        return self.definition.prog_type

    @property
    def expected_attach_type(self) -> AttachType | None:
        return self.definition.expected_attach_type

    @property
    def sleepable(self) -> bool:
        return self.definition.sleepable

    @property
    def attach_kind(self) -> AttachKind:
        return self.definition.attach_kind


# Short aliases keep the table close to one row per line, like libbpf's.
_P = ProgType
_A = AttachType
_K = AttachKind
_BTF = SecFlag.ATTACH_BTF
_SLEEP = SecFlag.SLEEPABLE
_FRAGS = SecFlag.XDP_FRAGS
_OPT = SecFlag.EXP_ATTACH_OPT

# Order matters: the first match wins, so e.g. "sk_reuseport/migrate" must
# precede "sk_reuseport" and "xdp.frags/devmap" precede "xdp.frags".
SECTION_DEFS: tuple[SectionDef, ...] = (
    SectionDef("socket", _P.SOCKET_FILTER, None, _K.SOCKET),
    SectionDef(
        "sk_reuseport/migrate",
        _P.SK_REUSEPORT,
        _A.SK_REUSEPORT_SELECT_OR_MIGRATE,
        _K.SOCKET,
    ),
    SectionDef("sk_reuseport", _P.SK_REUSEPORT, _A.SK_REUSEPORT_SELECT, _K.SOCKET),
    SectionDef("kprobe+", _P.KPROBE, None, _K.KPROBE),
    SectionDef("uprobe+", _P.KPROBE, None, _K.UPROBE),
    SectionDef("uprobe.s+", _P.KPROBE, None, _K.UPROBE, _SLEEP),
    SectionDef("kretprobe+", _P.KPROBE, None, _K.KPROBE),
    SectionDef("uretprobe+", _P.KPROBE, None, _K.UPROBE),
    SectionDef("uretprobe.s+", _P.KPROBE, None, _K.UPROBE, _SLEEP),
    SectionDef("kprobe.multi+", _P.KPROBE, _A.TRACE_KPROBE_MULTI, _K.KPROBE_MULTI),
    SectionDef("kretprobe.multi+", _P.KPROBE, _A.TRACE_KPROBE_MULTI, _K.KPROBE_MULTI),
    SectionDef("kprobe.session+", _P.KPROBE, _A.TRACE_KPROBE_SESSION, _K.KPROBE_MULTI),
    SectionDef("uprobe.multi+", _P.KPROBE, _A.TRACE_UPROBE_MULTI, _K.UPROBE_MULTI),
    SectionDef("uretprobe.multi+", _P.KPROBE, _A.TRACE_UPROBE_MULTI, _K.UPROBE_MULTI),
    SectionDef("uprobe.session+", _P.KPROBE, _A.TRACE_UPROBE_SESSION, _K.UPROBE_MULTI),
    SectionDef(
        "uprobe.multi.s+",
        _P.KPROBE,
        _A.TRACE_UPROBE_MULTI,
        _K.UPROBE_MULTI,
        _SLEEP,
    ),
    SectionDef(
        "uretprobe.multi.s+",
        _P.KPROBE,
        _A.TRACE_UPROBE_MULTI,
        _K.UPROBE_MULTI,
        _SLEEP,
    ),
    SectionDef(
        "uprobe.session.s+",
        _P.KPROBE,
        _A.TRACE_UPROBE_SESSION,
        _K.UPROBE_MULTI,
        _SLEEP,
    ),
    SectionDef("ksyscall+", _P.KPROBE, None, _K.KSYSCALL),
    SectionDef("kretsyscall+", _P.KPROBE, None, _K.KSYSCALL),
    SectionDef("usdt+", _P.KPROBE, None, _K.USDT, SecFlag.USDT),
    SectionDef("usdt.s+", _P.KPROBE, None, _K.USDT, SecFlag.USDT | _SLEEP),
    # libbpf keeps "tc/ingress" and "tc/egress" as aliases of tcx.
    SectionDef("tc/ingress", _P.SCHED_CLS, _A.TCX_INGRESS, _K.TCX),
    SectionDef("tc/egress", _P.SCHED_CLS, _A.TCX_EGRESS, _K.TCX),
    SectionDef("tcx/ingress", _P.SCHED_CLS, _A.TCX_INGRESS, _K.TCX),
    SectionDef("tcx/egress", _P.SCHED_CLS, _A.TCX_EGRESS, _K.TCX),
    SectionDef("tc", _P.SCHED_CLS, None, _K.TC),
    SectionDef("classifier", _P.SCHED_CLS, None, _K.TC),
    SectionDef("action", _P.SCHED_ACT, None, _K.TC),
    SectionDef("netkit/primary", _P.SCHED_CLS, _A.NETKIT_PRIMARY, _K.NETKIT),
    SectionDef("netkit/peer", _P.SCHED_CLS, _A.NETKIT_PEER, _K.NETKIT),
    SectionDef("tracepoint+", _P.TRACEPOINT, None, _K.TRACEPOINT),
    SectionDef("tp+", _P.TRACEPOINT, None, _K.TRACEPOINT),
    SectionDef("raw_tracepoint+", _P.RAW_TRACEPOINT, None, _K.RAW_TRACEPOINT),
    SectionDef("raw_tp+", _P.RAW_TRACEPOINT, None, _K.RAW_TRACEPOINT),
    SectionDef(
        "raw_tracepoint.w+", _P.RAW_TRACEPOINT_WRITABLE, None, _K.RAW_TRACEPOINT
    ),
    SectionDef("raw_tp.w+", _P.RAW_TRACEPOINT_WRITABLE, None, _K.RAW_TRACEPOINT),
    SectionDef("tp_btf+", _P.TRACING, _A.TRACE_RAW_TP, _K.TRACING, _BTF),
    SectionDef("fentry+", _P.TRACING, _A.TRACE_FENTRY, _K.TRACING, _BTF),
    SectionDef("fmod_ret+", _P.TRACING, _A.MODIFY_RETURN, _K.TRACING, _BTF),
    SectionDef("fexit+", _P.TRACING, _A.TRACE_FEXIT, _K.TRACING, _BTF),
    SectionDef("fentry.s+", _P.TRACING, _A.TRACE_FENTRY, _K.TRACING, _BTF | _SLEEP),
    SectionDef("fmod_ret.s+", _P.TRACING, _A.MODIFY_RETURN, _K.TRACING, _BTF | _SLEEP),
    SectionDef("fexit.s+", _P.TRACING, _A.TRACE_FEXIT, _K.TRACING, _BTF | _SLEEP),
    SectionDef("fsession+", _P.TRACING, _A.TRACE_FSESSION, _K.TRACING, _BTF),
    SectionDef("fsession.s+", _P.TRACING, _A.TRACE_FSESSION, _K.TRACING, _BTF | _SLEEP),
    SectionDef("freplace+", _P.EXT, None, _K.TRACING, _BTF),
    SectionDef("lsm+", _P.LSM, _A.LSM_MAC, _K.LSM, _BTF),
    SectionDef("lsm.s+", _P.LSM, _A.LSM_MAC, _K.LSM, _BTF | _SLEEP),
    SectionDef("lsm_cgroup+", _P.LSM, _A.LSM_CGROUP, _K.CGROUP, _BTF),
    SectionDef("iter+", _P.TRACING, _A.TRACE_ITER, _K.ITER, _BTF),
    SectionDef("iter.s+", _P.TRACING, _A.TRACE_ITER, _K.ITER, _BTF | _SLEEP),
    SectionDef("syscall", _P.SYSCALL, None, _K.SYSCALL, _SLEEP),
    SectionDef("xdp.frags/devmap", _P.XDP, _A.XDP_DEVMAP, _K.NONE, _FRAGS),
    SectionDef("xdp/devmap", _P.XDP, _A.XDP_DEVMAP, _K.NONE),
    SectionDef("xdp.frags/cpumap", _P.XDP, _A.XDP_CPUMAP, _K.NONE, _FRAGS),
    SectionDef("xdp/cpumap", _P.XDP, _A.XDP_CPUMAP, _K.NONE),
    SectionDef("xdp.frags", _P.XDP, _A.XDP, _K.XDP, _FRAGS),
    SectionDef("xdp", _P.XDP, _A.XDP, _K.XDP, _OPT),
    SectionDef("perf_event", _P.PERF_EVENT, None, _K.PERF_EVENT),
    SectionDef("lwt_in", _P.LWT_IN, None, _K.NONE),
    SectionDef("lwt_out", _P.LWT_OUT, None, _K.NONE),
    SectionDef("lwt_xmit", _P.LWT_XMIT, None, _K.NONE),
    SectionDef("lwt_seg6local", _P.LWT_SEG6LOCAL, None, _K.NONE),
    SectionDef("sockops", _P.SOCK_OPS, _A.CGROUP_SOCK_OPS, _K.CGROUP, _OPT),
    SectionDef(
        "sk_skb/stream_parser", _P.SK_SKB, _A.SK_SKB_STREAM_PARSER, _K.SK_SKB, _OPT
    ),
    SectionDef(
        "sk_skb/stream_verdict", _P.SK_SKB, _A.SK_SKB_STREAM_VERDICT, _K.SK_SKB, _OPT
    ),
    SectionDef("sk_skb/verdict", _P.SK_SKB, _A.SK_SKB_VERDICT, _K.SK_SKB, _OPT),
    SectionDef("sk_skb", _P.SK_SKB, None, _K.SK_SKB),
    SectionDef("sk_msg", _P.SK_MSG, _A.SK_MSG_VERDICT, _K.SK_MSG, _OPT),
    SectionDef("lirc_mode2", _P.LIRC_MODE2, _A.LIRC_MODE2, _K.LIRC, _OPT),
    SectionDef(
        "flow_dissector",
        _P.FLOW_DISSECTOR,
        _A.FLOW_DISSECTOR,
        _K.FLOW_DISSECTOR,
        _OPT,
    ),
    SectionDef(
        "cgroup_skb/ingress", _P.CGROUP_SKB, _A.CGROUP_INET_INGRESS, _K.CGROUP, _OPT
    ),
    SectionDef(
        "cgroup_skb/egress", _P.CGROUP_SKB, _A.CGROUP_INET_EGRESS, _K.CGROUP, _OPT
    ),
    SectionDef("cgroup/skb", _P.CGROUP_SKB, None, _K.CGROUP),
    SectionDef(
        "cgroup/sock_create", _P.CGROUP_SOCK, _A.CGROUP_INET_SOCK_CREATE, _K.CGROUP
    ),
    SectionDef(
        "cgroup/sock_release", _P.CGROUP_SOCK, _A.CGROUP_INET_SOCK_RELEASE, _K.CGROUP
    ),
    SectionDef(
        "cgroup/sock", _P.CGROUP_SOCK, _A.CGROUP_INET_SOCK_CREATE, _K.CGROUP, _OPT
    ),
    SectionDef(
        "cgroup/post_bind4", _P.CGROUP_SOCK, _A.CGROUP_INET4_POST_BIND, _K.CGROUP
    ),
    SectionDef(
        "cgroup/post_bind6", _P.CGROUP_SOCK, _A.CGROUP_INET6_POST_BIND, _K.CGROUP
    ),
    SectionDef("cgroup/bind4", _P.CGROUP_SOCK_ADDR, _A.CGROUP_INET4_BIND, _K.CGROUP),
    SectionDef("cgroup/bind6", _P.CGROUP_SOCK_ADDR, _A.CGROUP_INET6_BIND, _K.CGROUP),
    SectionDef(
        "cgroup/connect4", _P.CGROUP_SOCK_ADDR, _A.CGROUP_INET4_CONNECT, _K.CGROUP
    ),
    SectionDef(
        "cgroup/connect6", _P.CGROUP_SOCK_ADDR, _A.CGROUP_INET6_CONNECT, _K.CGROUP
    ),
    SectionDef(
        "cgroup/connect_unix", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UNIX_CONNECT, _K.CGROUP
    ),
    SectionDef(
        "cgroup/sendmsg4", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UDP4_SENDMSG, _K.CGROUP
    ),
    SectionDef(
        "cgroup/sendmsg6", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UDP6_SENDMSG, _K.CGROUP
    ),
    SectionDef(
        "cgroup/sendmsg_unix", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UNIX_SENDMSG, _K.CGROUP
    ),
    SectionDef(
        "cgroup/recvmsg4", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UDP4_RECVMSG, _K.CGROUP
    ),
    SectionDef(
        "cgroup/recvmsg6", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UDP6_RECVMSG, _K.CGROUP
    ),
    SectionDef(
        "cgroup/recvmsg_unix", _P.CGROUP_SOCK_ADDR, _A.CGROUP_UNIX_RECVMSG, _K.CGROUP
    ),
    SectionDef(
        "cgroup/getpeername4",
        _P.CGROUP_SOCK_ADDR,
        _A.CGROUP_INET4_GETPEERNAME,
        _K.CGROUP,
    ),
    SectionDef(
        "cgroup/getpeername6",
        _P.CGROUP_SOCK_ADDR,
        _A.CGROUP_INET6_GETPEERNAME,
        _K.CGROUP,
    ),
    SectionDef(
        "cgroup/getpeername_unix",
        _P.CGROUP_SOCK_ADDR,
        _A.CGROUP_UNIX_GETPEERNAME,
        _K.CGROUP,
    ),
    SectionDef(
        "cgroup/getsockname4",
        _P.CGROUP_SOCK_ADDR,
        _A.CGROUP_INET4_GETSOCKNAME,
        _K.CGROUP,
    ),
    SectionDef(
        "cgroup/getsockname6",
        _P.CGROUP_SOCK_ADDR,
        _A.CGROUP_INET6_GETSOCKNAME,
        _K.CGROUP,
    ),
    SectionDef(
        "cgroup/getsockname_unix",
        _P.CGROUP_SOCK_ADDR,
        _A.CGROUP_UNIX_GETSOCKNAME,
        _K.CGROUP,
    ),
    SectionDef("cgroup/sysctl", _P.CGROUP_SYSCTL, _A.CGROUP_SYSCTL, _K.CGROUP),
    SectionDef("cgroup/getsockopt", _P.CGROUP_SOCKOPT, _A.CGROUP_GETSOCKOPT, _K.CGROUP),
    SectionDef("cgroup/setsockopt", _P.CGROUP_SOCKOPT, _A.CGROUP_SETSOCKOPT, _K.CGROUP),
    SectionDef("cgroup/dev", _P.CGROUP_DEVICE, _A.CGROUP_DEVICE, _K.CGROUP, _OPT),
    # libbpf sets the expected attach type of struct_ops programs later, from
    # the index of the struct member they implement.
    SectionDef("struct_ops+", _P.STRUCT_OPS, None, _K.STRUCT_OPS),
    SectionDef("struct_ops.s+", _P.STRUCT_OPS, None, _K.STRUCT_OPS, _SLEEP),
    SectionDef("sk_lookup", _P.SK_LOOKUP, _A.SK_LOOKUP, _K.SK_LOOKUP),
    SectionDef("netfilter", _P.NETFILTER, _A.NETFILTER, _K.NETFILTER),
)


def _match_target(prefix: str, section_name: str) -> str | None:
    """The target when ``section_name`` matches ``prefix``, else ``None``."""
    if not prefix.endswith("+"):
        return "" if section_name == prefix else None
    base = prefix[:-1]
    if section_name == base:
        return ""
    # A bare prefix match is not enough: "tpfoo" must not match "tp+".
    if section_name.startswith(base + "/"):
        return section_name[len(base) + 1 :]
    return None


def find_section_def(section_name: str) -> ProgramSection | None:
    """Match an ELF section name as libbpf does; ``None`` if it is unknown."""
    for definition in SECTION_DEFS:
        target = _match_target(definition.prefix, section_name)
        if target is not None:
            return ProgramSection(section_name, definition, target)
    return None
