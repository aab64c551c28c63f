"""struct_ops: a TCP congestion-control algorithm written in BPF, registered with the
kernel, chosen by a real connection and unregistered again.

``struct_ops_tcp_ca.bpf.c`` declares the algorithm twice: ``skelgen_ca`` in
``.struct_ops`` (registered by writing the map) and ``skelgen_ca_link`` in
``.struct_ops.link`` (registered by a BPF link).  A connection on loopback in a
namespace of the test's own selects one with ``TCP_CONGESTION``; the callbacks count
their calls in ``.bss``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from attach_support import netns, read_global
from conftest import open_fds
from skelgen_runtime import AttachError, BPFObject, LoadError, MapError, StructOpsMap
from skelgen_runtime.btf import types as bt
from skelgen_runtime.features import maps as map_features
from skelgen_runtime.kernel import btf as kernel_btf

pytestmark = pytest.mark.usefixtures("root_only")

AVAILABLE = "/proc/sys/net/ipv4/tcp_available_congestion_control"
PAYLOAD = 4 << 20  # enough data for many ACKs, so cong_avoid runs


def struct_ops_links() -> bool:
    """Whether the kernel registers struct_ops maps through BPF links (6.4+), as the
    runtime's probe says; the kernel's BTF, which then has the link's struct, agrees."""
    probed = map_features.has_struct_ops_links()
    assert probed == bool(
        kernel_btf.load_btf_file().find("bpf_struct_ops_link", bt.Struct)
    )
    return probed


def assert_links_are_lacking(obj: BPFObject) -> None:
    """Loading the .struct_ops.link table fails in one line naming the feature."""
    before = open_fds()
    with pytest.raises(LoadError) as info:
        obj.load()
    assert str(info.value) == (
        "create map skelgen_ca_link: struct_ops links (.struct_ops.link tables) need "
        "Linux 6.4+ (BPF_F_LINK); this kernel lacks them"
    )
    assert open_fds() == before


def without_links(obj: BPFObject) -> None:
    """Leave the .struct_ops.link table out where the kernel has no such links."""
    if not struct_ops_links():
        obj.maps["skelgen_ca_link"].autocreate = False


def available() -> list[str]:
    with open(AVAILABLE) as f:
        return f.read().split()


