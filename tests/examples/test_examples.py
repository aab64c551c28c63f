"""Every example of ``examples/``, built by ``skelgen compile`` with no bpftool on PATH
and run as ``examples/run.py NAME`` for a bounded time, shows its effect: the exec,
open, signal or connection the test makes appears in its output, the packets are
counted or dropped, the histogram has a non-empty bucket.

Where this kernel cannot run an example (no kprobes; fentry, fexit and LSM programs
refused with EPERM), a probe decides so, and the example must fail with one clear
line saying why; the kernel matrix shows their effect
(``make test-kernels TESTS=tests/examples KERNELS=6.1``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from build_cache import EXAMPLES, BuildCache, example_names
from conftest import import_file, require
from example_runner import Running, command, run
from skelgen_runtime import BPFError
from skelgen_runtime.features.links import has_tcx_links
from skelgen_runtime.kernel.probes import ProbeUnsupportedError, open_kprobe

pytestmark = pytest.mark.usefixtures("root_only")

SkelDir = Callable[[str], Path]


@pytest.fixture(scope="session")
def skel_dir(build_cache: BuildCache) -> SkelDir:
    """The directory of ``NAME_skel.py``, made by ``skelgen compile``."""
    return build_cache.example_skeleton


def test_every_example_is_tested() -> None:
    tested = {name.removeprefix("test_") for name in globals()}
    assert len(example_names()) == 16
    assert set(example_names()) <= tested


def assert_one_line_error(
    result: tuple[int | None, str], name: str, *needles: str
) -> None:
    returncode, stderr = result
    assert returncode == 1, stderr
    assert "Traceback" not in stderr
    line = stderr.strip()
    assert "\n" not in line and line.startswith(f"{name}: "), stderr
    for needle in needles:
        assert needle in line


# -- what this kernel refuses, decided by probes -----------------------------------------


def kprobes_supported() -> bool:
    try:
        os.close(open_kprobe("do_unlinkat").perf_fd)
    except ProbeUnsupportedError:
        return False
    return True


def load_refusal(skel_dir: Path, name: str) -> str | None:
    """The error loading the example's object gives in this process, or None."""
    module = import_file(skel_dir / f"{name}_skel.py", f"probe_{name}_skel")
    skeleton = next(cls for attr, cls in vars(module).items() if attr.endswith("Bpf"))
    try:
        skeleton.open_and_load().destroy()
    except BPFError as exc:
        return str(exc)
    return None


@pytest.fixture
def scratch_file() -> Iterator[Path]:
    """A file whose unlink the unlink tracers must report."""
    with tempfile.TemporaryDirectory(prefix="skelgen-example-") as tmp:
        path = Path(tmp) / f"unlink-me-{os.getpid()}"
        path.write_text("x")
        yield path


# -- libbpf-bootstrap's set ---------------------------------------------------------------


def test_minimal(skel_dir: SkelDir) -> None:
    proc = run("minimal", skel_dir("minimal"))
    assert proc.returncode == 0, proc.stderr
    assert "received 5 events" in proc.stdout
    assert "counter (read live from skel.bss): 5" in proc.stdout


def test_bootstrap(skel_dir: SkelDir) -> None:
    with Running("bootstrap", skel_dir("bootstrap")) as app:
        app.wait_for("^TIME ")
        child = subprocess.run(["sh", "-c", "exit 3"], check=False)
        assert child.returncode == 3
        parent = os.getpid()
        app.wait_for(rf" EXEC sh +\d+ +{parent} +/(usr/)?bin/sh$")
        app.wait_for(rf" EXIT sh +\d+ +{parent} +\[3\] \(\d+ms\)$")
        assert app.stop() == 0, app.stderr


def test_uprobe(skel_dir: SkelDir) -> None:
    proc = run("uprobe", skel_dir("uprobe"))
    assert proc.returncode == 0, proc.stderr
    assert "abs(-42) = 42: the uprobe saw -42, the uretprobe 42" in proc.stdout
    assert "calls seen: 3" in proc.stdout


