#!/usr/bin/env bash
# Sets up prott5-webgpu on a fresh Debian/Ubuntu machine: the Vulkan loader and the CPU WebGPU
# drivers when they are missing (SwiftShader, from Debian's chromium package; Mesa's llvmpipe,
# 4x faster, where the distribution has one recent enough for Dawn: Mesa 24 or later, which
# Debian 12 has in bookworm-backports), then the npm dependencies and the build. Safe to run
# again: it installs only what is missing. PROTT5_SETUP_LLVMPIPE=0 skips llvmpipe.
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

# llvmpipe: Dawn refuses Mesa before 24 (Debian 12's own 22.3); the engine never asks an old one.
lvp_ok() {
  for f in /usr/share/vulkan/icd.d/lvp_icd*.json /etc/vulkan/icd.d/lvp_icd*.json; do
    [ -e "$f" ] && grep -Eq '"api_version" *: *"(1\.([3-9]|[1-9][0-9])|[2-9])\.' "$f" && return 0
  done
  return 1
}
if [ "${PROTT5_SETUP_LLVMPIPE:-1}" != 0 ] && ! lvp_ok && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; command -v sudo >/dev/null 2>&1 || SUDO=none; fi
  . /etc/os-release 2>/dev/null || true
  if [ "$SUDO" = none ]; then
    echo "setup: skipping Mesa's llvmpipe (faster CPU driver): needs root or sudo" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    major=$(apt-cache policy mesa-vulkan-drivers 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([0-9]*\).*/\2/p')
    if [ -n "$major" ] && [ "$major" -ge 24 ] 2>/dev/null; then
      echo "setup: installing mesa-vulkan-drivers $major.x (Mesa's llvmpipe, the faster CPU WebGPU driver)" >&2
      $SUDO apt-get install -y -qq mesa-vulkan-drivers >/dev/null
    elif [ "${VERSION_CODENAME:-}" = bookworm ]; then
      echo "setup: Debian 12's Mesa (${major:-none}) is too old for Dawn; adding bookworm-backports to apt (/etc/apt/sources.list.d/bookworm-backports.sources) and installing mesa-vulkan-drivers from it (Mesa's llvmpipe, the faster CPU WebGPU driver). PROTT5_SETUP_LLVMPIPE=0 skips this." >&2
      if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
      fi
      $SUDO apt-get update -qq
      $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
    else
      echo "setup: no Mesa 24 or later for this distribution: WebGPU uses SwiftShader on the CPU (slower)" >&2
    fi
  fi
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run -s build
echo "setup: done" >&2
