"""Networking attach kinds against the kernel, on real traffic: UDP datagrams sent
between two network namespaces joined by a veth pair (made and deleted by the tests),
over loopback, and from a child process placed in a test cgroup."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from attach_support import (
    NetNs,
    VethPair,
    cgroup2_root,
    loaded,
    read_global,
    receive_all,
    run_in_cgroup,
    temporary_cgroup,
    udp_socket,
    veth_pair,
    wait_for,
    write_global,
)
from conftest import open_fds, require
from skelgen_runtime import AttachError, BPFObject, LoadError
from skelgen_runtime.errors import LoadPermissionError
from skelgen_runtime.features import links as link_features
from skelgen_runtime.features.programs import has_prog_type
from skelgen_runtime.kernel import btf as kernel_btf
from skelgen_runtime.link.xdp import XDP_FLAGS_SKB_MODE
from skelgen_runtime.uapi.bpf import AttachType, ProgType

pytestmark = pytest.mark.usefixtures("root_only")
PORT = 40123
NFPROTO_IPV4 = 2
NF_INET_LOCAL_IN = 1
MARK = 0x5E1F


@pytest.fixture(scope="module")
def pair() -> Iterator[VethPair]:
    require(
        os.path.exists("/usr/sbin/ip")
        or os.path.exists("/sbin/ip")
        or os.path.exists("/usr/bin/ip"),
        "needs iproute2",
    )
    with veth_pair() as made:
        yield made


@pytest.fixture
def net_obj(build_bpf: Callable[[str], Path]) -> Iterator[BPFObject]:
    with loaded(build_bpf("attach_net"), port=PORT) as obj:
        yield obj


class Traffic:
    """A receiver in namespace b, a sender in namespace a."""

    def __init__(self, pair: VethPair) -> None:
        self.pair = pair
        self.rx = pair.b.call(udp_socket, ("0.0.0.0", PORT))
        self.tx = pair.a.call(udp_socket)

    def send(self, count: int, payload: bytes = b"PASS") -> None:
        for _ in range(count):
            self.tx.sendto(payload, (self.pair.addr_b, PORT))

    def received(self) -> list[bytes]:
        return receive_all(self.rx)

    def close(self) -> None:
        self.rx.close()
        self.tx.close()


@pytest.fixture
def traffic(pair: VethPair) -> Iterator[Traffic]:
    made = Traffic(pair)
    made.send(1)  # resolve ARP before any program looks at packets
    assert made.received() == [b"PASS"]
    yield made
    made.close()


def counters(obj: BPFObject, *names: str) -> dict[str, int]:
    return {name: read_global(obj, name) for name in names}


@pytest.mark.parametrize("flags", [0, XDP_FLAGS_SKB_MODE], ids=["native", "generic"])
def test_xdp_drops_and_counts_then_link_update_and_detach(
    net_obj: BPFObject, pair: VethPair, traffic: Traffic, flags: int
) -> None:
    programs = net_obj.programs
    link = pair.b.call(programs["xdp_drop_port"].attach_xdp, "vb", flags)
    assert (link.kind, link.target) == ("xdp", "vb")
    traffic.send(5)
    assert traffic.received() == []
    assert read_global(net_obj, "xdp_dropped") == 5
    link.update(programs["xdp_count_port"])  # swap the program on the same link
    traffic.send(3)
    assert traffic.received() == [b"PASS"] * 3
    assert counters(net_obj, "xdp_dropped", "xdp_passed") == {
        "xdp_dropped": 5,
        "xdp_passed": 3,
    }
    link.detach()
    traffic.send(2)
    assert len(traffic.received()) == 2
    assert counters(net_obj, "xdp_dropped", "xdp_passed") == {
        "xdp_dropped": 5,
        "xdp_passed": 3,
    }


def test_xdp_errors_name_the_interface(net_obj: BPFObject, pair: VethPair) -> None:
    program = net_obj.programs["xdp_drop_port"]
    before = open_fds()
    with pytest.raises(AttachError) as info:
        program.attach_xdp("vb")  # not in this namespace
    assert str(info.value) == (
        "attach xdp_drop_port (xdp vb): no such interface in this network namespace"
    )
    assert info.value.errno == errno.ENODEV
    with pytest.raises(AttachError, match=r"\(xdp 999999\): EINVAL"):
        program.attach_xdp(999999)
    with pytest.raises(AttachError, match=r"call attach_xdp\(interface\)"):
        program.attach()
    with (
        pair.b.call(program.attach_xdp, "vb"),
        pytest.raises(AttachError, match="EBUSY"),
    ):
        pair.b.call(net_obj.programs["xdp_count_port"].attach_xdp, "vb")
    assert open_fds() == before


def _tc(ns: NetNs, *args: str) -> list[str]:
    cmd = ["ip", "netns", "exec", ns.name, "tc", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split(
        "\n"
    )


def tc_filters(ns: NetNs, dev: str) -> list[str]:
    """``"<hook> <program name>"`` of each BPF filter on ``dev``, as tc lists them."""
    found = []
    for hook in ("ingress", "egress"):
        if not has_clsact(ns, dev):
            break
        for line in _tc(ns, "filter", "show", "dev", dev, hook):
            words = line.split()
            if "direct-action" in words:
                found.append(f"{hook} {words[words.index('direct-action') - 1]}")
    return found


def has_clsact(ns: NetNs, dev: str) -> bool:
    return any(
        line.startswith("qdisc clsact") for line in _tc(ns, "qdisc", "show", "dev", dev)
    )


@pytest.mark.parametrize("legacy", [False, True], ids=["default", "legacy"])
def test_tcx_counts_and_marks_and_a_socket_filter_keeps_matching_datagrams(
    net_obj: BPFObject, pair: VethPair, traffic: Traffic, legacy: bool
) -> None:
    """tcx links, or where the kernel has none (and with ``legacy``) cls_bpf filters
    on a clsact qdisc that detaching removes again."""
    programs = net_obj.programs
    ingress = pair.b.call(programs["tcx_mark"].attach_tcx, "vb", None, 0, 0, 0, legacy)
    egress = pair.a.call(
        programs["tcx_count_egress"].attach_tcx, "va", None, 0, 0, 0, legacy
    )
    prefix = "tcx" if link_features.has_tcx_links() and not legacy else "tc"
    assert (ingress.kind, egress.kind) == (f"{prefix} ingress", f"{prefix} egress")
    if prefix == "tc":
        assert tc_filters(pair.b, "vb") == ["ingress tcx_mark"]
        assert tc_filters(pair.a, "va") == ["egress tcx_count_egress"]
        with pytest.raises(AttachError, match="is not a BPF link"):
            ingress.pin("/sys/fs/bpf/skelgen_never")
    with programs["keep_pass"].attach_socket(traffic.rx) as kept:
        assert kept.kind == "socket"
        traffic.send(2, b"PASS-1")
        traffic.send(1, b"DROP-1")
        traffic.send(1, b"PASSED")
        traffic.send(1, b"PAS")
        assert traffic.received() == [b"PASS-1", b"PASS-1", b"PASSED"]
    assert counters(
        net_obj, "tcx_ingress", "tcx_egress", "filter_kept", "filter_dropped"
    ) == {
        "tcx_ingress": 5,
        "tcx_egress": 5,
        "filter_kept": 3,
        "filter_dropped": 2,
    }
    assert read_global(net_obj, "seen_mark") == MARK  # set by tcx, seen by the filter
    ingress.detach()
    egress.detach()
    assert tc_filters(pair.b, "vb") == tc_filters(pair.a, "va") == []
    assert not has_clsact(pair.b, "vb") and not has_clsact(pair.a, "va")
    traffic.send(
        1, b"DROP-2"
    )  # filter detached too: everything arrives, nothing counted
    assert traffic.received() == [b"DROP-2"]
    assert (
        read_global(net_obj, "tcx_ingress") == 5
        and read_global(net_obj, "filter_dropped") == 2
    )


@pytest.mark.parametrize("qdisc_before", [False, True], ids=["made", "found"])
def test_legacy_tc_removes_only_what_it_made(
    net_obj: BPFObject, pair: VethPair, qdisc_before: bool
) -> None:
    """Two filters share the clsact qdisc: it goes with the last one if this process
    made it, and stays if it was there before."""
    if qdisc_before:
        _tc(pair.b, "qdisc", "add", "dev", "vb", "clsact")
    programs = net_obj.programs
    before = open_fds()
    ingress = pair.b.call(
        programs["tcx_mark"].attach_tcx, "vb", "ingress", 0, 0, 0, True
    )
    egress = pair.b.call(
        programs["tcx_count_egress"].attach_tcx, "vb", "egress", 0, 0, 0, True
    )
    assert tc_filters(pair.b, "vb") == ["ingress tcx_mark", "egress tcx_count_egress"]
    ingress.detach()
    assert tc_filters(pair.b, "vb") == ["egress tcx_count_egress"]
    egress.detach()
    egress.detach()
    assert tc_filters(pair.b, "vb") == []
    assert has_clsact(pair.b, "vb") == qdisc_before
    if qdisc_before:
        _tc(pair.b, "qdisc", "del", "dev", "vb", "clsact")
    with pytest.raises(AttachError) as info:
        pair.b.call(programs["tcx_mark"].attach_tcx, "vb", "ingress", 0, 5, 0, True)
    assert str(info.value) == (
        "attach tcx_mark (tc ingress vb): flags, relative_fd and expected_revision "
        "order tcx links, not tc filters"
    )
    assert info.value.errno == errno.EOPNOTSUPP
    assert not has_clsact(pair.b, "vb") and open_fds() == before


def test_tcx_direction_is_checked(net_obj: BPFObject, pair: VethPair) -> None:
    program = net_obj.programs["tcx_mark"]
    with pytest.raises(AttachError, match="neither 'ingress' nor 'egress'"):
        pair.b.call(program.attach_tcx, "vb", "sideways")
    with pair.b.call(program.attach_tcx, "vb", "egress") as link:
        assert link.kind == (
            "tcx egress" if link_features.has_tcx_links() else "tc egress"
        )


def test_socket_filter_on_loopback_and_a_socket_closed_before_detach(
    net_obj: BPFObject,
) -> None:
    rx = udp_socket(("127.0.0.1", 0))
    tx = udp_socket()
    link = net_obj.programs["keep_pass"].attach_socket(rx.fileno())
    rx_address = rx.getsockname()
    for payload in (b"nope", b"PASS-a", b"PASS-b", b"xPASS"):
        tx.sendto(payload, rx_address)
    assert receive_all(rx) == [b"PASS-a", b"PASS-b"]
    rx.close()  # the link holds its own reference to the socket
    link.detach()
    tx.close()


def test_sk_lookup_in_a_namespace(
    net_obj: BPFObject, pair: VethPair, traffic: Traffic
) -> None:
    programs = net_obj.programs
    lookup = programs["count_lookups"].attach_netns(pair.b.path)
    assert lookup.kind == "sk_lookup"
    traffic.send(4)
    assert len(traffic.received()) == 4
    assert read_global(net_obj, "lookups") == 4
    lookup.detach()
    traffic.send(1)
    assert len(traffic.received()) == 1
    assert read_global(net_obj, "lookups") == 4
    with pytest.raises(
        AttachError,
        match="only sk_lookup and flow_dissector programs attach to a network",
    ):
        programs["xdp_drop_port"].attach_netns(pair.b.path)


def test_netfilter_counts_local_in_or_is_refused_clearly(
    build_bpf: Callable[[str], Path], pair: VethPair, traffic: Traffic
) -> None:
    path = build_bpf("attach_netfilter")
    if not has_prog_type(ProgType.NETFILTER):
        with pytest.raises(LoadError) as info, loaded(path):
            pass
        assert str(info.value).startswith(
            "load program count_local_in (netfilter): "
        ) and "\n" not in str(info.value)
        assert info.value.errno == errno.EINVAL
        return
    with loaded(path) as obj:
        program = obj.programs["count_local_in"]
        # netfilter links go on the namespace of the caller
        link = pair.b.call(
            program.attach_netfilter, NFPROTO_IPV4, NF_INET_LOCAL_IN, -128
        )
        traffic.send(4)
        assert len(traffic.received()) == 4
        assert read_global(obj, "nf_packets") == 4
        link.detach()
        traffic.send(1)
        assert len(traffic.received()) == 1
        assert read_global(obj, "nf_packets") == 4
        with pytest.raises(
            AttachError, match=r"netfilter pf 2 hook 1 priority -2147483648\): ERANGE"
        ):
            program.attach_netfilter(NFPROTO_IPV4, NF_INET_LOCAL_IN, -(2**31))


@pytest.mark.parametrize("legacy", [False, True], ids=["default", "legacy"])
def test_sk_msg_on_a_sockmap_counts_messages(net_obj: BPFObject, legacy: bool) -> None:
    """A sockmap link, or where the kernel has none (and with ``legacy``) the program
    put on the map with BPF_PROG_ATTACH: either way the messages are counted."""
    socks = net_obj.maps["socks"]
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as client,
    ):
        peer, _ = server.accept()
        # The program must be in place before a socket joins the map.
        with net_obj.programs["count_msgs"].attach_sockmap(socks, legacy) as link:
            assert link.kind == "sockmap"
            if legacy or not link_features.has_sockmap_link():
                with pytest.raises(AttachError, match="is not a BPF link"):
                    link.pin("/sys/fs/bpf/never-made")
            else:
                assert link.fd >= 0
            socks[0] = client.fileno()
            client.sendall(b"hello")
            client.sendall(b"sockmap")
            assert wait_for(lambda: read_global(net_obj, "msgs") == 2)
            assert read_global(net_obj, "msg_bytes") == 12
        # A socket joining the map after the detach meets no program there.
        del socks[0]
        socks[0] = client.fileno()
        client.sendall(b"after")
        received = b""
        while len(received) < 17:
            received += peer.recv(64)
        assert received == b"hellosockmapafter"
        assert read_global(net_obj, "msgs") == 2
        peer.close()
    with pytest.raises(AttachError, match="only sk_skb/stream_parser"):
        net_obj.programs["keep_pass"].attach_sockmap(socks)


def test_netkit_needs_a_netkit_device(net_obj: BPFObject, pair: VethPair) -> None:
    before = open_fds()
    with pytest.raises(AttachError) as info:  # vb is a veth, not a netkit device
        pair.b.call(net_obj.programs["netkit_pass"].attach_netkit, "vb")
    if link_features.has_netkit():  # ENXIO: not a netkit device
        assert str(info.value).startswith("attach netkit_pass (netkit vb): E")
    else:
        assert str(info.value) == (
            "attach netkit_pass (netkit vb): netkit links need Linux 6.7+ built with "
            "CONFIG_NETKIT (BPF_NETKIT_PRIMARY/PEER); this kernel lacks them"
        )
    assert open_fds() == before
    with pytest.raises(AttachError, match="only netkit/primary and netkit/peer"):
        pair.b.call(net_obj.programs["tcx_mark"].attach_netkit, "vb")


MODULE_PAYLOAD = b"M" * 333
MODULE_FRAME_LEN = 14 + 20 + 8 + len(MODULE_PAYLOAD)  # Ethernet, IPv4, UDP, payload
MODULE_HOOKS = {
    "on_veth_xmit": ("fentry", "fentry_count"),
    "after_veth_xmit": ("fexit", "fexit_count"),
    "kprobe_veth_xmit": ("kprobe", "kprobe_count"),
}


@pytest.mark.parametrize("program", sorted(MODULE_HOOKS))
def test_module_function_hooks_count_frames(
    build_bpf: Callable[[str], Path], pair: VethPair, traffic: Traffic, program: str
) -> None:
    """veth_xmit() is a function of the veth module: fentry and fexit find it in the
    module's BTF (by name, and as ``veth:veth_xmit``), a kprobe by name."""
    if "veth" not in kernel_btf.module_btf_names():
        pytest.skip("veth has no module BTF here (built in, or modules without BTF)")
    kind, counter = MODULE_HOOKS[program]
    with BPFObject.open(build_bpf("attach_module")) as obj:
        for prog in obj.programs.values():
            prog.autoload = prog.name == program
        write_global(obj, "frame_len", MODULE_FRAME_LEN)
        write_global(obj, "ifindex", pair.a.call(socket.if_nametoindex, "va"))
        try:
            obj.load()
        except LoadPermissionError as exc:
            assert kind != "kprobe" and exc.errno == errno.EPERM
            pytest.skip(f"this kernel refuses {kind} programs: {exc}")
        try:
            link = obj.programs[program].attach()
        except AttachError as exc:
            assert kind == "kprobe" and exc.errno == errno.EOPNOTSUPP
            assert "no kprobe support" in str(exc)
            pytest.skip(f"this kernel has no kprobes: {exc}")
        assert link.kind == kind
        traffic.send(3, MODULE_PAYLOAD)
        assert len(traffic.received()) == 3
        seen = read_global(obj, counter)
        # fexit counts every frame va sent (ARP too), the others those of one length
        assert seen >= 3 if kind == "fexit" else seen == 3
        link.detach()
        traffic.send(1, MODULE_PAYLOAD)
        assert len(traffic.received()) == 1
        assert read_global(obj, counter) == seen


