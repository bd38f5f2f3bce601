"""Small pictures for the web lab: what the network sees and what it has learned, as PNGs.

Each picture is a tiny PNG (28x28 pixels or a filter's 5x5) sent inside JSON as a `data:` URI;
the browser scales it up with sharp pixels. Signed pictures (weights, filters, feature maps) use
the same colours as `dnnx` figures: red is positive, blue is negative, white is zero.

What the first layer shows depends on the model:
- softmax regression: row i of W (10 x 784) reshaped to 28x28 is what the model looks for in
  digit i (the workshop's "weights as images");
- an MLP: the same for the first hidden units;
- a CNN: the first convolution's filters, and for a given input its feature maps.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

MNIST_PIXELS = 28 * 28
MAX_PICTURES = 32  # more than this many filters or units would not fit the page


@dataclass
class Pictures:
    """A titled row of pictures: e.g. the ten weight images of softmax regression."""

    kind: str  # "weights", "filters" or "feature maps"
    layer: str  # the module's name in the model, e.g. "features.0"
    titles: list[str]
    images: list[str]  # data: URIs

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def png_data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def gray_picture(values: np.ndarray | torch.Tensor) -> str:
    """(H, W) grey levels in [0, 1] -> PNG data URI (0 black, 1 white)."""
    a = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    return png_data_uri(Image.fromarray(np.round(a * 255).astype(np.uint8), "L"))


def signed_picture(values: np.ndarray | torch.Tensor) -> str:
    """(H, W) signed values -> PNG data URI, blue (negative) - white (0) - red (positive).

    The scale is symmetric around zero, so white always means 'no evidence either way'.
    """
    a = np.asarray(values, dtype=np.float32)
    limit = float(np.abs(a).max()) or 1.0
    t = np.clip(a / limit, -1.0, 1.0)  # (H, W) in [-1, 1]
    positive, negative = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    red = 1.0 - negative  # white fades to blue as values go negative ...
    green = 1.0 - positive - negative
    blue = 1.0 - positive  # ... and to red as they go positive
    rgb = np.stack([red, green, blue], axis=-1)  # (H, W, 3)
    return png_data_uri(Image.fromarray(np.round(rgb * 255).astype(np.uint8), "RGB"))


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d] | None:
    """The model's first convolution (name, module), or None for a fully connected model."""
    return next(((name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)), None)


def first_linear_on_pixels(model: nn.Module) -> tuple[str, nn.Linear] | None:
    """The first fully connected layer that reads the 784 pixels directly, if there is one."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            return (name, m) if m.in_features == MNIST_PIXELS else None
    return None


@torch.no_grad()
def first_layer_pictures(model: nn.Module, classes: list[str] | None = None) -> Pictures | None:
    """What the first layer has learned: CNN filters, or pixel weights reshaped to 28x28."""
    conv = first_conv(model)
    if conv is not None:
        name, layer = conv
        filters = layer.weight.detach().float().cpu()  # (out, in, k, k)
        shown = filters[:MAX_PICTURES].mean(dim=1)  # (n, k, k): the input has one channel
        titles = [f"filter {i}" for i in range(len(shown))]
        return Pictures("filters", name, titles, [signed_picture(f) for f in shown])
    linear = first_linear_on_pixels(model)
    if linear is None:
        return None
    name, layer = linear
    rows = layer.weight.detach().float().cpu()[:MAX_PICTURES]  # (n, 784)
    images = rows.reshape(-1, 28, 28)  # (n, 28, 28): one weight per pixel
    if classes is not None and layer.out_features == len(classes):
        titles = list(classes)  # softmax regression: one picture per class
    else:
        titles = [f"unit {i}" for i in range(len(images))]
    return Pictures("weights", name, titles, [signed_picture(w) for w in images])


def feature_map_pictures(name: str, maps: torch.Tensor) -> Pictures:
    """The first convolution's output for one input, (1, C, H, W), as one picture per map."""
    shown = maps[0, :MAX_PICTURES].detach().float().cpu()  # (n, H, W)
    titles = [f"map {i}" for i in range(len(shown))]
    return Pictures("feature maps", name, titles, [signed_picture(m) for m in shown])
