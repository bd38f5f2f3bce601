"""Turning a grey-level picture of one digit into an MNIST-style 28x28 image.

A network trained on MNIST only knows digits prepared the way LeCun et al. (1998) prepared them:
bright ink on a black background, cropped to the ink, scaled so the longer side fits a 20x20
box (keeping the aspect ratio, anti-aliased), and pasted into 28x28 so that the centre of mass
of the ink lands on the centre. A phone photo of a digit on paper is nothing like that (dark ink,
uneven light, noise, digit anywhere), so before asking the network we redo LeCun's steps:

    polarity (ink bright) -> remove uneven light -> threshold noise -> keep the digit's blobs
    -> crop -> thicken thin pen strokes -> fit 20x20 -> centre in 28x28

Every step here is a pure function of numpy arrays of floats in [0, 1], shape (H, W), so each
can be tested alone. Reading files, PIL modes and transparency are `dnnexplorer.predict`'s job.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

MNIST_SIZE = 28  # side of an MNIST image
DIGIT_BOX = 20  # LeCun: the digit's longer side is scaled to 20 pixels
MIN_CONTRAST = 0.08  # ink must differ from the paper by at least 8% of the grey range
FLAT_PAPER = 0.1  # paper whose grey levels span less than this is evenly lit
OPENING_FRACTION = 10  # the opening's window is this fraction of the picture's longer side
EDGE_REACH = 5  # grey edge pixels this close (in working pixels) to a stroke belong to it
MIN_STROKE = 1.8  # MNIST strokes are 2-3 px wide: thin pen strokes are thickened to this


def box_blur(a: np.ndarray, k: int) -> np.ndarray:
    """Mean over a k x k window (edges repeated), via cumulative sums."""
    if k <= 1:
        return a
    pad = k // 2
    p = np.pad(a, ((pad, k - 1 - pad), (pad, k - 1 - pad)), mode="edge").astype(np.float64)
    c = np.cumsum(np.pad(p, ((1, 0), (1, 0))), axis=0)
    c = np.cumsum(c, axis=1)
    h, w = a.shape
    s = c[k : k + h, k : k + w] - c[:h, k : k + w] - c[k : k + h, :w] + c[:h, :w]
    return (s / (k * k)).astype(a.dtype)


def _sliding_down(a: np.ndarray, k: int, op: np.ufunc) -> np.ndarray:
    """Min or max over windows of k rows (edges repeated), in O(1) per pixel.

    van Herk / Gil-Werman: cut the rows into blocks of k; a window spans the end of one block and
    the start of the next, so it is op(suffix of the first block, prefix of the second).
    """
    n = a.shape[0]
    pad = k // 2
    if k <= 8:  # for a small window, k shifted copies are quicker than the block trick
        p = np.pad(a, [(pad, k - 1 - pad), (0, 0)], mode="edge")
        out = p[:n]
        for i in range(1, k):
            out = op(out, p[i : i + n])
        return out
    extra = -(n + k - 1) % k  # pad to a whole number of blocks
    p = np.pad(a, [(pad, k - 1 - pad + extra), (0, 0)], mode="edge")
    blocks = p.reshape(-1, k, p.shape[1])  # (blocks, k, W): each step works on whole rows
    prefix = op.accumulate(blocks, axis=1).reshape(p.shape)
    suffix = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(p.shape)
    return op(suffix[:n], prefix[k - 1 : k - 1 + n])


def sliding_extreme(a: np.ndarray, k: int, op: np.ufunc) -> np.ndarray:
    """Min or max over a k x k window: grey-level erosion (np.minimum) or dilation (np.maximum)."""
    if k <= 1:
        return a
    down = _sliding_down(a, k, op)
    return np.ascontiguousarray(_sliding_down(np.ascontiguousarray(down.T), k, op).T)


def _frame(a: np.ndarray) -> np.ndarray:
    """The pixels of the outer frame (a twentieth of the shorter side wide), flattened."""
    m = max(1, min(a.shape) // 20)
    return np.concatenate([a[:m], a[-m:], a[:, :m].T, a[:, -m:].T], axis=None)


def ink_bright(gray: np.ndarray) -> np.ndarray:
    """Return the image with ink bright, as in MNIST: invert it if the ink is darker than the paper.

    The paper is what most pixels show (the median); the ink is whichever extreme (the darkest or
    the brightest spot) lies further from it.
    """
    paper = float(np.median(gray))
    smooth = box_blur(gray, 3)  # one noisy pixel is not the ink
    dark_ink = paper - float(smooth.min()) > float(smooth.max()) - paper
    return 1.0 - gray if dark_ink else gray


def fit_light(ink: np.ndarray, grid: int = 16, rounds: int = 3) -> np.ndarray:
    """Least squares fit of the paper's light as a quadratic surface: the lesson's linear model.

    light(x, y) = w . [1, x, y, x^2, xy, y^2] is linear in w, so `np.linalg.lstsq` finds it. It is
    fitted to the medians of a grid of blocks (mostly paper even where a stroke passes); after each
    round, blocks far above the surface (ink) are left out of the next fit.
    """
    h, w = ink.shape
    side = max(1, min(h, w, max(h, w) // grid))  # block side in pixels
    rows, cols = h // side, w // side
    blocks = ink[: rows * side, : cols * side].reshape(rows, side, cols, side)
    medians = np.median(blocks, axis=(1, 3)).ravel().astype(np.float64)  # (rows * cols,)
    y, x = np.meshgrid((np.arange(rows) + 0.5) * side / h, (np.arange(cols) + 0.5) * side / w,
                       indexing="ij")  # fmt: skip
    design = _quadratic(2 * y.ravel() - 1, 2 * x.ravel() - 1)  # (rows * cols, 6)
    weights = np.zeros(design.shape[1])
    weights[0] = np.median(medians)  # start from flat paper
    for _ in range(rounds):
        residual = medians - design @ weights
        centre = np.median(residual)
        spread = 1.4826 * np.median(np.abs(residual - centre))
        use = residual <= centre + max(2.5 * spread, MIN_CONTRAST / 2)
        if use.sum() < design.shape[1]:
            break
        weights = np.linalg.lstsq(design[use], medians[use], rcond=None)[0]  # (6,)
    y = (2 * (np.arange(h) + 0.5) / h - 1)[:, None]  # (H, 1)
    x = (2 * (np.arange(w) + 0.5) / w - 1)[None, :]  # (1, W)
    c = weights
    light = c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * x * y + c[5] * y * y  # (H, W)
    return light.astype(np.float32)


def _quadratic(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Features [1, x, y, x^2, xy, y^2] of coordinates in [-1, 1]: shape (..., 6)."""
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)


