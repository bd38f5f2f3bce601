"""Our strongest MNIST model: a small CNN with batch normalization, dropout and augmentation.

It takes the CNN of `cnn.py` three modern steps further, each fixing a problem the workshop meets:
- batch normalization after each convolution keeps every layer's inputs centred and scaled, so a
  large learning rate trains fast and stably;
- dropout in the fully connected head switches random units off during training, so no unit can
  rely on another one: a cheap way to fight overfitting;
- its recipe trains on randomly shifted and rotated digits, or mirrored clothes (the changes
  that keep each dataset's classes, `data/registry.py`), more examples for free;
- with the option `tta` (test-time augmentation) it answers each test image by averaging its
  answers for a few views of it: the image and its 1-pixel shifts (`tta=shift`), or the image
  and its mirror (`tta=flip`, for clothes). The 99.5% recipe uses it.
Three conv blocks with 2x2 max pooling (28 -> 14 -> 7 -> 3) keep the FLOPs small enough for a CPU;
for clothes, the last two blocks stack two convolutions before they pool (`convs=[1, 2, 2]`).
The goal is >= 99.6% test accuracy on MNIST.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.models.registry import DatasetRecipe, Recipe, TunedRecipe, register_model
from dnnexplorer.train.augment import TTA_VIEWS, tta_views

FINAL_SIZE = 3  # 28 -> 14 -> 7 -> 3: max pooling floors 7/2 and drops an all-background edge


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A 3x3 convolution that keeps the size (padding 1). No bias: the batch norm after it
    subtracts each map's mean, and adds its own shift (beta)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)


def conv_block(
    in_channels: int, out_channels: int, pool_first: bool = True, convs: int = 1
) -> nn.Sequential:
    """conv 3x3 -> 2x2 max pool -> batch norm -> ReLU: (B, in, S, S) -> (B, out, S/2, S/2).

    Pooling comes right after the convolution, as in `cnn.py`, so batch norm and ReLU work on a
    quarter of the pixels: 1.5x faster per epoch on a 2-core CPU, and as accurate (BENCHMARKS.md;
    fast CIFAR-10 trainers pool first too). With `pool_first=False` the block is the textbook
    conv -> batch norm -> ReLU -> pool, kept to compare (`--option pool_first=false`).

    With `convs=2` the block first stacks a conv 3x3 -> batch norm -> ReLU at full size, as VGG
    does: two 3x3 convolutions see a 5x5 patch, with fewer weights than one 5x5 and a ReLU
    between them, so each pooled feature can be a more complex pattern.
    """
    stacked: list[nn.Module] = []
    for _ in range(convs - 1):  # full-size conv -> batch norm -> ReLU, before the pooled one
        stacked += [conv3x3(in_channels, out_channels), nn.BatchNorm2d(out_channels), nn.ReLU()]
        in_channels = out_channels
    conv = conv3x3(in_channels, out_channels)
    if pool_first:
        pooled = [conv, nn.MaxPool2d(2), nn.BatchNorm2d(out_channels), nn.ReLU()]
    else:
        pooled = [conv, nn.BatchNorm2d(out_channels), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*stacked, *pooled)


class BestCNN(nn.Module):
    """Three conv-pool-BN-ReLU blocks, then flatten -> Linear -> ReLU -> dropout -> Linear."""

    def __init__(
        self,
        num_classes: int = 10,
        channels: Sequence[int] = (16, 32, 64),
        hidden: int = 128,
        dropout: float = 0.3,
        pool_first: bool = True,
        tta: str = "none",
        convs: Sequence[int] = (1, 1, 1),
    ) -> None:
        super().__init__()
        for name, values in (("channels", channels), ("convs", convs)):  # one per block
            if len(values) != 3 or any(not isinstance(v, int) or v < 1 for v in values):
                raise ConfigError(f"best: {name} must be 3 positive integers, got {list(values)}")
        if hidden < 1:
            raise ConfigError(f"best: hidden must be a positive integer, got {hidden}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"best: dropout must be in [0, 1), got {dropout}")
        if tta not in TTA_VIEWS:
            known = ", ".join(TTA_VIEWS)
            raise ConfigError(f"best: tta must be one of {known}, got {tta!r}")
        self.tta = tta
        c1, c2, c3 = channels
        n1, n2, n3 = convs
        self.features = nn.Sequential(
            conv_block(1, c1, pool_first, n1),  # (B, 1, 28, 28) -> (B, c1, 14, 14)
            conv_block(c1, c2, pool_first, n2),  # -> (B, c2, 7, 7)
            conv_block(c2, c3, pool_first, n3),  # -> (B, c3, 3, 3)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (B, c3, 3, 3) -> (B, c3*9)
            nn.Linear(c3 * FINAL_SIZE * FINAL_SIZE, hidden),  # -> (B, hidden)
            nn.ReLU(),
            nn.Dropout(dropout),  # training only: model.eval() turns it off
            nn.Linear(hidden, num_classes),  # (B, hidden) -> (B, num_classes) logits
        )

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B, num_classes); in eval mode with `tta`, the mean log-probabilities of the
        views (a softmax of them is the views' normalized geometric-mean probability)."""
        if self.training or self.tta == "none":
            return self.classify(x)
        # One view at a time, so that each pass has the batch size the caller chose: evaluate()
        # picks a CPU-cache-sized one, and 5 shifted views in one batch of 5x that size were
        # 1.8x slower on a 2-core CPU.
        views = tta_views(x, self.tta)  # V batches (B, 1, 28, 28)
        log_probs = torch.stack([self.classify(v).log_softmax(dim=1) for v in views])
        return log_probs.mean(dim=0)  # (V, B, num_classes) -> (B, num_classes)

    def classify(self, x: Tensor) -> Tensor:
        """One view: (B, 1, 28, 28) -> logits (B, num_classes)."""
        feature_maps = self.features(x)  # (B, 1, 28, 28) -> (B, c3, 3, 3)
        return self.classifier(feature_maps)  # -> (B, num_classes)


