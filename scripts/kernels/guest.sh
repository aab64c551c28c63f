#!/usr/bin/env bash
# Runs inside a scripts/kernels VM (virtme-ng --exec), as root, in the repository, on
# the host's root filesystem shared read-only (virtme-ng lays writable tmpfs overlays
# on /tmp, /etc, /var, /usr...).  Prepares what a Debian system would have, then runs
# the command; `pytest ...` becomes the project's pytest on the host-built objects.
#
# Usage: guest.sh KERNEL_ROOT CACHE_DIR CACHED_PATHS COMMAND [ARG...]
set -euo pipefail
kernel_root=$1
cache_dir=$2
cached_paths=$3
shift 3

# The root filesystem is 9p without caching: every stat is a round trip to the host,
# which under TCG makes Python's start-up take minutes.  The same export, mounted again
# (vng --rodir at /run/hostfs) with cache=loose, serves the paths Python reads: the
# repository, its .venv, the standard library (CACHED_PATHS, colon-separated).
hostfs=/run/hostfs
tag=$(awk -v dir=$hostfs '$2 == dir {print $1}' /proc/mounts)
umount $hostfs
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000,access=any \
    "$tag" $hostfs
IFS=: read -ra paths <<< "$cached_paths"
for path in "${paths[@]}"; do
    mount --bind "$hostfs$path" "$path"
done

# virtme-ng mounts tracefs and cgroup2, not bpffs.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

# The kernel config where the runtime and libbpf look for it (Debian installs it in
# /boot; the host's /boot holds the host kernel's).
config=/boot/config-$(uname -r)
if [ ! -e "$config" ]; then
    mount -t tmpfs boot /boot
    cp "$kernel_root/boot/config-$(uname -r)" "$config"
fi

# Nothing may write into the read-only repository or home: caches go to /tmp.
export PYTHONDONTWRITEBYTECODE=1 TMPDIR=/tmp XDG_CACHE_HOME=/tmp/cache \
    SKELGEN_CACHE_DIR=/tmp/skelgen-cache

if [ "${1:-}" = pytest ]; then
    shift
    set -- .venv/bin/python -m pytest -p no:cacheprovider --basetemp=/tmp/pytest \
        --build-cache "$cache_dir" --build-cache-only "$@"
fi
echo "guest: $(uname -r), $(nproc) CPUs: $*" >&2
exec "$@"
