#!/usr/bin/env bash
# Everything this project checks on a CUDA GPU, in one run (about 5 minutes on a recent GPU):
#   1. the GPU's name, driver and memory;
#   2. the GPU tests (tests/train/test_gpu.py) and the precision/compile tests, on the GPU;
#   3. time to 92% / 98% / 99% / 99.5% test accuracy: `dnnx bench --device cuda`, medians of 3;
#   4. with REFERENCE=1, the conventional pipeline to 99% on the same GPU (one run, minutes).
# Usage: DNNX_DATA=/path/to/data bash benchmarks/gpu_check.sh [OUT_DIR]
# (OUT_DIR defaults to $OUT, the folder the device tool brings back, else a temporary folder.)
set -euo pipefail
out="${1:-${OUT:-$(mktemp -d)}}"
mkdir -p "$out"
echo "results -> $out"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.csv"
python -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
    "bf16", torch.cuda.is_bf16_supported())' | tee -a "$out/gpu.csv"

python -m pytest -q -p no:cacheprovider tests/train/test_gpu.py tests/train/test_device.py \
    2>&1 | tee "$out/tests.txt"

python -m dnnexplorer bench --device cuda --cases softmax,mlp,cnn,best --repeats 3 \
    --out "$out/results-cuda.json" --markdown "$out/BENCHMARKS-cuda.md"

if [ "${REFERENCE:-0}" = 1 ]; then
    python -m dnnexplorer bench --device cuda --cases cnn,reference --repeats 1 \
        --out "$out/results-cuda-reference.json" --markdown "$out/BENCHMARKS-cuda-reference.md"
fi
