#!/usr/bin/env bash
# Runs a command of this checkout against a newer Mesa's llvmpipe than the machine has: Debian 13
# (trixie) with mesa-vulkan-drivers from trixie-backports (26.1 in December 2026), in a chroot
# built once with debootstrap (about 850 MB, a few minutes; needs root and Debian's mirror).
# The checkout is bind-mounted at /repo inside, so build here first (npm run build); the
# command runs there with trixie's Node 20.
#   sudo bash bench/newer-mesa.sh 'PROTT5_ADAPTER=llvmpipe node build/bench/matmul-lab.js --m 128'
# PROTT5_NEWER_MESA_ROOT names the chroot's folder (default ~/.cache/prott5-trixie-root).
# Why: Mesa after 25.0 loads a storage buffer at per-lane addresses with one masked gather
# where 25.0 runs a bounds-checked scalar load per lane; bench/RESULTS.md has what it changes.
set -euo pipefail
root="${PROTT5_NEWER_MESA_ROOT:-$HOME/.cache/prott5-trixie-root}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:?usage: bench/newer-mesa.sh 'command run in the checkout'}"
if [ ! -x "$root/usr/bin/node" ]; then
  command -v debootstrap >/dev/null || apt-get install -y debootstrap
  debootstrap --variant=minbase --include=ca-certificates trixie "$root" http://deb.debian.org/debian
  echo 'deb http://deb.debian.org/debian trixie-backports main' > "$root/etc/apt/sources.list.d/backports.list"
  chroot "$root" apt-get update
  chroot "$root" apt-get install -y -t trixie-backports mesa-vulkan-drivers
  chroot "$root" apt-get install -y nodejs libvulkan1
fi
mkdir -p "$root/repo" "$root/proc" "$root/dev" "$root/sys"
mountpoint -q "$root/repo" || mount --bind "$repo" "$root/repo"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
mountpoint -q "$root/sys" || mount --bind /sys "$root/sys"
echo "newer-mesa: $(chroot "$root" dpkg-query -W -f '${Version}' mesa-vulkan-drivers) in $root"
chroot "$root" sh -c "cd /repo && $cmd"
