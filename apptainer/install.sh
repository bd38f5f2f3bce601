#!/usr/bin/env bash
# The build steps of the dnnexplorer container, shared by apptainer/dnnexplorer.def and the
# Dockerfile (and run by tests/test_container.py in a throwaway virtual environment):
#   1. PyTorch, from the index chosen at build time,
#   2. the project with its web lab and JupyterLab,
#   3. MNIST and Fashion-MNIST, verified against their checksums, inside the image, so that
#      compute nodes without internet train at once.
# Settings (environment): PYTHON, DNNX_SOURCE (the project's files), DNNX_IMAGE_DATA (where the
# datasets go), DNNX_DATA_FROM (a folder already holding mnist/ and fashion-mnist/, for a build
# host without internet; empty: download them), TORCH_INDEX_URL, DNNX_EXTRAS.
set -euo pipefail

python="${PYTHON:-python3}"
source_dir="${DNNX_SOURCE:-/opt/dnnexplorer}"
data_dir="${DNNX_IMAGE_DATA:-/opt/dnnx-data}"
data_from="${DNNX_DATA_FROM:-}"
# PyPI's Linux build of torch carries CUDA (run the image with --nv on GPU nodes); for a smaller,
# CPU-only image use https://download.pytorch.org/whl/cpu.
torch_index="${TORCH_INDEX_URL:-https://pypi.org/simple}"
extras="${DNNX_EXTRAS:-jupyter}"  # jupyter includes web: the lab beside the notebooks

echo "== PyTorch (from ${torch_index})"
"$python" -m pip install --no-cache-dir --index-url "$torch_index" "torch==2.13.0"

echo "== dnnexplorer[${extras}] from ${source_dir}"
"$python" -m pip install --no-cache-dir "${source_dir}[${extras}]"

echo "== MNIST and Fashion-MNIST into ${data_dir}"
for name in mnist fashion-mnist; do
    if [ -n "$data_from" ]; then
        "$python" -m dnnexplorer data fetch "$name" --from "${data_from}/${name}" --to "$data_dir"
    else
        "$python" -m dnnexplorer data fetch "$name" --to "$data_dir"
    fi
done
chmod -R a+rX "$data_dir"