def remove_background(ink: np.ndarray) -> np.ndarray:
    """Subtract an estimate of the paper, so uneven light (vignetting, a shadow) is not ink.

    Smooth light is a fitted surface (`fit_light`): if the paper is flat once it is removed, that
    surface is the background. Otherwise (a shadow's edge, a table beside the sheet) a grey-level
    opening (min, then max, over a window a tenth of the picture wide) erases every stroke
    narrower than the window and keeps the rest: that is the background.
    """
    flat = ink - fit_light(ink)
    smooth = box_blur(flat, 3)  # noise averaged out, so only the light is measured
    # Paper pixels, a few pixels away from any ink so the strokes' grey edges do not count.
    paper = smooth[sliding_extreme(flat <= otsu_threshold(flat), 7, np.minimum)]
    low, level, high = np.percentile(paper if paper.size else smooth, [5, 50, 95])
    # A table or a shadow reaching in from outside shows on the frame even where paper is flat.
    frame_top = np.percentile(_frame(smooth), 90)
    if high - low < FLAT_PAPER and frame_top - level < FLAT_PAPER:
        return flat - float(level)
    k = max(3, (max(ink.shape) // OPENING_FRACTION) | 1)
    # The picture goes on past its edges as it ends (edge padding): the light's slope and a table
    # seen along a side continue outward, so the window fits over them there too.
    m = k - 1
    padded = np.pad(ink, m, mode="edge")
    opened = sliding_extreme(sliding_extreme(padded, k, np.minimum), k, np.maximum)
    return ink - opened[m:-m, m:-m]


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu (1979): the level splitting values into two classes of max between-class variance."""
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return lo
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)[:-1].astype(np.float64)
    w1 = counts.sum() - w0
    s0 = np.cumsum(counts * centres)[:-1]
    mean0 = s0 / np.maximum(w0, 1)
    mean1 = (float((counts * centres).sum()) - s0) / np.maximum(w1, 1)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(edges[1 + int(np.argmax(between))])


def threshold_ink(residual: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Split background-free ink from paper noise: (grey ink in [0, 1], mask of sure ink).

    The grey map runs from the paper's noise level (0) to solid ink (1), so stroke edges keep
    their grey levels as MNIST's anti-aliased ones do; the mask (above Otsu's threshold) says
    where the strokes surely are. None when nothing stands out from the noise (a blank picture).
    """
    centre = float(np.median(residual))
    noise = 1.4826 * float(np.median(np.abs(residual - centre)))  # robust std of the paper
    peak = float(box_blur(residual, 3).max())
    if peak - centre < max(MIN_CONTRAST, 6 * noise):
        return None
    sure = residual > max(otsu_threshold(residual), centre + 5 * noise)
    floor = centre + 3 * noise
    solid = float(np.percentile(residual[sure], 90)) if sure.any() else peak
    if solid <= floor:
        return None
    grey = np.clip((residual - floor) / (solid - floor), 0.0, 1.0).astype(np.float32)
    return grey, sure


def label_components(mask: np.ndarray) -> np.ndarray:
    """Label the 8-connected blobs of a boolean mask: (H, W) ints, -1 off the mask.

    Each pixel points to a parent; neighbours repeatedly hook onto the smaller root and paths are
    compressed (pointer jumping): a few vectorised passes, not a Python loop over pixels.
    """
    h, w = mask.shape
    index = np.arange(h * w).reshape(h, w)
    pairs = []
    for a, b in [
        (np.s_[:, :-1], np.s_[:, 1:]),
        (np.s_[:-1, :], np.s_[1:, :]),
        (np.s_[:-1, :-1], np.s_[1:, 1:]),
        (np.s_[:-1, 1:], np.s_[1:, :-1]),
    ]:
        both = mask[a] & mask[b]
        pairs.append((index[a][both], index[b][both]))
    left = np.concatenate([p[0] for p in pairs])
    right = np.concatenate([p[1] for p in pairs])
    parent = np.arange(h * w)
    while True:
        roots_l, roots_r = parent[left], parent[right]
        if np.array_equal(roots_l, roots_r):
            break
        low = np.minimum(roots_l, roots_r)
        np.minimum.at(parent, roots_l, low)
        np.minimum.at(parent, roots_r, low)
        while not np.array_equal(parent[parent], parent):
            parent = parent[parent]
    return np.where(mask, parent.reshape(h, w), -1)


def keep_digit(grey: np.ndarray, sure: np.ndarray, min_share: float = 0.1) -> np.ndarray:
    """Keep the blobs holding at least `min_share` of the biggest blob's ink: specks are dropped.

    A digit may be drawn in strokes that do not touch (the bar of a 7), so every large blob is
    kept, not just the largest; with it, the grey edge pixels just around it.
    """
    labels = label_components(sure)
    on = labels >= 0
    _, inverse = np.unique(labels[on], return_inverse=True)
    mass = np.bincount(inverse, weights=grey[on])
    keep = np.zeros(labels.shape, dtype=bool)
    keep[on] = (mass >= min_share * mass.max())[inverse]
    near = sliding_extreme(keep, EDGE_REACH, np.maximum)
    return np.where(near, grey, 0.0).astype(np.float32)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Cut the image down to the bounding box of its non-zero pixels."""
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: area / half the boundary (a w x L stroke has a 2L boundary)."""
    mask = ink > 0
    inner = sliding_extreme(mask, 3, np.minimum)
    boundary = int((mask & ~inner).sum())
    return 2.0 * float(mask.sum()) / max(boundary, 1)


def thicken_thin_strokes(crop: np.ndarray) -> np.ndarray:
    """Dilate strokes that would end up thinner than MNIST's once scaled to the 20x20 box.

    A ball-point line on a big sheet shrinks to a faint fraction of a pixel; MNIST was written with
    thicker pens, so a network trained on it has never seen such hairlines.
    """
    scale = DIGIT_BOX / max(crop.shape)
    missing = MIN_STROKE / scale - stroke_width(crop)  # in crop pixels
    if missing < 1.0:
        return crop
    k = round(missing) | 1
    padded = np.pad(crop, k // 2)
    return sliding_extreme(padded, k, np.maximum)


def fit_box(crop: np.ndarray, box: int = DIGIT_BOX) -> np.ndarray:
    """Scale so the longer side is `box` pixels, keeping the aspect ratio (anti-aliased)."""
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Shrinking averages each output pixel's area (LeCun's anti-aliasing); growing interpolates.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(crop.astype(np.float32), "F").resize(size, resample))
    small = np.clip(small, 0.0, 1.0)
    return small / small.max() if small.max() > 0 else small


def centre_by_mass(digit: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """Paste into a size x size black image so the ink's centre of mass falls on pixel (14, 14).

    That is where MNIST's digits have it (mean centre of mass of the test set: 14.0, 14.0).
    The shift is whole pixels, so strokes stay sharp; it is clamped so no ink falls off the edge.
    """
    h, w = digit.shape
    rows, cols = np.indices(digit.shape)
    total = float(digit.sum())
    cy, cx = float((rows * digit).sum()) / total, float((cols * digit).sum()) / total
    top = int(np.clip(round(size / 2 - cy), 0, size - h))
    left = int(np.clip(round(size / 2 - cx), 0, size - w))
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + h, left : left + w] = digit
    return out


def mnist_from_gray(gray: np.ndarray) -> np.ndarray | None:
    """All the steps: grey (H, W) in [0, 1] -> (28, 28) bright ink in [0, 1]; None if blank."""
    gray = gray.astype(np.float32)
    found = threshold_ink(remove_background(ink_bright(gray)))
    if found is None:
        return None
    digit = keep_digit(*found)
    if not digit.any():
        return None
    crop = crop_to_ink(digit)
    if max(crop.shape) < max(3, 0.02 * max(gray.shape)):
        return None  # a speck of dust, not a digit
    return centre_by_mass(fit_box(thicken_thin_strokes(crop)))