CHILD = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", {PORT}))
for size in range(1, 6):
    s.send(b"x" * size)
s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
open("/proc/sys/kernel/ostype").read()
"""


def test_cgroup_programs_see_what_a_process_in_the_cgroup_does(
    build_bpf: Callable[[str], Path],
) -> None:
    root = cgroup2_root()
    require(root is not None, "cgroup v2 is not mounted")
    assert root is not None
    with (
        loaded(build_bpf("attach_cgroup")) as obj,
        temporary_cgroup(root) as cgroup,
    ):
        links = [
            prog.attach_cgroup(cgroup)
            for prog in obj.programs.values()
            if prog.name != "skb_any"
        ]
        assert [link.kind for link in links] == [
            "cgroup inet_egress",
            "cgroup inet_sock_create",
            "cgroup inet4_connect",
            "cgroup getsockopt",
            "cgroup sysctl",
        ]
        receiver = udp_socket(("127.0.0.1", PORT))  # not in the cgroup: not counted
        receiver.sendto(b"outside", ("127.0.0.1", PORT))
        run_in_cgroup(cgroup, CHILD)
        assert len(receive_all(receiver)) == 6
        got = {
            name: read_global(obj, name)
            for name in (
                "egress_packets",
                "egress_bytes",
                "sockets_created",
                "connects",
                "connect_port",
                "getsockopts",
            )
        }
        # five datagrams of 1..5 payload bytes, each with a 20-byte IP and 8-byte UDP header
        assert got == {
            "egress_packets": 5,
            "egress_bytes": 5 * 28 + 15,
            "sockets_created": 1,
            "connects": 1,
            "connect_port": PORT,
            "getsockopts": 1,
        }
        assert read_global(obj, "sysctl_reads") >= 1
        for link in links:
            link.detach()
        run_in_cgroup(cgroup, CHILD)
        assert len(receive_all(receiver)) == 5
        assert read_global(obj, "egress_packets") == 5
        receiver.close()

        skb_any = obj.programs["skb_any"]
        with pytest.raises(AttachError, match="names no cgroup hook; pass attach_type"):
            skb_any.attach_cgroup(cgroup)
        with skb_any.attach_cgroup(cgroup, AttachType.CGROUP_INET_INGRESS) as link:
            assert link.kind == "cgroup inet_ingress"
        with pytest.raises(
            AttachError, match=r"\(cgroup inet_egress /nonexistent\): ENOENT"
        ):
            obj.programs["count_egress"].attach_cgroup("/nonexistent")
        fd = os.open(cgroup, os.O_RDONLY)
        try:
            with obj.programs["count_egress"].attach_cgroup(fd) as link:
                assert link.target == str(fd)
        finally:
            os.close(fd)
