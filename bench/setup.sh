#!/usr/bin/env bash
# npm run bench:setup — installs what the bench's peers need, and only that (the tests never
# need it): Debian's python3-torch (PyTorch 1.13, CPU) for the PyTorch peer (bench/torch_layer.py),
# with OpenBLAS (libopenblas0-pthread): Debian's torch calls libblas.so.3, which without OpenBLAS
# is the netlib reference BLAS, ~100× slower (1.7 vs 220 GFLOP/s measured on 2 cores) — no peer.
# tfjs-backend-webgpu, the other peer, is a dev dependency (npm install). Says what it does first.
set -euo pipefail
has_torch() {
  for py in "${PROTT5_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] && "$py" -c 'import torch' 2>/dev/null && { echo "$py"; return 0; }
  done
  return 1
}
# Whether torch in $1 runs its matmuls on the netlib reference BLAS (Debian's libblas3, in .../blas/;
# a pip torch brings its own BLAS and passes).
on_reference_blas() {
  "$1" -c 'import sys, torch; torch.ones(8, 8) @ torch.ones(8, 8); sys.exit(0 if any("/blas/libblas.so" in l for l in open("/proc/self/maps")) else 1)' 2>/dev/null
}
if py=$(has_torch) && ! on_reference_blas "$py"; then
  echo "bench:setup: PyTorch is already there with a fast BLAS ($py: torch $("$py" -c 'import torch; print(torch.__version__)')); nothing to do"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "bench:setup: no apt-get here: install PyTorch for python3 yourself (pip install torch), or set PROTT5_PYTHON to a Python that has it" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "bench:setup: installing Debian's python3-torch (PyTorch CPU, about 200 MB with its dependencies) and OpenBLAS (its fast BLAS) for the bench's PyTorch peer:"
echo "  ${SUDO:+$SUDO }apt-get update && ${SUDO:+$SUDO }apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends python3-torch libopenblas0-pthread
if py=$(has_torch); then
  echo "bench:setup: done ($py: torch $("$py" -c 'import torch; print(torch.__version__)'))"
else
  echo "bench:setup: python3-torch is installed but no python3 on the PATH imports torch; run the bench with PROTT5_PYTHON=/usr/bin/python3" >&2
  exit 1
fi