def test_kprobe(skel_dir: SkelDir, scratch_file: Path) -> None:
    with Running("kprobe", skel_dir("kprobe")) as app:
        if not kprobes_supported():
            app.proc.wait(timeout=60)
            result = (app.stop(), app.stderr)
            assert_one_line_error(result, "kprobe", "no kprobe support")
            return
        app.wait_for("^Tracing ")
        scratch_file.unlink()
        app.wait_for(
            rf"^pid {os.getpid()} +do_unlinkat {re.escape(str(scratch_file))}$"
        )
        app.wait_for(rf"^pid {os.getpid()} +do_unlinkat returned 0$")
        assert app.stop() == 0, app.stderr


def test_fentry(skel_dir: SkelDir, scratch_file: Path) -> None:
    directory = skel_dir("fentry")
    refusal = load_refusal(directory, "fentry")
    with Running("fentry", directory) as app:
        if refusal is not None:
            app.proc.wait(timeout=60)
            result = (app.stop(), app.stderr)
            assert_one_line_error(result, "fentry", refusal)
            assert "EPERM" in refusal
            return
        app.wait_for("^Tracing ")
        scratch_file.unlink()
        name = re.escape(str(scratch_file))  # the path unlink() was given
        app.wait_for(rf"^fentry pid {os.getpid()} +do_unlinkat {name}$")
        app.wait_for(rf"^fexit  pid {os.getpid()} +do_unlinkat {name} = 0$")
        assert app.stop() == 0, app.stderr


def test_usdt(skel_dir: SkelDir) -> None:
    python = Path(os.path.realpath("/usr/bin/python3"))
    require(
        python.is_file() and b"gc__start" in python.read_bytes(),
        "no /usr/bin/python3 built with USDT probes",
    )
    with Running("usdt", skel_dir("usdt")) as app:
        app.wait_for("^PID ")
        code = "import gc; gc.collect(1); gc.collect(2)"
        child = subprocess.Popen([python, "-S", "-c", code])
        assert child.wait(timeout=30) == 0
        app.wait_for(rf"^{child.pid} +1 +\d+ +\d+\.\d$")
        app.wait_for(rf"^{child.pid} +2 +\d+ +\d+\.\d$")
        assert app.stop() == 0, app.stderr


