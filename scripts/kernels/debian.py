"""Debian kernel packages for the VM matrix: found, downloaded and unpacked through a
private apt configuration under ``build/kernels/apt`` (the host's apt state is never
touched).  The mirror URIs come from the host's own apt sources, so no host name is
written anywhere in the repository.

A kernel is named by the Debian suites whose newest ``linux-image-amd64`` it is; it is
unpacked with ``dpkg-deb -x`` into ``build/kernels/NAME/root`` (``boot/vmlinuz-*``,
``boot/config-*``, ``lib/modules/*``), its modules indexed with ``depmod``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

# name -> the suites whose newest linux-image-amd64 it is (security updates included).
SUITES: dict[str, tuple[str, ...]] = {
    "5.10": ("bullseye", "bullseye-security"),
    "6.1": ("bookworm", "bookworm-security"),
    "6.12": ("trixie", "trixie-security"),
    "sid": ("sid",),
}
META_PACKAGE = "linux-image-amd64"
LISTS_MAX_AGE = 24 * 3600  # refresh the package lists at most once a day
APT_SOURCES = Path("/etc/apt/sources.list")
APT_SOURCE_PARTS = Path("/etc/apt/sources.list.d")


class KernelError(RuntimeError):
    """A kernel could not be found, downloaded or unpacked."""


@dataclass(frozen=True)
class Kernel:
    """An unpacked kernel package."""

    name: str
    package: str  # e.g. linux-image-6.1.0-40-amd64
    version: str  # Debian version, e.g. 6.1.153-1
    release: str  # uname -r, e.g. 6.1.0-40-amd64
    root: Path

    @property
    def image(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.release}"

    @property
    def config(self) -> Path:
        return self.root / "boot" / f"config-{self.release}"

    def config_value(self, option: str) -> str | None:
        """``CONFIG_LSM`` → its value in the package's kernel config, quotes removed."""
        for line in self.config.read_text().splitlines():
            if line.startswith(f"{option}="):
                return line.split("=", 1)[1].strip('"')
        return None


# -- the host's mirrors ----------------------------------------------------------------------


def host_codename(os_release: Path = Path("/etc/os-release")) -> str:
    for line in os_release.read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    raise KernelError(f"{os_release} names no VERSION_CODENAME: not a Debian host?")


def apt_source_files() -> list[Path]:
    files = [APT_SOURCES] if APT_SOURCES.is_file() else []
    if APT_SOURCE_PARTS.is_dir():
        files += sorted(APT_SOURCE_PARTS.glob("*.list"))
        files += sorted(APT_SOURCE_PARTS.glob("*.sources"))
    return files


def source_entries(files: Sequence[Path]) -> list[tuple[str, list[str]]]:
    """(URI, suites) of every enabled ``deb`` entry, one-line and deb822 formats."""
    entries: list[tuple[str, list[str]]] = []
    for path in files:
        text = path.read_text()
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.startswith(("#", " ")):
                        key, value = line.split(":", 1)
                        fields[key.strip().lower()] = value.strip()
                enabled = fields.get("enabled", "yes").lower() != "no"
                if "deb" in fields.get("types", "").split() and enabled:
                    for uri in fields.get("uris", "").split():
                        entries.append((uri, fields.get("suites", "").split()))
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line).split()
                if len(words) >= 3 and words[0] == "deb":
                    entries.append((words[1], [words[2]]))
    return entries


def host_mirrors(
    codename: str, entries: Sequence[tuple[str, list[str]]]
) -> tuple[str, str | None]:
    """The Debian archive URI serving suite ``codename`` and the security archive URI
    serving ``codename-security`` (None when no source has it)."""
    archive = next((uri for uri, suites in entries if codename in suites), None)
    security = next(
        (uri for uri, suites in entries if f"{codename}-security" in suites), None
    )
    if archive is None:
        raise KernelError(f"no apt source for suite {codename!r} in /etc/apt")
    return archive, security


# -- the private apt configuration --------------------------------------------------------


