# The dnnexplorer container for Docker/Podman (apptainer/dnnexplorer.def is the same image for
# clusters; both run apptainer/install.sh). The project, its web lab, JupyterLab and both
# datasets inside, for machines without internet:
#
#   docker build -t dnnexplorer .
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu -t dnnexplorer .
#   docker run --rm -v "$PWD/runs:/work/runs" dnnexplorer train --model cnn --target-acc 0.99
#   docker run --rm -p 8765:8765 dnnexplorer serve --host 0.0.0.0 --port 8765
FROM python:3.11-slim-bookworm

ARG TORCH_INDEX_URL=https://pypi.org/simple
COPY pyproject.toml README.md LICENSE /opt/dnnexplorer/
COPY src /opt/dnnexplorer/src
COPY notebooks /opt/dnnexplorer/notebooks
COPY apptainer/install.sh /opt/dnnexplorer/install.sh
RUN TORCH_INDEX_URL="${TORCH_INDEX_URL}" bash /opt/dnnexplorer/install.sh && rm -rf /root/.cache

ENV DNNX_DATA=/opt/dnnx-data
RUN useradd --create-home learner && mkdir -p /work && chown learner /work
USER learner
WORKDIR /work
ENTRYPOINT ["dnnx"]
CMD ["--help"]
