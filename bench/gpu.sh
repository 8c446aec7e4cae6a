#!/usr/bin/env bash
# npm run bench:gpu [-- --allow-cpu] — the GPU check in one command, for a machine with an
# NVIDIA or AMD GPU: installs what is missing (Vulkan loader, the GPU's Vulkan driver manifest,
# node modules, the build), saying what before it does it, then runs build/bench/gpu.js under
# an 8-minute timeout. Exit 0: figures printed; 1: a wrong result (or a crash); 2: no GPU;
# 124: timed out. --allow-cpu runs on a CPU driver (llvmpipe) where there is no GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
say() { echo "bench:gpu: $*"; }
allow_cpu=0
for a in "$@"; do [ "$a" = "--allow-cpu" ] && allow_cpu=1; done
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo -n"

nvidia=0; amd=0
ls /dev/nvidia0 /dev/nvidiactl >/dev/null 2>&1 && nvidia=1
for n in /sys/class/drm/renderD*/device/vendor; do [ -r "$n" ] && [ "$(cat "$n")" = "0x1002" ] && amd=1; done
if [ $nvidia = 0 ] && [ $amd = 0 ] && [ $allow_cpu = 0 ]; then
  say "no NVIDIA or AMD GPU device node here (/dev/nvidia0, /dev/dri/renderD* of vendor 0x1002): nothing to measure."
  say "run it with --allow-cpu to check it on the CPU driver (llvmpipe)."
  exit 2
fi

icd_dirs="/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d"
has_icd() { for d in $icd_dirs; do ls "$d"/$1 >/dev/null 2>&1 && return 0; done; return 1; }
pkgs=()
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || pkgs+=(libvulkan1)
[ $amd = 1 ] && ! has_icd 'radeon_icd*.json' && pkgs+=(mesa-vulkan-drivers)
if [ ${#pkgs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    say "installing ${pkgs[*]} with apt-get (the Vulkan loader / driver Dawn needs)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" || say "apt-get failed; going on (the run below says what is missing)"
  else
    say "missing ${pkgs[*]} and no apt-get: install them with the system's package manager"
  fi
fi
if [ $nvidia = 1 ] && ! has_icd 'nvidia_icd*.json'; then
  if ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia.so.0'; then
    say "the NVIDIA driver has no Vulkan manifest: writing /etc/vulkan/icd.d/nvidia_icd.json (library libGLX_nvidia.so.0)"
    $SUDO mkdir -p /etc/vulkan/icd.d && echo '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3.0"}}' | $SUDO tee /etc/vulkan/icd.d/nvidia_icd.json >/dev/null
  else
    say "the NVIDIA driver's Vulkan library (libGLX_nvidia.so.0) is not here: in a container, start it with NVIDIA_DRIVER_CAPABILITIES=all (the graphics capability mounts it); on a host, install the driver's Vulkan part (Debian: nvidia-vulkan-icd of the same version as the kernel driver)"
  fi
fi
if [ ! -e node_modules/webgpu ]; then
  say "node_modules lacks webgpu: running npm ci"
  npm ci --no-audit --no-fund || { say "npm ci failed"; exit 1; }
fi
if [ ! -f build/bench/gpu.js ] || [ -n "$(find bench src kernels shaders -newer build/bench/gpu.js -type f 2>/dev/null | head -1)" ]; then
  say "building"
  npm run -s build || { say "the build failed"; exit 1; }
fi
timeout --kill-after=10 480 node build/bench/gpu.js "$@"
rc=$?
[ $rc = 124 ] && say "timed out after 8 minutes (the figures printed so far stand)"
exit $rc
