"""`dnnx slurm`: the generated batch script is valid bash and asks SLURM for the right things."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dnnexplorer.errors import ConfigError
from dnnexplorer.train.slurm import SlurmJob, sbatch_script


def _bash_syntax_ok(script: str, tmp_path) -> bool:
    path = tmp_path / "job.sh"
    path.write_text(script)
    return subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_script_for_two_gpu_nodes(tmp_path) -> None:
    job = SlurmJob(
        nodes=2,
        gpus_per_node=4,
        cpus_per_task=16,
        time="02:30:00",
        partition="gpu",
        account="hpc_lab",
        data_dir="/work/shared/data",
    )
    script = sbatch_script(job, ["train", "--model", "cnn", "--epochs", "10"])
    assert _bash_syntax_ok(script, tmp_path)
    for directive in (
        "--nodes=2",
        "--ntasks-per-node=1",
        "--gpus-per-node=4",
        "--cpus-per-task=16",
        "--time=02:30:00",
        "--partition=gpu",
        "--account=hpc_lab",
        "--output=logs/%x-%j.out",
    ):
        assert f"#SBATCH {directive}\n" in script
    assert "srun torchrun" in script and "--nproc-per-node=4" in script
    assert "--rdzv-backend=c10d" in script and '--rdzv-endpoint="$head_node:29500"' in script
    assert 'DNNX_DATA="${DNNX_DATA:-/work/shared/data}"' in script
    assert 'train --model cnn --epochs 10 --out "runs/dnnx-${SLURM_JOB_ID}"' in script
    assert "export OMP_NUM_THREADS=4" in script


def test_cpu_nodes_and_quoting(tmp_path) -> None:
    job = SlurmJob(nodes=3, gpus_per_node=0, setup=("module load python/3.11",))
    script = sbatch_script(job, ["train", "--model", "mlp", "--out", "runs/my run; rm -rf ~"])
    assert _bash_syntax_ok(script, tmp_path)
    assert "--gpus-per-node" not in script and "--nproc-per-node=1" in script
    assert "'runs/my run; rm -rf ~'" in script  # an argument stays one argument
    assert "module load python/3.11\n" in script


@pytest.mark.parametrize("bad", [dict(nodes=0), dict(time="90 minutes"), dict(job_name="a b")])
def test_bad_job_settings_are_config_errors(bad) -> None:
    with pytest.raises(ConfigError):
        SlurmJob(**bad)


def test_cli_prints_the_script(tmp_path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dnnexplorer",
            "slurm",
            "--nodes",
            "2",
            "--",
            "train",
            "--model",
            "cnn",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#!/bin/bash\n") and _bash_syntax_ok(result.stdout, tmp_path)
    missing = subprocess.run(
        [sys.executable, "-m", "dnnexplorer", "slurm", "--nodes", "2"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "-- train" in missing.stderr
