"""Keyed maps against the kernel: what Python writes a BPF program reads, and back.

The programs of ``maps_kinds.bpf.c`` take their inputs from ``.bss`` (key_in,
value_in, lpm_in) and leave results there (found, results), so each test drives a
program with ``test_run()`` and checks the effect on the other side.
"""

from __future__ import annotations

import ctypes
import errno
import io
import ipaddress
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from skelgen_runtime import LoadError, MapError, PerCpuValues, UpdateFlag
from skelgen_runtime.features.maps import has_hash_lookup_and_delete, has_map_type
from skelgen_runtime.features.requirements import HASH_LOOKUP_AND_DELETE
from skelgen_runtime.kernel.cpus import possible_cpus
from skelgen_runtime.maps.histogram import format_log2_hist
from skelgen_runtime.program import Program
from skelgen_runtime.uapi.bpf import Cmd, MapType

pytestmark = pytest.mark.usefixtures("root_only")

TEST_RUN_ON_CPU = 1  # BPF_F_TEST_RUN_ON_CPU


@pytest.fixture
def skel(skeleton_module: Callable[[str], ModuleType]) -> Iterator[Any]:
    module = skeleton_module("maps_kinds")
    with module.MapsKindsBpf.open_and_load() as loaded:
        yield loaded


def run(program: Program, cpu: int | None = None) -> int:
    if cpu is None:
        return program.test_run().retval
    return program.test_run(flags=TEST_RUN_ON_CPU, cpu=cpu).retval


def test_hash_map_both_ways(skel: Any) -> None:
    stats = type(skel.maps.hash.value_type())
    hash_map = skel.maps.hash
    hash_map[1] = stats(count=5, total=50)
    skel.bss.key_in = 1
    run(skel.progs.hash_get)
    assert skel.bss.found == 1
    assert list(skel.bss.results)[:2] == [5, 50]

    skel.bss.key_in, skel.bss.value_in = 2, 7
    run(skel.progs.hash_add)
    run(skel.progs.hash_add)
    value = hash_map[2]
    assert isinstance(value, stats)
    assert (value.count, value.total) == (2, 14)
    assert 2 in hash_map and 3 not in hash_map
    assert hash_map.get(3) is None
    with pytest.raises(KeyError):
        hash_map[3]
    assert sorted(hash_map.keys()) == [1, 2]
    assert sorted((k, v.total) for k, v in hash_map.items()) == [(1, 50), (2, 14)]
    assert len(hash_map) == 2

    del hash_map[1]
    skel.bss.key_in = 1
    run(skel.progs.hash_get)
    assert skel.bss.found == 0
    with pytest.raises(KeyError):
        del hash_map[1]
    assert hash_map.delete(1) is False


def test_update_flags(skel: Any) -> None:
    lru = skel.maps.hash
    stats = lru.value_type
    lru.update(1, stats(count=1), UpdateFlag.NOEXIST)
    with pytest.raises(MapError) as info:
        lru.update(1, stats(count=2), UpdateFlag.NOEXIST)
    assert info.value.errno == errno.EEXIST
    with pytest.raises(KeyError):
        lru.update(9, stats(count=3), UpdateFlag.EXIST)
    lru.update(1, stats(count=4), UpdateFlag.EXIST)
    assert lru[1].count == 4
    assert lru.lookup(9) is None


def test_lookup_and_delete(skel: Any) -> None:
    hash_map = skel.maps.hash
    hash_map[4] = hash_map.value_type(count=8, total=9)
    if not has_hash_lookup_and_delete():  # before 5.14: queues and stacks only
        with pytest.raises(MapError) as info:
            hash_map.lookup_and_delete(4)
        assert str(info.value) == (
            f"map hash: lookup and delete: {HASH_LOOKUP_AND_DELETE.message()}"
        )
        assert 4 in hash_map
        return
    assert hash_map.lookup_and_delete(4).total == 9
    assert 4 not in hash_map
    assert hash_map.pop(4) is None
    with pytest.raises(KeyError):
        hash_map.lookup_and_delete(4)


