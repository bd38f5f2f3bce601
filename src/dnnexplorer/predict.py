"""From a user's picture of a digit to the network's probabilities: image -> 28x28 -> softmax.

This is the one preprocessing path shared by `dnnx predict` and the web page. It reads any image
PIL knows (phone photos, canvas exports, scans), refuses damaged or enormous files with an
`ImageError` naming the file, and prepares the digit as MNIST was prepared (see
`dnnexplorer.imageprep` for the steps). `predict_images` then applies the trained model:
probs = softmax(model((x - mean) / std)).
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Sequence
from typing import IO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from dnnexplorer import imageprep
from dnnexplorer.errors import ImageError

MAX_PIXELS = 40_000_000  # a 40-megapixel photo is the largest we decode (the lab: fewer)
WORK_SIDE = 640  # the digit is found on a copy whose longer side is at most this
DECODE_SIDE = WORK_SIDE  # big JPEGs are decoded at a reduced scale, no smaller than this


class UnsupportedFormat(ImageError):
    """An image in a format the caller does not accept (the web lab takes only a few)."""


def load_image(path: str | os.PathLike[str], *, decode_side: int = DECODE_SIDE) -> Image.Image:
    """Read an image file, upright (EXIF orientation applied); raise ImageError naming the file.

    JPEGs larger than `decode_side` are decoded at a reduced scale (1/2, 1/4 or 1/8), which is
    many times faster for a phone photo and loses nothing at 28x28.
    """
    name = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except OSError as e:
        raise ImageError(f"{name}: cannot read the file ({e.strerror or e})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{name}: is a folder, not an image")
    if info.st_size == 0:
        raise ImageError(f"{name}: the file is empty")
    try:
        with open(path, "rb") as file:
            return _decode(file, name, decode_side)
    except OSError as e:
        raise ImageError(f"{name}: cannot read the file ({e.strerror or e})") from None


def load_image_bytes(
    data: bytes,
    name: str,
    *,
    decode_side: int = DECODE_SIDE,
    max_pixels: int = MAX_PIXELS,
    formats: Sequence[str] | None = None,
) -> Image.Image:
    """Like `load_image` for bytes already in memory (a web upload); `name` goes in messages.

    `max_pixels`: the largest width x height decoded, read from the header first; `formats`:
    the only formats accepted (Pillow's names, e.g. "PNG"), any other is `UnsupportedFormat`
    before a Pillow plugin for it reads the data; None accepts every format Pillow knows.
    """
    if not data:
        raise ImageError(f"{name}: the file is empty")
    return _decode(io.BytesIO(data), name, decode_side, max_pixels, formats)


def _decode(
    file: IO[bytes],
    name: str,
    decode_side: int,
    max_pixels: int = MAX_PIXELS,
    formats: Sequence[str] | None = None,
) -> Image.Image:
    """Open, check the size from the header, then decode; every failure becomes an ImageError."""
    with warnings.catch_warnings():
        # PIL only warns about a 'decompression bomb' (small file, huge image): refuse it.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            limit = _megapixels(max_pixels)
            raise ImageError(f"{name}: the image is too large (over {limit})") from None
        except UnidentifiedImageError:
            if formats is not None and not _starts_like(file, formats):
                *others, last = formats
                either = f"{', '.join(others)} or {last}" if others else last
                message = f"{name}: not an image of an accepted format ({either})"
                raise UnsupportedFormat(message) from None
            if formats is not None:  # it starts like an accepted format; the rest is broken
                raise ImageError(f"{name}: not a readable image (its header is damaged)") from None
            raise ImageError(f"{name}: not an image (the format is not recognised)") from None
        except Exception as e:  # a damaged header fails in many ways inside PIL's plugins
            raise ImageError(f"{name}: not a readable image ({e})") from None
    width, height = image.size
    if width * height > max_pixels:
        limit = _megapixels(max_pixels)
        raise ImageError(f"{name}: the image is too large ({width}x{height} pixels, limit {limit})")
    if width == 0 or height == 0:
        raise ImageError(f"{name}: the image has no pixels ({width}x{height})")
    try:
        image.draft(None, (decode_side, decode_side))
        image.load()
        return ImageOps.exif_transpose(image)
    except Exception as e:  # a damaged file fails in many ways inside PIL's decoders
        raise ImageError(f"{name}: the image is damaged or truncated ({e})") from None


def _starts_like(file: IO[bytes], formats: Sequence[str]) -> bool:
    """True if the file's first bytes are the signature of one of `formats` (Pillow's checks)."""
    file.seek(0)
    prefix = file.read(16)
    Image.init()
    checks = [Image.OPEN[f][1] for f in formats if f in Image.OPEN]
    return any(accept is not None and accept(prefix) for accept in checks)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:g} megapixels"


def _gray_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey levels (H, W) in [0, 1] and opacity (H, W) in [0, 1] (None if opaque), downscaled."""
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        # 16-bit or float pictures (scans, exports of arrays): rescale their own range to [0, 1].
        values = np.asarray(image, dtype=np.float32)
        if image.mode == "F":
            top = max(float(values.max()), 1.0)  # floats in [0, 1] are kept as they are
        else:
            top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        image = Image.fromarray(np.clip(values / top, 0, 1).astype(np.float32), "F")
    elif image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        image = image.convert("RGBA")
    else:
        image = image.convert("L")
    if max(image.size) > WORK_SIDE:
        scale = WORK_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    if image.mode == "F":
        return np.asarray(image, dtype=np.float32), None
    gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if image.mode != "RGBA":
        return gray, None
    alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
    return gray, (None if alpha.min() >= 1.0 else alpha)


