"""`dnnx slurm -- train ...`: print a SLURM batch script for a multi-node training run."""

from __future__ import annotations

import click

from dnnexplorer.train.slurm import SlurmJob, sbatch_script


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--nodes", type=int, default=1, show_default=True)
@click.option(
    "--gpus-per-node",
    type=int,
    default=1,
    show_default=True,
    help="GPUs (= processes) per node; 0 for CPU-only nodes.",
)
@click.option("--cpus-per-task", type=int, default=8, show_default=True)
@click.option(
    "--time",
    "time_limit",
    default="01:00:00",
    show_default=True,
    help="Wall-clock limit, HH:MM:SS or D-HH:MM:SS.",
)
@click.option("--partition", help="SLURM partition (queue).")
@click.option("--account", help="SLURM account (allocation) to charge.")
@click.option("--job-name", default="dnnx", show_default=True)
@click.option(
    "--data",
    "data_dir",
    help="Shared folder holding mnist/ and fashion-mnist/ (DNNX_DATA), if not set in the job "
    "[default: $HOME/dnnx-data; with --container, the image's own copy].",
)
@click.option(
    "--container",
    metavar="IMAGE",
    help="Run the training inside this Apptainer/Singularity image "
    "(built from apptainer/dnnexplorer.def), e.g. dnnexplorer.sif.",
)
@click.option(
    "--setup",
    multiple=True,
    help="A shell line to run first (repeatable), "
    "e.g. --setup 'module load python' --setup 'source ~/venv/bin/activate'.",
)
@click.argument("train_args", nargs=-1, type=click.UNPROCESSED)
def slurm(
    nodes: int,
    gpus_per_node: int,
    cpus_per_task: int,
    time_limit: str,
    partition: str | None,
    account: str | None,
    job_name: str,
    data_dir: str | None,
    container: str | None,
    setup: tuple[str, ...],
    train_args: tuple[str, ...],
) -> None:
    """Print an sbatch script that runs `dnnx train TRAIN_ARGS` with torchrun on every node.

    Example: dnnx slurm --nodes 2 --gpus-per-node 4 -- train --model cnn --epochs 10 > job.sh

    With --container dnnexplorer.sif every node runs the training inside that image.
    """
    if not train_args or train_args[0] != "train":
        raise click.UsageError("give the training command after --, e.g. -- train --model cnn")
    job = SlurmJob(
        nodes=nodes,
        gpus_per_node=gpus_per_node,
        cpus_per_task=cpus_per_task,
        time=time_limit,
        partition=partition,
        account=account,
        job_name=job_name,
        data_dir=data_dir,
        setup=setup,
        container=container,
    )
    click.echo(sbatch_script(job, train_args), nl=False)