def test_keys_and_values_are_checked(skel: Any) -> None:
    array = skel.maps.array
    with pytest.raises(MapError, match="does not fit"):
        array[2**32] = 1
    with pytest.raises(MapError, match="does not fit"):
        array[1] = -1
    with pytest.raises(MapError, match="expected"):
        array["1"] = 1
    with pytest.raises(MapError, match="expected stats"):
        skel.maps.hash[1] = skel.maps.lru.value_type(3)
    array[b"\x02\x00\x00\x00"] = 2**64 - 1  # raw key bytes are fine too
    assert array[2] == 2**64 - 1
    array[ctypes.c_uint32(3)] = ctypes.c_uint64(5)
    assert array[3] == 5


def test_iteration_survives_the_kernel_deleting(skel: Any) -> None:
    """items() while a BPF program deletes odd keys: each key once, every key the
    kernel never deletes present, values consistent — batched and one by one."""
    hash_map = skel.maps.hash
    stats = hash_map.value_type
    odd = {k: stats(count=k, total=2 * k) for k in range(1, 1000, 2)}
    skel.bss.key_in = 1000

    def delete_and_refill(stop: threading.Event) -> None:
        while not stop.is_set():
            run(skel.progs.hash_delete_odd)
            hash_map.update_batch(odd)

    for batched in (True, False):
        if not batched:  # force the GET_NEXT_KEY walk
            hash_map._batch_unsupported.add(Cmd.MAP_LOOKUP_BATCH)
        hash_map.update_batch({k: stats(count=k, total=2 * k) for k in range(1000)})
        stop = threading.Event()
        worker = threading.Thread(target=delete_and_refill, args=(stop,))
        worker.start()
        try:
            for _ in range(20):
                items = hash_map.items()
                keys = [k for k, _ in items]
                assert len(keys) == len(set(keys))
                assert set(range(0, 1000, 2)) <= set(keys)
                assert all(v.count == k and v.total == 2 * k for k, v in items)
        finally:
            stop.set()
            worker.join()


def test_threads_sharing_a_map_each_see_their_own_values(skel: Any) -> None:
    array = skel.maps.array
    errors: list[str] = []

    def worker(index: int) -> None:
        for i in range(3000):
            array[index] = index * 1_000_000 + i
            got = array[index]
            if got != index * 1_000_000 + i:
                errors.append(f"thread {index} read {got} at {i}")
                return

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often (shared buffers fail here)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_batches(skel: Any) -> None:
    hash_map = skel.maps.hash
    stats = hash_map.value_type
    hash_map.update_batch((k, stats(count=k, total=k * k)) for k in range(500))
    skel.bss.key_in = 321
    run(skel.progs.hash_get)
    assert skel.bss.found == 1 and skel.bss.results[1] == 321 * 321
    assert hash_map.delete_batch([1, 2, 3, 1000]) == 3
    assert len(hash_map) == 497
    popped = dict(hash_map.pop_items())
    assert len(popped) == 497 and popped[499].total == 499 * 499
    assert hash_map.items() == []
    hash_map.update_batch({7: stats(count=1)})
    hash_map.clear()
    assert len(hash_map) == 0


def test_batches_fall_back_one_element_at_a_time(skel: Any) -> None:
    """What a kernel without the batch commands gets: the same results."""
    hash_map = skel.maps.hash
    stats = hash_map.value_type
    hash_map._batch_unsupported.update(
        {
            Cmd.MAP_LOOKUP_BATCH,
            Cmd.MAP_LOOKUP_AND_DELETE_BATCH,
            Cmd.MAP_UPDATE_BATCH,
            Cmd.MAP_DELETE_BATCH,
        }
    )
    hash_map.update_batch({k: stats(count=k, total=k + 1) for k in range(50)})
    skel.bss.key_in = 49
    run(skel.progs.hash_get)
    assert skel.bss.found == 1 and skel.bss.results[1] == 50
    assert hash_map.delete_batch([0, 1, 99]) == 2
    popped = hash_map.pop_items()
    assert sorted(k for k, _ in popped) == list(range(2, 50))
    assert hash_map.keys() == []


def test_lru_hash(skel: Any) -> None:
    lru = skel.maps.lru
    lru[5] = 10
    skel.bss.key_in, skel.bss.value_in = 5, 3
    run(skel.progs.lru_add)
    assert lru[5] == 13
    for key in range(200):  # beyond max_entries: the least recently used go
        lru[key + 100] = key
    assert 0 < len(lru) <= lru.max_entries


