#!/usr/bin/env bash
# Sets up prott5-webgpu on a fresh Debian/Ubuntu machine: the Vulkan loader and a CPU
# WebGPU driver (SwiftShader, from Debian's chromium package) when they are missing, then the
# npm dependencies and the build. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then need+=(libvulkan1); fi
if [ ! -e /usr/lib/chromium/vk_swiftshader_icd.json ] || [ ! -x /usr/bin/chromium ]; then need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (Vulkan loader, SwiftShader CPU driver, headless Chromium)" >&2
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else echo "setup: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: no apt-get here; install a Vulkan loader and a WebGPU-capable driver (or a GPU) by hand" >&2
    exit 1
  fi
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run -s build
echo "setup: done" >&2
