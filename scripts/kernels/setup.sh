#!/usr/bin/env bash
# Install what the kernel matrix needs on top of scripts/setup.sh; a no-op when all is
# there.  Used by `make test-kernels` and scripts/kernels/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

# qemu boots the kernels; virtme-ng's guest init needs udev (its console) and kmod
# (modprobe in the guest, depmod for the downloaded modules); busybox builds its
# initramfs.  dpkg-deb and apt-get come with every Debian system.
DEBIAN_PACKAGES=(qemu-system-x86 udev kmod busybox-static)
VIRTME_NG=virtme-ng==1.42
VENV=build/vm-venv

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

scripts/setup.sh

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "kernels/setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# virtme-ng in a venv of its own: the project's .venv stays what pyproject.toml says.
if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$VIRTME_NG" ]; then
    echo "kernels/setup: installing $VIRTME_NG into $VENV"
    rm -rf "$VENV"
    .venv/bin/python -m venv "$VENV"
    "$VENV/bin/pip" install -q "$VIRTME_NG"
    echo "$VIRTME_NG" > "$VENV/.installed"
fi
