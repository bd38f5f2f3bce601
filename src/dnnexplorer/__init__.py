"""dnnexplorer: an introductory deep-learning workshop as real, tested software.

From least squares and gradient descent to softmax regression and LeNet-5 on MNIST,
each idea of the workshop is a small module you can read, run and change.
`dnnexplorer.Run.load("runs/NAME")` gives a trained run's model, ready to predict and evaluate.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Run", "__version__"]


def __getattr__(name: str) -> Any:
    """`dnnexplorer.Run`, imported on first use: PyTorch takes seconds to import, and the `dnnx`
    command imports this package before it knows whether it needs PyTorch."""
    if name == "Run":
        from dnnexplorer.run import Run

        return Run
    raise AttributeError(f"module 'dnnexplorer' has no attribute {name!r}")
