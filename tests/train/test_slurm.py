"""`dnnx slurm`: the generated batch script is valid bash and asks SLURM for the right things."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
    assert "then export DNNX_DATA=/work/shared/data; fi" in script
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


def _run_with_stand_ins(script: str, tmp_path: Path, env: dict[str, str]) -> list[str]:
    """Run the batch script with stand-ins for scontrol, srun and apptainer that record what
    they were asked to run (one argument per line), as SLURM would run it on the first node."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    stand_ins = {
        "scontrol": "echo node001",
        "srun": 'printf "%s\\n" "srun" "$@" > "$RECORD"',
        "apptainer": "exit 99",  # srun is the one that runs it; never called directly
    }
    for name, body in stand_ins.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    job = tmp_path / "job.sh"
    job.write_text(script)
    run_env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "RECORD": str(record),
        "SLURM_JOB_NODELIST": "node[001-002]",
        "SLURM_NNODES": "2",
        "SLURM_JOB_ID": "4242",
        **env,
    }
    done = subprocess.run(
        ["bash", str(job)], env=run_env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return record.read_text().splitlines()


def test_the_data_folder_is_quoted_and_home_still_expands(tmp_path) -> None:
    """A path is data, never code: `$(...)` in --data must not run (the bug of #16)."""
    canary = tmp_path / "ran"
    job = SlurmJob(gpus_per_node=0, data_dir=f"~/data $(touch {canary})")
    script = sbatch_script(job, ["train", "--model", "mlp"])
    dump = '\nprintf \'%s\' "$DNNX_DATA" > "$HOME/data_dir"\n'
    (tmp_path / "home").mkdir()
    argv = _run_with_stand_ins(script.replace("head_node=", dump + "head_node=", 1), tmp_path, {})
    assert not canary.exists()
    assert (tmp_path / "home" / "data_dir").read_text() == f"{tmp_path}/home/data $(touch {canary})"
    assert argv[:2] == ["srun", "torchrun"]


def test_container_runs_torchrun_inside_the_image(tmp_path) -> None:
    """--container: srun starts apptainer (or singularity), which starts torchrun in the image;
    GPUs pass in with --nv, the working folder is bound, the image's own data is used."""
    job = SlurmJob(nodes=2, gpus_per_node=4, container="images/dnnx 1.sif")
    script = sbatch_script(job, ["train", "--model", "cnn"])
    assert _bash_syntax_ok(script, tmp_path) and "export DNNX_DATA" not in script
    argv = _run_with_stand_ins(script, tmp_path, {})
    launcher = argv.index("exec")
    assert argv[0] == "srun" and argv[launcher - 1].endswith("/apptainer")
    assert argv[launcher + 1 : launcher + 5] == [
        "--nv",
        "--bind",
        str(tmp_path),
        "images/dnnx 1.sif",
    ]
    assert argv[launcher + 5] == "torchrun" and "--nproc-per-node=4" in argv
    assert argv[-6:] == ["dnnexplorer", "train", "--model", "cnn", "--out", "runs/dnnx-4242"]


def test_container_with_a_shared_data_copy_and_on_cpu_nodes(tmp_path) -> None:
    job = SlurmJob(gpus_per_node=0, container="dnnx.sif", data_dir="/scratch/dnnx-data")
    argv = _run_with_stand_ins(sbatch_script(job, ["train"]), tmp_path, {})
    launcher = argv.index("exec")
    assert "--nv" not in argv  # CPU nodes: no NVIDIA driver to pass in
    assert argv[launcher + 1 : launcher + 8] == [
        "--bind",
        str(tmp_path),
        "--bind",
        "/scratch/dnnx-data",
        "--env",
        "DNNX_DATA=/scratch/dnnx-data",
        "dnnx.sif",
    ]


def test_container_job_fails_clearly_without_apptainer(tmp_path) -> None:
    script = sbatch_script(SlurmJob(container="dnnx.sif"), ["train"])
    job = tmp_path / "job.sh"
    job.write_text(script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "scontrol").write_text("#!/bin/bash\necho node001\n")
    (bin_dir / "scontrol").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "SLURM_JOB_NODELIST": "node001"}
    done = subprocess.run(["bash", str(job)], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "no apptainer or singularity" in done.stderr
