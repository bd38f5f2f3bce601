"""k-nearest neighbours (kNN): memorise the examples, then let the nearest ones vote.

One of the supervised algorithms the slides list beside neural networks, and the baseline of
the `why-deep` lesson. "Training" is storing the labelled images. To label a new image, find
the k stored images nearest to it (squared distance between the two images' pixel values,
summed over the 784 pixels) and take the label most of them carry. A tie goes to the tied label
whose image is nearest: with k = 3, when all three disagree, the nearest one decides.

Nothing is learned, so nothing is summarised either: every prediction compares the new image
with every stored one, and predicting gets slower as the training set grows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from dnnexplorer.data import Dataset

K = 3  # neighbours that vote
CHUNK = 256  # query images per block of distances: a (256, 60000) block of floats is 60 MB


def pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (N, 28, 28) -> (N, 784) floats on the slides' [0, 1] scale."""
    return images.flatten(1).float() / 255


def squared_distances(queries: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """||q − x||² for every pair, computed as ||q||² − 2 q·x + ||x||²: (T, D), (N, D) -> (T, N).

    The middle term is one matrix product, which is why kNN over 60,000 images takes seconds.
    """
    q2 = (queries * queries).sum(dim=1, keepdim=True)  # (T, 1)
    x2 = (points * points).sum(dim=1)  # (N,)
    return (q2 - 2 * queries @ points.T + x2).clamp_(min=0)  # (T, N)


def vote(neighbour_labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The label most neighbours carry, in each row of labels nearest first: (T, k) -> (T,).

    A tie goes to the tied label whose neighbour comes nearest.
    """
    votes = F.one_hot(neighbour_labels, num_classes).sum(dim=1)  # (T, num_classes)
    most = votes == votes.max(dim=1, keepdim=True).values  # (T, num_classes): the winners
    wins = most.gather(1, neighbour_labels)  # (T, k): does this neighbour's label win?
    first = wins.float().argmax(dim=1, keepdim=True)  # (T, 1): the nearest such neighbour
    return neighbour_labels.gather(1, first).squeeze(1)  # (T,)


def nearest(queries: torch.Tensor, points: torch.Tensor, k: int = K) -> torch.Tensor:
    """Indices of the k rows of `points` nearest to each query, nearest first: (T, k)."""
    return squared_distances(queries, points).topk(k, largest=False).indices


def knn_predict(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    sizes: Sequence[int] | None = None,
    k: int = K,
    num_classes: int = 10,
) -> dict[int, torch.Tensor]:
    """The predicted class of each row of test_x (T, D) by kNN over the first N rows of train_x.

    One prediction tensor (T,) per N in `sizes` (default: all of train_x). The sizes nest (the
    first 1,000 rows are among the first 5,000), so one pass of distances serves them all.
    """
    sizes = list(sizes or [len(train_x)])
    picks: dict[int, list[torch.Tensor]] = {n: [] for n in sizes}
    for chunk in test_x.split(CHUNK):
        distances = squared_distances(chunk, train_x)  # (c, N)
        for n in sizes:
            picks[n].append(distances[:, :n].topk(k, largest=False).indices)  # (c, k)
    return {n: vote(train_y[torch.cat(p)], num_classes) for n, p in picks.items()}


def knn_accuracy(
    dataset: Dataset, order: torch.Tensor, test: torch.Tensor, sizes: Sequence[int], k: int = K
) -> list[float]:
    """kNN's accuracy on the test images `test` when it memorises the first N training images
    of `order`, for each N in `sizes`."""
    memory = order[: max(sizes)]  # the largest set; the smaller ones are its first rows
    train_x, train_y = pixels(dataset.train_images[memory]), dataset.train_labels[memory]
    test_x, test_y = pixels(dataset.test_images[test]), dataset.test_labels[test]
    predictions = knn_predict(train_x, train_y, test_x, sizes, k, len(dataset.classes))
    return [float((predictions[n] == test_y).float().mean()) for n in sizes]
