#!/usr/bin/env bash
# GPU check from a fresh clone, on a machine with an NVIDIA GPU:
#   a venv with a CUDA build of torch, eventpipe[dev,cuda] (cuda13 for a CUDA 13 torch) and triton; the gpu
#   tests; eventpipe doctor; the neuron benchmark (every GPU backend against torch, float32 and float16, with the fraction of the
#   device's peak bandwidth). Stops with a non-zero status at the first failure.
#
# Usage: scripts/gpu_check.sh [OUT]   (OUT: the folder for logs and results, default gpu-check-DATE)
# Environment: PYTHON (default python3), VENV (default OUT/venv), TORCH_VERSION (default the README's pin),
#   TORCH_INDEX_URL (a PyTorch wheel index, e.g. https://download.pytorch.org/whl/cu128),
#   ALLOW_SKIPS=1 (do not fail when a gpu test is skipped).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-gpu-check-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VENV=${VENV:-$OUT/venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
cd "$REPO"

# step NAME COMMAND...: run COMMAND with stdout in OUT/NAME.out and stderr in OUT/NAME.log; stop on failure
step() {
    local name=$1
    shift
    echo "== $name: $*"
    if ! "$@" >"$OUT/$name.out" 2>"$OUT/$name.log"; then
        echo "FAILED: $name (output in $OUT/$name.out and $OUT/$name.log)" >&2
        tail -n 30 "$OUT/$name.out" "$OUT/$name.log" >&2
        exit 1
    fi
}

step venv "${PYTHON:-python3}" -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
step pip-upgrade python -m pip install --upgrade pip
step torch python -m pip install "torch==$TORCH_VERSION" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
step cuda-torch python -c "
import torch
assert torch.version.cuda, f'torch {torch.__version__} is a CPU build: rerun with TORCH_INDEX_URL set to a CUDA wheel index'
assert torch.cuda.is_available(), 'torch sees no CUDA device: check nvidia-smi and CUDA_VISIBLE_DEVICES'
print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))
"
# the CuPy wheel for torch's CUDA major: extra cuda (cupy-cuda12x) or cuda13 (cupy-cuda13x)
CUDA_MAJOR=$(python -c "import torch; print(torch.version.cuda.split('.')[0])")
case "$CUDA_MAJOR" in
    12) EXTRA=cuda ;;
    13) EXTRA=cuda13 ;;
    *)
        echo "FAILED: torch is built with CUDA $CUDA_MAJOR; eventpipe's CuPy extras are cuda (12) and cuda13 (13)" >&2
        exit 1
        ;;
esac
step eventpipe python -m pip install -e ".[dev,$EXTRA]" triton
step pip-freeze python -m pip freeze
step doctor eventpipe doctor
step pytest-gpu python -m pytest -m gpu -q -rs -p no:cacheprovider
# a skip for lack of free GPU memory (the large-index test) is expected on smaller devices; any other is not
SKIPS=$(grep "^SKIPPED" "$OUT/pytest-gpu.out" | grep -v "free GPU memory" || true)
if [ "${ALLOW_SKIPS:-0}" != 1 ] && [ -n "$SKIPS" ]; then
    echo "FAILED: gpu tests were skipped on a GPU machine (see $OUT/pytest-gpu.out; ALLOW_SKIPS=1 accepts it)" >&2
    echo "$SKIPS" >&2
    exit 1
fi
step doctor-json eventpipe doctor --json --strict
step bench-neurons eventpipe bench neurons --gpu-suite --json
echo "GPU check passed: results in $OUT (doctor.out, pytest-gpu.out, doctor-json.out, bench-neurons.out)"