def transfer(algorithm: str) -> str:
    """Send PAYLOAD bytes over loopback with ``algorithm``; the algorithm the
    sending socket ended up with."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        received = []

        def drain() -> None:
            conn, _ = listener.accept()
            with conn:
                total = 0
                while chunk := conn.recv(1 << 16):
                    total += len(chunk)
                received.append(total)

        reader = threading.Thread(target=drain)
        reader.start()
        try:
            with socket.socket() as client:
                client.setsockopt(
                    socket.IPPROTO_TCP, socket.TCP_CONGESTION, algorithm.encode()
                )
                client.connect(listener.getsockname())
                client.sendall(b"x" * PAYLOAD)
                chosen = client.getsockopt(
                    socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16
                )
        finally:
            reader.join(timeout=10)
    assert received == [PAYLOAD]
    return chosen.rstrip(b"\0").decode()


@pytest.mark.parametrize("table", ["skelgen_ca", "skelgen_ca_link"])
def test_tcp_congestion_control_runs_and_goes_away(
    build_bpf: Callable[[str], Path], table: str
) -> None:
    with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
        other = "skelgen_ca_link" if table == "skelgen_ca" else "skelgen_ca"
        obj.maps[other].autocreate = False
        if table == "skelgen_ca_link" and not struct_ops_links():
            assert_links_are_lacking(obj)
            return
        obj.load()
        assert not obj.maps[other].loaded
        assert table not in available()  # loading alone registers nothing
        link = obj.attach_struct_ops(table)
        assert (link.kind, link.target) == ("struct_ops", "tcp_congestion_ops")
        assert table in available() and other not in available()
        value = obj.maps[table][0]  # the kernel's bpf_struct_ops_tcp_congestion_ops
        assert len(value) > len(obj.maps[table].data)
        assert table.encode() + b"\0" in value
        with netns() as ns:
            assert ns.call(transfer, table) == table
        assert read_global(obj, "init_calls") == 1  # the client; the server has cubic
        assert read_global(obj, "cong_avoid_calls") > 0
        assert read_global(obj, "unused_calls") == 0
        assert not obj.programs["skt_unused"].loaded  # in no table: not loaded
        obj.destroy()
        assert table not in available()


def test_detach_unregisters_and_only_a_link_map_registers_again(
    build_bpf: Callable[[str], Path],
) -> None:
    with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
        if not struct_ops_links():
            assert_links_are_lacking(obj)
            return
        obj.load()
        links = obj.attach()
        assert {"skelgen_ca", "skelgen_ca_link"} <= set(links)
        assert {"skelgen_ca", "skelgen_ca_link"} <= set(available())
        with pytest.raises(AttachError, match="registered already"):
            obj.attach_struct_ops("skelgen_ca")
        obj.detach()
        assert not {"skelgen_ca", "skelgen_ca_link"} & set(available())
        obj.attach_struct_ops("skelgen_ca_link")  # a new link on the same map
        assert "skelgen_ca_link" in available()
        with pytest.raises(AttachError, match="registered once"):
            obj.attach_struct_ops("skelgen_ca")
    assert not {"skelgen_ca", "skelgen_ca_link"} & set(available())


def test_a_member_takes_another_program_before_load(
    build_bpf: Callable[[str], Path],
) -> None:
    with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
        obj.maps["skelgen_ca_link"].autocreate = False
        table = obj.maps["skelgen_ca"]
        assert isinstance(table, StructOpsMap)
        table.set_program("init", obj.programs["skt_unused"])
        assert table.programs["init"] == "skt_unused"
        obj.load()
        # skt_init now implements nothing: not loaded; skt_unused is.
        assert not obj.programs["skt_init"].loaded
        assert obj.programs["skt_unused"].loaded
        obj.attach()
        with netns() as ns:
            ns.call(transfer, "skelgen_ca")
        assert read_global(obj, "unused_calls") == 1
        assert read_global(obj, "init_calls") == 0
        with pytest.raises(MapError, match="before load"):
            table.set_program("init", "skt_init")


def test_a_created_tables_programs_load_whatever_their_autoload(
    build_bpf: Callable[[str], Path],
) -> None:
    """As current libbpf: a member's program loads when its table is created, even
    with autoload switched off by hand (the table's value needs its fd); a program
    no table uses is left out, and refused as libbpf refuses it when asked for."""
    with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
        without_links(obj)
        obj.programs["skt_init"].autoload = False
        obj.load()
        assert obj.programs["skt_init"].loaded
        assert not obj.programs["skt_unused"].loaded
        obj.attach_struct_ops("skelgen_ca")
        with netns() as ns:
            ns.call(transfer, "skelgen_ca")
        assert read_global(obj, "init_calls") == 1
    with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
        obj.maps["skelgen_ca"].autocreate = False
        obj.maps["skelgen_ca_link"].autocreate = False
        obj.programs["skt_init"].autoload = True  # its tables are not created
        obj.load()
        assert not obj.programs["skt_init"].loaded
    with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
        without_links(obj)
        obj.programs["skt_unused"].autoload = True
        with pytest.raises(LoadError, match="no struct_ops map of the object uses"):
            obj.load()


def test_a_member_the_struct_lacks_or_a_program_of_another_type_is_refused(
    build_bpf: Callable[[str], Path],
) -> None:
    for member, program, message in (
        ("no_such_member", "skt_init", "has no member 'no_such_member'"),
        ("init", "no_such_program", "'no_such_program' is no struct_ops program"),
    ):
        with BPFObject.open(build_bpf("struct_ops_tcp_ca")) as obj:
            without_links(obj)
            table = obj.maps["skelgen_ca"]
            assert isinstance(table, StructOpsMap)
            table.set_program(member, program)
            with pytest.raises(LoadError, match=message):
                obj.load()


def test_skeleton_struct_ops_tables_are_typed_and_written_before_load(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    module = skeleton_module("struct_ops_tcp_ca")
    skel = module.StructOpsTcpCaBpf.open()
    try:
        assert isinstance(skel.maps.skelgen_ca, StructOpsMap)
        table = skel.struct_ops.skelgen_ca
        assert table.name == b"skelgen_ca"
        table.name = b"skelgen_renamed"  # a data member: copied into the kernel's value
        without_links(skel.obj)
        skel.load()
        skel.attach()
        assert skel.links.skelgen_ca is not None
        assert skel.links.skelgen_ca_link is not None or not struct_ops_links()
        names = available()
        assert "skelgen_renamed" in names and "skelgen_ca" not in names
        with netns() as ns:
            assert ns.call(transfer, "skelgen_renamed") == "skelgen_renamed"
        assert skel.bss.ssthresh_calls + skel.bss.cong_avoid_calls > 0
    finally:
        skel.destroy()
    assert "skelgen_renamed" not in available()


def test_a_table_the_kernel_lacks_is_a_load_error(
    build_bpf: Callable[[str], Path], tmp_path: Path
) -> None:
    # The same object with its struct renamed: no bpf_struct_ops_<name> exists.
    data = build_bpf("struct_ops_tcp_ca").read_bytes()
    renamed = data.replace(b"tcp_congestion_ops\0", b"tcp_congestion_opz\0")
    assert renamed != data
    path = tmp_path / "renamed.bpf.o"
    path.write_bytes(renamed)
    with (
        BPFObject.open(path) as obj,
        pytest.raises(LoadError, match="tcp_congestion_opz"),
    ):
        obj.load()
