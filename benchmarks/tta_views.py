"""Test-time views in `best`: one pass per view against all views stacked in one pass, side by
side, on the 10,000 test images of each recipe that uses them.

With `tta`, `best` classifies each test image several times (the image and its four 1-pixel
shifts for MNIST, the image and its mirror for Fashion-MNIST) and averages the answers.
`evaluate()` hands the network CPU-cache-sized batches (512 images); stacking 5 views of them
into one pass makes each pass 5x that size. This times one evaluation of the test set both ways
(the weights are untrained: speed does not depend on them), interleaved so that a change in the
machine's load hits both alike, and prints the medians, their spread and the ratio.

    DNNX_DATA=/path/to/data python benchmarks/tta_views.py [--repeats 5]

Measure on an idle machine (`uptime`); the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import Tensor, nn

from dnnexplorer.data import load_dataset
from dnnexplorer.models.registry import create_model
from dnnexplorer.train.augment import tta_views
from dnnexplorer.train.loop import evaluate
from dnnexplorer.train.threads import available_cores

RECIPES = {  # the options each tuned recipe gives `best` (models/best.py)
    "mnist": {"tta": "shift"},
    "fashion-mnist": {"channels": [32, 48, 64], "convs": [1, 2, 2], "tta": "flip"},
}


class AllViewsInOnePass(nn.Module):
    """`best` as it evaluated before: every view of the batch stacked into one pass."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        views = tta_views(x, self.model.tta)
        log_probs = self.model.classify(torch.cat(views)).log_softmax(dim=1)  # (V*B, classes)
        return log_probs.view(len(views), len(x), -1).mean(dim=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(available_cores())
    print(f"{torch.get_num_threads()} threads; medians of {args.repeats} evaluations")
    print("| dataset | views | one pass per view, s | all views in one pass, s | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for dataset_name, options in RECIPES.items():
        data = load_dataset(dataset_name)
        images, labels = data.test_images, data.test_labels
        model = create_model("best", **options).to(memory_format=torch.channels_last).eval()
        ways = {"per view": model, "in one pass": AllViewsInOnePass(model)}
        seconds: dict[str, list[float]] = {way: [] for way in ways}
        for _ in range(args.repeats):
            for way, net in ways.items():
                start = time.perf_counter()
                evaluate(net, images, labels, data.mean, data.std)
                seconds[way].append(time.perf_counter() - start)
        views = len(tta_views(images[:1, None].float(), options["tta"]))  # (1, 1, 28, 28)
        per_view, one_pass = (statistics.median(seconds[way]) for way in ways)
        cells = [
            f"{statistics.median(s):.2f} ({min(s):.2f}-{max(s):.2f})" for s in seconds.values()
        ]
        ratio = one_pass / per_view
        print(f"| {dataset_name} | {views} | {cells[0]} | {cells[1]} | {ratio:.2f}x |")
    print(f"load average {os.getloadavg()[0]:.2f} (python benchmarks/tta_views.py)")


if __name__ == "__main__":
    main()
