"""Tests for reading users' pictures and turning them into MNIST-style digits and probabilities.

Every picture is a real file written with PIL in tmp_path: a digit drawn as a phone photo, as
canvas exports, as real MNIST digits photographed on uneven paper, and broken files of every kind.
"""

from __future__ import annotations

import gzip
import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from dnnexplorer.errors import ImageError
from dnnexplorer.predict import (
    flatten_alpha,
    load_image,
    load_image_bytes,
    predict_images,
    preprocess_file,
    to_mnist,
)


def _draw_seven(image: Image.Image, left: int, top: int, size: int, fill, width: int) -> None:
    """A handwritten-looking 7 with a crossbar, `size` pixels tall."""
    draw = ImageDraw.Draw(image)
    corner, foot = (left + 0.6 * size, top), (left + 0.25 * size, top + size)
    draw.line([(left, top), corner, foot], fill, width, "curve")
    middle = top + 0.5 * size
    draw.line([(left + 0.15 * size, middle), (left + 0.5 * size, middle)], fill, width)


def _white_on_black_png(folder: Path) -> Path:
    image = Image.new("L", (280, 280), 0)
    _draw_seven(image, 80, 40, 200, 255, 22)
    image.save(folder / "mnist-like.png")
    return folder / "mnist-like.png"


