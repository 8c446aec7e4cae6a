#!/usr/bin/env bash
# npm run bench:setup — installs what the bench's peers need, and only that (the tests never
# need it): Debian's python3-torch (PyTorch 1.13, CPU) for the PyTorch peer (bench/torch_layer.py).
# tfjs-backend-webgpu, the other peer, is a dev dependency (npm install). Says what it does first.
set -euo pipefail
has_torch() {
  for py in "${PROTT5_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] && "$py" -c 'import torch' 2>/dev/null && { echo "$py"; return 0; }
  done
  return 1
}
if py=$(has_torch); then
  echo "bench:setup: PyTorch is already there ($py: torch $("$py" -c 'import torch; print(torch.__version__)')); nothing to do"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "bench:setup: no apt-get here: install PyTorch for python3 yourself (pip install torch), or set PROTT5_PYTHON to a Python that has it" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "bench:setup: installing Debian's python3-torch (PyTorch CPU, about 200 MB with its dependencies) for the bench's PyTorch peer:"
echo "  ${SUDO:+$SUDO }apt-get update && ${SUDO:+$SUDO }apt-get install -y --no-install-recommends python3-torch"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends python3-torch
if py=$(has_torch); then
  echo "bench:setup: done ($py: torch $("$py" -c 'import torch; print(torch.__version__)'))"
else
  echo "bench:setup: python3-torch is installed but no python3 on the PATH imports torch; run the bench with PROTT5_PYTHON=/usr/bin/python3" >&2
  exit 1
fi