class PrivateApt:
    """apt-get and apt-cache on a state of their own under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sources = root / "sources.list"

    def options(self) -> list[str]:
        state, cache = self.root / "state", self.root / "cache"
        settings = {
            "Dir::Etc::SourceList": self.sources,
            "Dir::Etc::SourceParts": "/dev/null",
            "Dir::Etc::Preferences": "/dev/null",
            "Dir::Etc::PreferencesParts": "/dev/null",
            "Dir::State": state,
            "Dir::State::status": "/dev/null",
            "Dir::Cache": cache,
            "APT::Architectures::": "amd64",
            "Acquire::Languages": "none",
            "APT::Sandbox::User": "root",
            "Debug::NoLocking": "1",
        }
        return [arg for k, v in settings.items() for arg in ("-o", f"{k}={v}")]

    def _run(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        cmd = [tool, *self.options(), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
        if proc.returncode != 0:
            raise KernelError(f"{tool} {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def configure(self) -> None:
        """Write sources.list for every suite of ``SUITES`` from the host's mirrors."""
        archive, security = host_mirrors(
            host_codename(), source_entries(apt_source_files())
        )
        lines = []
        for suite in sorted({s for suites in SUITES.values() for s in suites}):
            if suite.endswith("-security"):
                if security is not None:
                    lines.append(f"deb {security} {suite} main")
            else:
                lines.append(f"deb {archive} {suite} main")
        text = "\n".join(lines) + "\n"
        for sub in ("state/lists/partial", "cache/archives/partial"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if not self.sources.is_file() or self.sources.read_text() != text:
            self.sources.write_text(text)
            self.stamp().unlink(missing_ok=True)

    def stamp(self) -> Path:
        return self.root / "state" / "updated"

    def update(self, force: bool = False) -> None:
        stamp = self.stamp()
        fresh = stamp.is_file() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE
        if fresh and not force:
            return
        self._run("apt-get", "-qq", "update")
        stamp.touch()

    def newest(self, suites: tuple[str, ...]) -> tuple[str, str]:
        """(image package, version) of the newest ``linux-image-amd64`` in ``suites``."""
        best: str | None = None
        for line in self._run("apt-cache", "madison", META_PACKAGE).splitlines():
            _, version, where = (field.strip() for field in line.split("|"))
            suite = where.split()[1].split("/")[0]
            if suite in suites and (best is None or _version_gt(version, best)):
                best = version
        if best is None:
            raise KernelError(f"no {META_PACKAGE} in {', '.join(suites)}")
        show = self._run("apt-cache", "show", f"{META_PACKAGE}={best}")
        match = re.search(r"^Depends:.*?\b(linux-image-[^\s,(]+)", show, re.M)
        if match is None:
            raise KernelError(f"{META_PACKAGE}={best} depends on no linux-image")
        return match.group(1), best

    def parts(self, package: str, version: str) -> list[str]:
        """The image package and the packages of the same kernel it depends on: sid
        splits a kernel into linux-image-X (empty), linux-binary-X (vmlinuz),
        linux-base-X (config) and linux-modules-X."""
        abi = re.escape(package.removeprefix("linux-image-"))
        show = self._run("apt-cache", "show", f"{package}={version}")
        depends = re.search(r"^Depends:(.*)$", show, re.M)
        found = re.findall(
            rf"\b(linux-[a-z]+-{abi}) \(= ", depends[1] if depends else ""
        )
        return [package, *dict.fromkeys(found)]

    def download(self, packages: Sequence[str], version: str, dest: Path) -> list[Path]:
        pinned = [f"{package}={version}" for package in packages]
        self._run("apt-get", "-qq", "download", *pinned, cwd=dest)
        return sorted(dest.glob("*.deb"))


def _version_gt(a: str, b: str) -> bool:
    return (
        subprocess.run(
            ["dpkg", "--compare-versions", a, "gt", b], check=False
        ).returncode
        == 0
    )


# -- kernels under build/kernels ----------------------------------------------------------


class KernelStore:
    """``build/kernels``: the apt state and one directory per kernel name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.apt = PrivateApt(root / "apt")

    def _meta(self, name: str) -> Path:
        return self.root / name / "kernel.json"

    def cached(self, name: str) -> Kernel | None:
        meta = self._meta(name)
        if not meta.is_file():
            return None
        fields = json.loads(meta.read_text())
        kernel = Kernel(**fields, root=(self.root / name / "root").resolve())
        return kernel if kernel.image.is_file() else None

    def get(self, name: str, refresh: bool = False) -> Kernel:
        """The kernel ``name``: the cached one unless ``refresh`` asks for the newest
        package (then downloaded only if it changed)."""
        if name not in SUITES:
            raise KernelError(f"unknown kernel {name!r}; known: {', '.join(SUITES)}")
        cached = self.cached(name)
        if cached is not None and not refresh:
            return cached
        self.apt.configure()
        self.apt.update()
        package, version = self.apt.newest(SUITES[name])
        if cached is not None and (cached.package, cached.version) == (
            package,
            version,
        ):
            return cached
        return self._unpack(name, package, version)

    def _unpack(self, name: str, package: str, version: str) -> Kernel:
        print(f"kernels: downloading {package} {version}", flush=True)
        directory = self.root / name
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".fetch-") as tmp:
            staging = Path(tmp)
            debs = self.apt.download(self.apt.parts(package, version), version, staging)
            root = staging / "root"
            for deb in debs:
                subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            release = _release(root)
            _index_modules(root, release)
            final = directory / "root"
            shutil.rmtree(final, ignore_errors=True)
            root.rename(final)
        kernel = Kernel(name, package, version, release, final.resolve())
        fields = {k: v for k, v in asdict(kernel).items() if k != "root"}
        self._meta(name).write_text(json.dumps(fields, indent=1) + "\n")
        return kernel


def _release(root: Path) -> str:
    """uname -r of the unpacked kernel.  Its image and config are in ``boot/`` (up to
    trixie) or in ``usr/lib/modules/RELEASE/`` (sid): the latter get ``boot/`` links."""
    images = sorted((root / "boot").glob("vmlinuz-*"))
    if images:
        return images[0].name.removeprefix("vmlinuz-")
    images = sorted((root / "usr" / "lib" / "modules").glob("*/vmlinuz"))
    if len(images) != 1:
        raise KernelError(f"expected one vmlinuz in the packages, got {images}")
    release = images[0].parent.name
    (root / "boot").mkdir(exist_ok=True)
    for name in ("vmlinuz", "config", "System.map"):
        if (images[0].parent / name).is_file():
            link = root / "boot" / f"{name}-{release}"
            link.symlink_to(f"../usr/lib/modules/{release}/{name}")
    return release


def _index_modules(root: Path, release: str) -> None:
    """``depmod`` the package's modules (its postinst would have); a package that ships
    them under ``usr/lib`` gets a ``lib`` link, as on a merged-/usr system."""
    if not (root / "lib").exists() and (root / "usr" / "lib" / "modules").is_dir():
        (root / "lib").symlink_to("usr/lib")
    depmod = shutil.which("depmod") or "/usr/sbin/depmod"
    subprocess.run([depmod, "-a", "-b", str(root), release], check=True)