def test_array(skel: Any) -> None:
    array = skel.maps.array
    assert len(array) == 16
    array[3] = 42
    skel.bss.key_in = 3
    run(skel.progs.array_get)
    assert skel.bss.results[0] == 42
    skel.bss.value_in = 8
    run(skel.progs.array_add)
    assert array[3] == 50
    assert array.items()[3] == (3, 50) and len(array.items()) == 16
    with pytest.raises(KeyError):
        array[16]
    with pytest.raises(MapError):
        del array[3]
    array.clear()
    assert set(array.values()) == {0}


def test_log2_histogram_of_a_map(skel: Any) -> None:
    counts = {3: 5, 4: 12, 5: 7, 7: 1}  # the kernel adds them up, slot by slot
    for slot, count in counts.items():
        skel.bss.key_in = slot
        for _ in range(count):
            skel.bss.value_in = 1
            run(skel.progs.array_add)
    out = io.StringIO()
    skel.maps.array.print_log2_hist("usecs", file=out)
    expected = [counts.get(slot, 0) for slot in range(16)]
    assert out.getvalue() == format_log2_hist(expected, "usecs")
    assert "        8 -> 15         : 12       |" in out.getvalue()


@pytest.mark.parametrize("name", ["pc_hash", "lru_pc_hash"])
def test_percpu_hash(skel: Any, name: str) -> None:
    cpus = possible_cpus()
    m = getattr(skel.maps, name)
    add, get = getattr(skel.progs, f"{name}_add"), getattr(skel.progs, f"{name}_get")
    skel.bss.key_in = 1
    for cpu in range(cpus):
        skel.bss.value_in = 10 + cpu
        run(add, cpu)
    values = m[1]
    assert isinstance(values, PerCpuValues)
    assert values == [10 + cpu for cpu in range(cpus)]
    assert values.sum() == sum(10 + cpu for cpu in range(cpus))
    assert values.max() == 10 + cpus - 1

    m[2] = [100 * (cpu + 1) for cpu in range(cpus)]
    skel.bss.key_in = 2
    for cpu in range(cpus):
        run(get, cpu)
        assert skel.bss.results[0] == 100 * (cpu + 1)
    m[3] = 4  # one value for every CPU
    assert m[3] == [4] * cpus
    with pytest.raises(MapError, match="per-CPU values"):
        m[4] = [1] * (cpus + 1)
    assert dict(m.items())[2].sum() == 100 * cpus * (cpus + 1) // 2


def test_percpu_array_of_structs(skel: Any) -> None:
    cpus = possible_cpus()
    pc_array = skel.maps.pc_array
    stats = pc_array.value_type
    skel.bss.key_in = 0
    for cpu in range(cpus):
        skel.bss.value_in = cpu + 1
        run(skel.progs.pc_array_add, cpu)
        run(skel.progs.pc_array_add, cpu)
    per_cpu = pc_array[0]
    assert [(s.count, s.total) for s in per_cpu] == [
        (2, 2 * (c + 1)) for c in range(cpus)
    ]
    total = per_cpu.sum()
    assert isinstance(total, stats)
    assert (total.count, total.total) == (
        2 * cpus,
        sum(2 * (c + 1) for c in range(cpus)),
    )
    pc_array[1] = [stats(count=c, total=7) for c in range(cpus)]
    skel.bss.key_in = 1
    run(skel.progs.pc_array_get, cpus - 1)
    assert list(skel.bss.results)[:2] == [cpus - 1, 7]
    assert len(pc_array) == 4


def test_lpm_trie(skel: Any) -> None:
    lpm = skel.maps.lpm
    key_type = lpm.key_type
    lpm[ipaddress.ip_network("10.0.0.0/8")] = 1
    lpm[(16, bytes([10, 1, 0, 0]))] = 2
    lpm[key_type(prefixlen=24, addr=(192, 168, 1, 0))] = 3

    def match(address: str) -> int | None:
        skel.bss.lpm_in.prefixlen = 32
        skel.bss.lpm_in.addr[:] = list(ipaddress.ip_address(address).packed)
        run(skel.progs.lpm_get)
        return int(skel.bss.results[0]) if skel.bss.found else None

    assert match("10.1.2.3") == 2
    assert match("10.2.0.1") == 1
    assert match("192.168.1.77") == 3
    assert match("11.0.0.1") is None

    skel.bss.lpm_in.prefixlen = 12
    skel.bss.lpm_in.addr[:] = [172, 16, 0, 0]
    skel.bss.value_in = 4
    run(skel.progs.lpm_add)
    assert lpm[ipaddress.ip_network("172.16.0.0/12")] == 4
    prefixes = sorted((k.prefixlen, bytes(k.addr)) for k in lpm)
    assert (12, bytes([172, 16, 0, 0])) in prefixes and len(prefixes) == 4
    del lpm[ipaddress.ip_network("10.1.0.0/16")]
    assert match("10.1.2.3") == 1
    with pytest.raises(MapError, match="bytes of data"):
        lpm[(8, b"\x0a")] = 5


