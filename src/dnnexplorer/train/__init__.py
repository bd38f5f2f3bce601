"""Training: the config, the one loop, the run folder, and the high-level entry points."""

from dnnexplorer.train.config import TrainConfig
from dnnexplorer.train.loop import Callback, EpochMetrics, TrainingState, evaluate, fit
from dnnexplorer.train.session import TrainingResult, resume_training, run_training

__all__ = [
    "Callback",
    "EpochMetrics",
    "TrainConfig",
    "TrainingResult",
    "TrainingState",
    "evaluate",
    "fit",
    "resume_training",
    "run_training",
]