EVERYDAY = Recipe(
    epochs=15,
    batch_size=128,
    lr=4e-3,
    optimizer="adam",
    schedule="onecycle",
    weight_decay=1e-4,
    augment=True,
    label_smoothing=0.05,
)


@register_model(
    "best",
    description="our strongest CNN: conv-pool-BN-ReLU x3 (16, 32, 64), dropout, augmentation",
    recipe=EVERYDAY,
    # Clothes: the same 15 epochs on mirrored garments, with the wider first layers of the 93%
    # recipe below, two convolutions before each of the last two poolings (convs=[1, 2, 2]: 2.3x
    # the multiply-adds) and each test image judged with its mirror (tta=flip): 93.93% ± 0.15%
    # over seeds 0-4, where one convolution per block ended at 93.56% ± 0.06% (BENCHMARKS.md,
    # the `fashion-table` case; the best small CNN of the dataset's table has 93.9%). With one
    # convolution per block the network fitted 97% of its training set, and none of these
    # helped it (seed 1 on one thread, 93.62% before): 30 epochs (93.56%), channels (32, 64,
    # 128) with a hidden layer of 256 (93.53%), dropout 0.5 (93.45%), cutout of a 10x10 square
    # (93.45%), weight decay 0.05 (93.52% over seeds 0-4), SGD with Nesterov momentum at lr 0.1
    # (93.54%), pooling 7 -> 4 to keep the last row and column (93.53%). Stacked: 94.04%.
    dataset_recipes=(
        DatasetRecipe(
            "fashion-mnist",
            EVERYDAY,
            {"channels": [32, 48, 64], "convs": [1, 2, 2], "tta": "flip"},
        ),
    ),
    tuned=(
        # 99.5% in 3 epochs: a 3-epoch schedule with label smoothing 0.1, judged with the image
        # and its four 1-pixel shifts (tta=shift). Seeds 0-9 ended at 99.52% on average with
        # shifts (7 of 10 reaching 99.5%) and 99.48% without them (see BENCHMARKS.md); a 4-epoch
        # schedule without shifts ends at 99.48% too, one of 8 epochs needs 6 (median).
        TunedRecipe(
            "mnist",
            0.995,
            Recipe(
                epochs=3,
                batch_size=128,
                lr=4e-3,
                weight_decay=1e-4,
                augment=True,
                label_smoothing=0.1,
            ),
            options={"tta": "shift"},
        ),
        # Fashion-MNIST, 92%: 6 epochs without augmentation at the default width (92.23% ±
        # 0.15%, 5 of 5 seeds, in BENCHMARKS.md's Xeon run, then with the textbook block order).
        TunedRecipe(
            "fashion-mnist",
            0.92,
            Recipe(epochs=6, batch_size=128, lr=4e-3, weight_decay=1e-4, label_smoothing=0.05),
        ),
        # Fashion-MNIST, 93%: wider first layers (32, 48, 64 channels: clothes have more texture
        # than digits), 7 epochs on randomly mirrored garments (the dataset's augmentation), each
        # test image judged with its mirror (tta=flip). With seed 0: 93.33% with the mirror,
        # 92.93% without; the default width ends at 92.70% after 8 epochs. 6 epochs averaged
        # 92.944% over 10 seeds (3 reaching 93%); a 7th lifted seeds 1, 2 and 4 by 0.46, 0.10 and
        # 0.14 points (BENCHMARKS.md). Mirroring at test time needs mirroring in training:
        # without it, 8 epochs end at 92.51% alone and 84% with mirrors (all of the training
        # set's shoes face one way); shifts do not help clothes, in training or at test time.
        TunedRecipe(
            "fashion-mnist",
            0.93,
            Recipe(
                epochs=7,
                batch_size=128,
                lr=4e-3,
                weight_decay=1e-4,
                augment=True,
                label_smoothing=0.05,
            ),
            options={"channels": [32, 48, 64], "tta": "flip"},
        ),
    ),
)
def build_best(
    num_classes: int = 10,
    channels: Sequence[int] = (16, 32, 64),
    hidden: int = 128,
    dropout: float = 0.3,
    pool_first: bool = True,
    tta: str = "none",
    convs: Sequence[int] = (1, 1, 1),
) -> BestCNN:
    """Options: `channels` of the three conv blocks, `hidden` width, `dropout` probability,
    `pool_first` (False: the textbook conv -> batch norm -> ReLU -> pool blocks, slower),
    `tta` test-time views: none, shift (the image and its 4 one-pixel shifts) or flip, `convs`
    the 3x3 convolutions each block stacks before it pools (e.g. [1, 2, 2])."""
    return BestCNN(num_classes, channels, hidden, dropout, pool_first, tta, convs)
