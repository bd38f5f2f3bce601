#!/usr/bin/env bash
# fp32 vs bf16 autocast on this CPU: the benchmark's CNN case (LeNet-5 modern, 2 epochs) and the
# cnn recipe (4 epochs), 3 interleaved rounds; prints median train_seconds and test accuracy.
# bf16 pays off only on CPUs with AMX units; elsewhere it is slower (on a 2-core AMD EPYC with
# AVX512-BF16, `best` to 99.5% trained in 34.6 s against 28.9 s in fp32, seed 0).
# Usage: DNNX_DATA=/path/to/data bash benchmarks/cpu_bf16.sh [OUT_DIR]
set -euo pipefail
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
lenet=(--model lenet5 --variant modern --epochs 2 --batch-size 256 --lr 1.2e-2
    --label-smoothing 0.1)
for i in 1 2 3; do
    for precision in fp32 bf16; do
        for case in lenet cnn; do
            if [ "$case" = lenet ]; then args=("${lenet[@]}"); else args=(--model cnn); fi
            python -m dnnexplorer train "${args[@]}" --device cpu --precision "$precision" \
                --json --out "$out/$case-$precision-$i" 2>/dev/null \
                | tail -n 1 >"$out/$case-$precision-$i.json"
        done
    done
done
python - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
for case in ("lenet", "cnn"):
    row = {}
    for precision in ("fp32", "bf16"):
        runs = [json.load(open(f"{out}/{case}-{precision}-{i}.json")) for i in (1, 2, 3)]
        row[precision] = (
            statistics.median(r["train_seconds"] for r in runs),
            statistics.median(r["test_accuracy"] for r in runs),
        )
    (f32, a32), (b16, a16) = row["fp32"], row["bf16"]
    print(f"{case}: fp32 {f32:.2f} s {a32:.2%}, bf16 {b16:.2f} s {a16:.2%}, "
          f"speed-up {f32 / b16:.2f}x")
PY
