#!/usr/bin/env bash
# 1 process (torch's threads) vs torchrun with 2 gloo processes (1 thread each) on this machine:
# one epoch of mlp and cnn, --batch-size 512, 3 interleaved rounds; prints train_seconds medians.
# Usage: DNNX_DATA=/path/to/data bash benchmarks/ddp_speedup.sh [OUT_DIR]
set -euo pipefail
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
for model in mlp cnn; do
    for i in 1 2 3; do
        args=(train --model "$model" --epochs 1 --batch-size 512 --device cpu --json)
        python -m dnnexplorer "${args[@]}" --out "$out/$model-one-$i" 2>/dev/null \
            | tail -n 1 >"$out/$model-one-$i.json"
        OMP_NUM_THREADS=1 python -m torch.distributed.run --standalone --nproc-per-node 2 \
            -m dnnexplorer "${args[@]}" --out "$out/$model-two-$i" 2>/dev/null \
            | tail -n 1 >"$out/$model-two-$i.json"
    done
done
python - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
for model in ("mlp", "cnn"):
    medians = {}
    for kind in ("one", "two"):
        runs = [json.load(open(f"{out}/{model}-{kind}-{i}.json")) for i in (1, 2, 3)]
        medians[kind] = statistics.median(r["train_seconds"] for r in runs)
    print(f"{model}: 1 process {medians['one']:.2f} s, 2 processes {medians['two']:.2f} s, "
          f"speed-up {medians['one'] / medians['two']:.2f}x")
PY
