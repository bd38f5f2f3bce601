"""What one request may ask of the machine the web lab runs on, and the image formats it reads.

The lab is shared (a classroom, a cluster node) and serves everyone's drawings beside one
training job, so no single request may take the machine: a form with `hidden=250000` asked for
200 million weights (4 GB with Adam's moments, and Stop took minutes), and a 740 KB PNG of 40
megapixels took 400 MB to decode. These limits hold only for requests that come through the
lab; `dnnx train` and `dnnx predict` do what their user's own command asks. They are checked on
the server (a 422 JSON answer naming the field and its limit), the Train form shows them, and
an instructor changes them with `dnnx serve --limit epochs=100 --limit parameters=50000000`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dnnexplorer.errors import ConfigError

if TYPE_CHECKING:
    from dnnexplorer.train import TrainConfig

# Formats an upload may have; any other (EPS, which Pillow hands to Ghostscript, TIFF, ICO, ...)
# is refused before a Pillow plugin for it reads a byte. Canvas exports, phone photos and
# screenshots are all among these; PPM (its grey PGM) is how the Inside page sends a drawing.
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "PPM")


@dataclass(frozen=True)
class Limits:
    """The lab's limits; the defaults are the lab's (`dnnx serve --help` lists them too)."""

    epochs: int = 50  # of one training job: 50 MNIST epochs of the largest model allowed are hours
    hidden_size: int = 4096  # units of one hidden layer
    hidden_layers: int = 10  # hidden layers of an MLP
    # weights and biases of the model: 20 million float32 numbers are 80 MB, and 320 MB with
    # their gradients and Adam's two moments
    parameters: int = 20_000_000
    # width x height of an uploaded image, read from its header before anything is decoded:
    # at most 64 MB decoded (RGBA), and two uploads are decoded at a time (see catalog.py)
    image_pixels: int = 16_000_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"--limit {f.name} must be a positive integer, got {value!r}")

    @classmethod
    def parse(cls, settings: Iterable[str]) -> Limits:
        """The defaults changed by settings like "epochs=100" (`dnnx serve --limit`)."""
        names = [f.name for f in dataclasses.fields(cls)]
        changes: dict[str, Any] = {}
        for setting in settings:
            name, equals, value = setting.partition("=")
            name = name.strip()
            if not equals or name not in names:
                raise ConfigError(
                    f"--limit takes NAME=NUMBER with NAME one of {', '.join(names)}; "
                    f"got {setting!r}"
                )
            try:
                changes[name] = int(value.replace("_", ""))
            except ValueError:
                raise ConfigError(
                    f"--limit {name} must be a positive integer, got {value!r}"
                ) from None
        return cls(**changes)

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def check_training(self, config: TrainConfig) -> None:
        """ConfigError naming the field and its limit if `config` asks for too many epochs or
        too large hidden layers (its parameters are counted by `check_parameters`)."""
        if config.epochs is not None and config.epochs > self.epochs:
            raise ConfigError(f"epochs: at most {self.epochs} in this lab, got {config.epochs}")
        hidden = config.model_options.get("hidden")
        sizes = hidden if isinstance(hidden, list) else [] if hidden is None else [hidden]
        if len(sizes) > self.hidden_layers:
            raise ConfigError(
                f"hidden: at most {self.hidden_layers} hidden layers in this lab, got {len(sizes)}"
            )
        if any(size > self.hidden_size for size in sizes):
            raise ConfigError(
                f"hidden: at most {self.hidden_size} units per layer in this lab, got {max(sizes)}"
            )

    def check_parameters(self, count: int) -> None:
        """ConfigError if a model of `count` parameters is more than the lab trains."""
        if count > self.parameters:
            raise ConfigError(
                f"parameters: the model would have {count:,}; this lab allows at most "
                f"{self.parameters:,} (choose smaller hidden sizes)"
            )


LIMITS = Limits()  # the lab's defaults