@pytest.mark.parametrize(
    ("name", "last_in_first_out"), [("queue", False), ("stack", True)]
)
def test_queue_and_stack(skel: Any, name: str, last_in_first_out: bool) -> None:
    m = getattr(skel.maps, name)
    push, pop = getattr(skel.progs, f"{name}_push"), getattr(skel.progs, f"{name}_pop")
    for value in (1, 2, 3):
        m.push(value)
    run(pop)
    assert skel.bss.found == 1 and skel.bss.results[0] == (
        3 if last_in_first_out else 1
    )
    assert m.peek() == 2
    assert m.pop() == 2
    for value in (7, 8):
        skel.bss.value_in = value
        run(push)
    assert m.drain() == ([8, 7, 1] if last_in_first_out else [3, 7, 8])
    assert m.pop() is None and m.peek() is None
    run(pop)
    assert skel.bss.found == 0
    for value in range(m.max_entries):
        m.push(value)
    with pytest.raises(MapError) as info:
        m.push(99)
    assert info.value.errno == errno.E2BIG
    m.push(99, overwrite=True)
    assert 99 in m.drain()
    with pytest.raises(MapError, match="has no keys"):
        m[0]


def test_bloom_filter(skeleton_module: Callable[[str], ModuleType]) -> None:
    module = skeleton_module("maps_bloom")
    if not has_map_type(MapType.BLOOM_FILTER):
        with pytest.raises(LoadError) as info:
            module.MapsBloomBpf.open_and_load()
        assert str(info.value).startswith("create map bloom: ")
        assert "bloom filter maps need Linux 5.16+" in str(info.value)
        return
    with module.MapsBloomBpf.open_and_load() as skel:
        check_bloom_filter(skel)


def check_bloom_filter(skel: Any) -> None:
    bloom = skel.maps.bloom
    for value in range(100, 120):
        bloom.push(value)
    skel.bss.key_in = 105
    run(skel.progs.bloom_check)
    assert skel.bss.found == 1
    skel.bss.key_in = 7
    run(skel.progs.bloom_push)
    assert 7 in bloom
    assert all(value in bloom for value in range(100, 120))
    # never pushed: "certainly not", bar the odd false positive
    assert sum(value in bloom for value in range(5000, 5050)) < 5
    with pytest.raises(MapError, match="cannot remove"):
        bloom.clear()


def test_spin_lock_flag(skel: Any) -> None:
    locked = skel.maps.locked
    value = locked.value_type()
    value.value = 5
    locked.update(1, value, UpdateFlag.LOCK)
    skel.bss.key_in, skel.bss.value_in = 1, 3
    assert skel.progs.locked_add.test_run(data=bytes(64)).retval == 0
    assert locked.lookup(1, flags=UpdateFlag.LOCK).value == 8


def test_setters_before_load_reach_the_kernel(
    skeleton_module: Callable[[str], ModuleType],
) -> None:
    module = skeleton_module("maps_kinds")
    with module.MapsKindsBpf.open() as skel:
        skel.maps.hash.set_max_entries(4096)
        skel.maps.lru.set_type(skel.maps.hash.type)
        skel.maps.array.set_value_size(16)
        skel.maps.array.value_type = None  # bytes
        skel.load()
        assert skel.maps.hash.info().max_entries == 4096
        assert skel.maps.lru.info().type == skel.maps.hash.type
        assert skel.maps.array.info().value_size == 16
        skel.maps.array[1] = b"x" * 16
        assert skel.maps.array[1] == b"x" * 16
        with pytest.raises(MapError, match="before load"):
            skel.maps.hash.set_max_entries(1)
