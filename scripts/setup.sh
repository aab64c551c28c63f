#!/usr/bin/env bash
# Install what skelgen needs on a fresh Debian machine; a no-op when all is there.
# Used by `make demo`, `make test` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests also use objdump (binutils), setpriv (util-linux), ip (iproute2) and
# <sys/sdt.h> (systemtap-sdt-dev) for a USDT target.
DEBIAN_PACKAGES=(clang-19 llvm-19 bpftool libbpf-dev libelf-dev zlib1g-dev gcc make iproute2 binutils util-linux systemtap-sdt-dev)
PYTHON=${PYTHON:-python3}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The kernel filesystems skelgen uses: tracefs for tracepoint ids, bpffs for pinning.
if ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
    as_root mount -t tracefs tracefs /sys/kernel/tracing || echo "setup: could not mount tracefs" >&2
fi
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
    as_root mount -t bpf bpf /sys/fs/bpf || echo "setup: could not mount bpffs" >&2
fi

# The virtual environment: both distributions editable, plus the dev tools.
stamp=.venv/.skelgen-installed
want=$(cat pyproject.toml runtime/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv"
    if ! "$PYTHON" -m venv .venv; then
        # Debian's own python3 keeps venv in a separate package.
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$PYTHON" -m venv .venv
    fi
    .venv/bin/pip install -q --upgrade pip
    # Editable: a plain path entry each (package-dir in pyproject.toml), which mypy
    # follows.
    .venv/bin/pip install -q -e ./runtime -e '.[dev]'
    # Wheels of the runtime's dependencies: the packaging test installs a built
    # tool into a clean venv without the network.
    rm -rf .venv/wheelhouse
    .venv/bin/pip wheel -q --no-build-isolation -w .venv/wheelhouse ./runtime
    rm .venv/wheelhouse/skelgen_runtime-*.whl
    echo "$want" > "$stamp"
fi