def _phone_photo_jpeg(folder: Path, size: tuple[int, int] = (1000, 800), zoom: int = 1) -> Path:
    """Dark ink on paper lit unevenly, with sensor noise, JPEG-compressed, the digit off-centre.

    With `zoom`, the picture is made at size and enlarged zoom times (a big file, made quickly).
    """
    width, height = size
    x, y = np.meshgrid(np.linspace(0, 1, width), np.linspace(0, 1, height))
    paper = 0.55 + 0.35 * x - 0.1 * y - 0.25 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    ink = Image.new("L", size, 0)
    _draw_seven(ink, int(0.6 * width), int(0.15 * height), int(0.5 * height), 255, height // 30)
    darkening = 1 - 0.75 * np.asarray(ink, np.float32) / 255
    noise = np.random.default_rng(0).normal(0, 0.03, (height, width))
    photo = Image.fromarray((np.clip(paper * darkening + noise, 0, 1) * 255).astype(np.uint8))
    photo = photo.resize((width * zoom, height * zoom), Image.Resampling.BILINEAR)
    path = folder / f"photo-{width * zoom}x{height * zoom}.jpg"
    photo.convert("RGB").save(path, quality=80)
    return path


def _canvas_png(folder: Path, colour: tuple[int, int, int, int], name: str) -> Path:
    """A web canvas export: strokes on fully transparent pixels."""
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    _draw_seven(image, 30, 50, 220, colour, 18)
    image.save(folder / name)
    return folder / name


def _centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(digit.shape)
    return (rows * digit).sum() / digit.sum(), (cols * digit).sum() / digit.sum()


def _correlation(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> float:
    return float(np.corrcoef(np.asarray(a).ravel(), np.asarray(b).ravel())[0, 1])


def test_photo_and_canvas_exports_give_the_same_mnist_digit(tmp_path: Path) -> None:
    pictures = [
        _white_on_black_png(tmp_path),
        _phone_photo_jpeg(tmp_path),
        _canvas_png(tmp_path, (255, 255, 255, 255), "white-strokes.png"),
        _canvas_png(tmp_path, (0, 0, 0, 255), "dark-strokes.png"),
    ]
    digits = [preprocess_file(p) for p in pictures]
    for digit in digits:
        assert digit.shape == (28, 28) and digit.dtype == torch.float32
        a = digit.numpy()
        assert a.min() >= 0 and a.max() == pytest.approx(1.0)  # ink bright ...
        assert a[0].max() == 0 and a[-1].max() == 0 and a[:, 0].max() == 0  # ... on black
        cy, cx = _centre_of_mass(a)
        assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
        rows, cols = np.nonzero(a)
        assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 == 20
    for i, a in enumerate(digits):
        for b in digits[i + 1 :]:
            assert _correlation(a, b) > 0.9


def _mnist_test_digits(data_root: Path, count: int) -> np.ndarray:
    with gzip.open(data_root / "mnist" / "t10k-images-idx3-ubyte.gz") as f:
        raw = f.read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    return images[:: len(images) // count][:count]  # (count, 28, 28)


def _photograph(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """Upscale x8, dark ink on grey uneven paper, off-centre, noisy, JPEG."""
    big = np.asarray(Image.fromarray(digit).resize((224, 224), Image.Resampling.BILINEAR)) / 255
    height, width = 480, 640
    y, x = np.mgrid[:height, :width] / np.array([height, width])[:, None, None]
    paper = 0.5 + 0.3 * x * y + 0.1 * np.sin(6 * y)
    top, left = rng.integers(10, height - 234), rng.integers(10, width - 234)
    paper[top : top + 224, left : left + 224] *= 1 - 0.85 * big
    photo = np.clip(paper + rng.normal(0, 0.02, paper.shape), 0, 1)
    out = io.BytesIO()
    Image.fromarray((photo * 255).astype(np.uint8)).save(out, "JPEG", quality=70)
    return out.getvalue()


@pytest.mark.real_data
def test_real_mnist_digits_survive_being_photographed(data_root: Path) -> None:
    rng = np.random.default_rng(0)
    digits = _mnist_test_digits(data_root, 20)
    scores = [
        _correlation(to_mnist(load_image_bytes(_photograph(d, rng), f"digit-{i}.jpg")), d)
        for i, d in enumerate(digits)
    ]
    assert np.mean(scores) > 0.8


def test_a_mnist_style_input_comes_back_unchanged(tmp_path: Path) -> None:
    digit = preprocess_file(_white_on_black_png(tmp_path)).numpy()
    again = to_mnist(Image.fromarray((digit * 255).astype(np.uint8)))
    assert _correlation(digit, again) > 0.95


def test_a_12_megapixel_photo_takes_well_under_a_second(tmp_path: Path) -> None:
    path = _phone_photo_jpeg(tmp_path, size=(1000, 750), zoom=4)
    with Image.open(path) as photo:
        assert photo.size == (4000, 3000)
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        digit = preprocess_file(path)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 1.0
    assert _correlation(digit, preprocess_file(_white_on_black_png(tmp_path))) > 0.9


def _seven_in_mode(mode: str) -> Image.Image:
    gray = Image.new("L", (300, 300), 230)
    _draw_seven(gray, 80, 40, 200, 20, 22)
    if mode == "I;16":
        return Image.fromarray(np.asarray(gray).astype(np.uint16) * 257)
    if mode == "F":
        return Image.fromarray(np.asarray(gray, np.float32) / 255, "F")
    if mode == "LA":
        ink = np.asarray(gray) < 128
        alpha = Image.fromarray(np.where(ink, 255, 0).astype(np.uint8))
        return Image.merge("LA", (gray, alpha))
    if mode == "1":
        return gray.convert("1", dither=Image.Dither.NONE)
    return gray.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "1", "CMYK", "I;16", "F", "LA"])
def test_every_image_mode_gives_the_same_digit(mode: str) -> None:
    reference = to_mnist(_seven_in_mode("L"))
    assert _correlation(to_mnist(_seven_in_mode(mode)), reference) > 0.97


def test_flatten_alpha_puts_strokes_on_the_opposite_colour() -> None:
    alpha = np.zeros((10, 10), np.float32)
    alpha[4:6, 2:8] = 1.0
    white = flatten_alpha(np.ones((10, 10), np.float32), alpha)
    dark = flatten_alpha(np.zeros((10, 10), np.float32), alpha)
    assert white[5, 5] == 1.0 and white[0, 0] == 0.0  # white strokes land on black
    assert dark[5, 5] == 0.0 and dark[0, 0] == 1.0  # dark strokes land on white


def test_exif_orientation_of_phone_photos_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.new("RGB", (200, 100), "white").save(tmp_path / "rotated.jpg", exif=exif)
    assert load_image(tmp_path / "rotated.jpg").size == (100, 200)


def test_load_image_bytes_reads_what_load_image_reads(tmp_path: Path) -> None:
    path = _phone_photo_jpeg(tmp_path)
    from_bytes = to_mnist(load_image_bytes(path.read_bytes(), "upload.jpg"))
    assert torch.equal(from_bytes, preprocess_file(path))


def _png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height grey pixels (and holds none)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "PNG")
    return out.getvalue()[: len(out.getvalue()) // 2]


def _blank_jpeg() -> bytes:
    paper = np.clip(np.random.default_rng(0).normal(0.8, 0.02, (300, 400)), 0, 1)
    out = io.BytesIO()
    Image.fromarray((paper * 255).astype(np.uint8)).save(out, "JPEG")
    return out.getvalue()


BROKEN_FILES = {
    "empty.png": (b"", "empty"),
    "notes.png": (b"shopping list: milk, eggs\n", "not an image"),
    "truncated.png": (_truncated_png(), "truncated"),
    "over-the-cap.png": (_png_claiming_size(8000, 6000), "too large"),
    "pil-bomb-warning.png": (_png_claiming_size(10_000, 10_000), "too large"),
    "pil-bomb-error.png": (_png_claiming_size(20_000, 20_000), "too large"),
    "blank-paper.jpg": (_blank_jpeg(), "no digit found"),
}


@pytest.mark.parametrize("name", BROKEN_FILES)
def test_a_bad_file_gets_an_image_error_naming_it(tmp_path: Path, name: str) -> None:
    data, what = BROKEN_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ImageError, match=what) as error:
        preprocess_file(path)
    assert str(error.value).startswith(f"{path}: ")
    with pytest.raises(ImageError, match=what) as error:
        to_mnist(load_image_bytes(data, "upload.png"), name="upload.png")
    assert str(error.value).startswith("upload.png: ")


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_a_missing_file_or_a_folder_gets_an_image_error_naming_it(
    tmp_path: Path, make: str
) -> None:
    path = tmp_path / "digit.png"
    if make == "folder":
        path.mkdir()
    with pytest.raises(ImageError) as error:
        preprocess_file(path)
    assert str(error.value).startswith(f"{path}: ")


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = _white_on_black_png(tmp_path)
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    results, errors = [], []
    for path in [bad, good, tmp_path / "missing.png", good]:
        try:
            results.append(preprocess_file(path))
        except ImageError as e:
            errors.append(str(e))
    assert len(results) == 2 and len(errors) == 2


def _tiny_classifier() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(784, 10))


def test_predict_images_is_softmax_of_the_normalised_input() -> None:
    model = _tiny_classifier()
    images = torch.rand(5, 28, 28)
    probs = predict_images(model, images, mean=0.1307, std=0.3081)
    assert probs.shape == (5, 10)
    assert torch.allclose(probs.sum(dim=1), torch.ones(5))
    with torch.no_grad():
        model.eval()
        logits = model(((images - 0.1307) / 0.3081).unsqueeze(1))
    assert torch.allclose(probs, torch.softmax(logits, dim=1), atol=1e-6)
    assert not probs.requires_grad


def test_predict_images_is_deterministic_and_restores_training_mode() -> None:
    model = _tiny_classifier().train()
    images = torch.rand(3, 28, 28)
    first = predict_images(model, images, 0.0, 1.0)
    assert torch.equal(first, predict_images(model, images, 0.0, 1.0))  # dropout was off
    assert model.training


def test_predict_images_refuses_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        predict_images(_tiny_classifier(), torch.rand(2, 1, 28, 28), 0.0, 1.0)