def flatten_alpha(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite a grey image with transparency onto a background, so transparency is background.

    A canvas export holds strokes (white or black) on transparent pixels: we put them on the
    opposite colour. If most of the picture is opaque, its own colour is the background.
    """
    coverage = float(alpha.mean())
    if coverage <= 0.0:
        return np.zeros_like(gray)
    if coverage < 0.5:
        stroke = float((gray * alpha).sum() / alpha.sum())
        backdrop = 0.0 if stroke >= 0.5 else 1.0
    else:
        backdrop = float(np.median(gray[alpha > 0.5])) if (alpha > 0.5).any() else 1.0
    return gray * alpha + backdrop * (1.0 - alpha)


def to_mnist(image: Image.Image, name: str | None = None) -> torch.Tensor:
    """Prepare a picture of one digit as MNIST was: (28, 28) float32 in [0, 1], ink bright.

    Raises ImageError("<name>: no digit found ...") when the picture holds no ink.
    """
    gray, alpha = _gray_and_alpha(image)
    if alpha is not None:
        gray = flatten_alpha(gray, alpha)
    digit = imageprep.mnist_from_gray(gray)
    if digit is None:
        label = name or getattr(image, "filename", "") or "image"
        raise ImageError(f"{label}: no digit found (the image is blank)")
    return torch.from_numpy(digit)  # (28, 28)


def preprocess_file(path: str | os.PathLike[str]) -> torch.Tensor:
    """Read an image file and prepare its digit: (28, 28) float32 in [0, 1]."""
    return to_mnist(load_image(path), name=os.fspath(path))


def model_input(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """What a model sees: images (N, 28, 28) in [0, 1] standardised as in training, (N, 1, 28, 28).

    The one place this is done: `predict_images` and the lab's layer-by-layer view both call it.
    """
    return ((images.float() - mean) / std).unsqueeze(1)


def predict_images(
    model: torch.nn.Module, images: torch.Tensor, mean: float, std: float
) -> torch.Tensor:
    """Class probabilities (N, num_classes) for MNIST-style images (N, 28, 28) in [0, 1].

    The images are normalised with the training set's mean and std, exactly as during training,
    then probs = softmax(logits). The model's train/eval mode is restored afterwards.
    """
    if images.dim() != 3 or images.shape[1:] != (imageprep.MNIST_SIZE, imageprep.MNIST_SIZE):
        raise ValueError(f"expected images of shape (N, 28, 28), got {tuple(images.shape)}")
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            x = model_input(images, mean, std).to(device)  # (N, 1, 28, 28)
            logits = model(x)  # (N, num_classes)
            probs = torch.softmax(logits.float(), dim=1)  # (N, num_classes), rows sum to 1
    finally:
        model.train(was_training)
    return probs.cpu()