def test_sockfilter(skel_dir: SkelDir) -> None:
    proc = run("sockfilter", skel_dir("sockfilter"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for size in (42, 52, 62):  # 3 datagrams of 0, 10, 20 bytes
        assert f"UDP 127.0.0.1:4242 -> 127.0.0.1:4242 ({size} bytes)" in lines
    assert lines[-1] == "the raw socket received nothing: the filter kept every packet"


def test_tc(skel_dir: SkelDir) -> None:
    proc = run("tc", skel_dir("tc"))
    if not has_tcx_links() and proc.returncode != 0:  # tcx links: Linux 6.6
        assert_one_line_error((proc.returncode, proc.stderr), "tc", "(tcx ingress lo)")
        return
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:3] == [
        "UDP port 7000: 3 of 3 received",
        "UDP port 7001: 0 of 3 received",
        "dropped by the program: 3",
    ]
    assert "IP protocol 17: 6 packets" in lines


def test_profile(skel_dir: SkelDir) -> None:
    busy = subprocess.Popen([sys.executable, "-S", "-c", "while True: pass"])
    try:
        proc = run("profile", skel_dir("profile"), "-F", "199", "-d", "1.5")
    finally:
        busy.kill()
        busy.wait()
    assert proc.returncode == 0, proc.stderr
    sections = {int(part.split()[0]): part for part in proc.stdout.split("\n\n")[1:]}
    # The busy process, sampled in its interpreter loop: frames with names.
    header, *frames = sections[busy.pid].splitlines()
    match = re.fullmatch(r"\d+ \S+: (\d+) samples, hottest stack (\d+):", header)
    assert match and int(match[1]) > 10 and int(match[2]) > 0, proc.stdout
    assert any(re.fullmatch(r" {4}\w+ \[\S+\]", frame) for frame in frames), frames


def test_ksyscall(skel_dir: SkelDir) -> None:
    with Running("ksyscall", skel_dir("ksyscall")) as app:
        if not kprobes_supported():
            app.proc.wait(timeout=60)
            result = (app.stop(), app.stderr)
            assert_one_line_error(result, "ksyscall", "no kprobe support")
            return
        app.wait_for("^PID ")
        with subprocess.Popen(["sleep", "30"]) as child:
            os.kill(child.pid, signal.SIGTERM)
            child.wait()
        app.wait_for(rf"^{os.getpid()} +\S+ +sends SIGTERM to {child.pid}$")
        assert app.stop() == 0, app.stderr


def test_task_iter(skel_dir: SkelDir) -> None:
    proc = subprocess.Popen(
        command("task_iter", skel_dir("task_iter")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    rows = {tuple(line.split()[:3]) for line in out.splitlines()[1:-1]}
    # the example's own process, whose parent is this one
    assert (str(proc.pid), str(proc.pid), str(os.getpid())) in rows
    assert out.splitlines()[-1] == f"{len(out.splitlines()) - 2} tasks"


def test_lsm(skel_dir: SkelDir) -> None:
    directory = skel_dir("lsm")
    refusal = load_refusal(directory, "lsm")
    proc = run("lsm", directory)
    if refusal is not None:
        assert_one_line_error((proc.returncode, proc.stderr), "lsm", refusal)
        return
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"SIGTERM to protected pid \d+: refused \(EPERM\)", lines[0])
    assert lines[1:] == ["SIGTERM after detach: delivered", "denied by the program: 1"]


# -- bcc's classics ---------------------------------------------------------------------


def test_execsnoop(skel_dir: SkelDir) -> None:
    marker = f"skelgen-marker-{os.getpid()}"
    with Running("execsnoop", skel_dir("execsnoop")) as app:
        app.wait_for("^PCOMM ")
        subprocess.run(["/bin/true", marker, "two"], check=True)
        app.wait_for(rf"^true +\d+ +{os.getpid()} +0 /bin/true {marker} two$")
        assert app.stop() == 0, app.stderr


def test_opensnoop(skel_dir: SkelDir, tmp_path: Path) -> None:
    path = tmp_path / "opened"
    missing = tmp_path / "missing"
    with Running("opensnoop", skel_dir("opensnoop"), "--pid", str(os.getpid())) as app:
        app.wait_for("^PID ")
        with open(path, "w") as f:
            fd = f.fileno()
        with pytest.raises(FileNotFoundError):
            missing.read_bytes()
        app.wait_for(rf"^{os.getpid()} +\S+ +{fd} +0 {re.escape(str(path))}$")
        app.wait_for(rf"^{os.getpid()} +\S+ +-1 +2 {re.escape(str(missing))}$")
        assert app.stop() == 0, app.stderr
    # --pid: nothing of other processes
    assert all(line.split()[0] == str(os.getpid()) for line in app.lines[1:])


def test_runqlat(skel_dir: SkelDir) -> None:
    proc = run("runqlat", skel_dir("runqlat"), "0.5", "2")
    assert proc.returncode == 0, proc.stderr
    # two histograms (the example's own wakeups fill them, at least)
    assert proc.stdout.count("usecs               : count     distribution") == 2
    buckets = re.findall(r"^ +\d+ -> \d+ +: (\d+) +\|", proc.stdout, re.MULTILINE)
    assert buckets and sum(map(int, buckets)) > 0


def test_tcpconnect(skel_dir: SkelDir) -> None:
    with Running("tcpconnect", skel_dir("tcpconnect")) as app:
        app.wait_for("^PID ")
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        app.wait_for(rf"^{os.getpid()} +\S+ +4 +127.0.0.1 +127.0.0.1 +{port}$")
        assert app.stop() == 0, app.stderr


# -- the examples' code -------------------------------------------------------------------


def test_apps_pass_mypy_strict(
    skel_dir: SkelDir, build_cache: BuildCache, tmp_path: Path
) -> None:
    """Each app.py against its generated module, as its users would check it."""
    if not build_cache.compile:
        pytest.skip("a VM checks the kernel, not the types: the host ran this")
    for name in example_names():
        shutil.copy(skel_dir(name) / f"{name}_skel.py", tmp_path)
        shutil.copy(EXAMPLES / name / "app.py", tmp_path / f"{name}_app.py")
    shutil.copy(EXAMPLES / "netns.py", tmp_path)
    shutil.copy(EXAMPLES / "run.py", tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary", "."],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
