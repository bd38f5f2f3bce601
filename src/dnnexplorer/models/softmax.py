"""Softmax regression: the workshop's "one layer NN", Y = softmax(XW + b).

Each 28x28 image is flattened to a row X of 784 pixels; one weight matrix W (784 x 10) and one
bias b turn it into ten "evidence" scores, the logits, and softmax turns those into probabilities.
Because each class score is a weighted sum of pixels, row i of `model.linear.weight` (shape
(10, 784)) reshaped to 28x28 is a picture of what the model looks for in digit i.
"""

from __future__ import annotations

from torch import Tensor, nn

from dnnexplorer.models.registry import Recipe, TunedRecipe, register_model

IMAGE_PIXELS = 28 * 28


class SoftmaxRegression(nn.Module):
    """Y = softmax(XW + b); `forward` returns the logits XW + b.

    The softmax itself is left to the loss: `F.cross_entropy(logits, labels)` applies log-softmax
    and cross-entropy in one numerically stable step, as the workshop's PyTorch slide says.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # nn.Linear stores W transposed, (num_classes, 784), and computes X @ W.T + b
        self.linear = nn.Linear(IMAGE_PIXELS, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)  # (B, 1, 28, 28) -> (B, 784): the rows of X
        return self.linear(x)  # (B, 784) -> (B, num_classes): the logits XW + b


@register_model(
    "softmax",
    description="softmax regression, Y = softmax(XW + b): one linear layer on the 784 pixels",
    recipe=Recipe(epochs=2, batch_size=128, lr=1e-2, optimizer="adam", schedule="onecycle"),
    tuned=(
        # One epoch is all the schedule has, hence a high peak rate (3e-3 stops at 91.7%).
        TunedRecipe("mnist", 0.92, Recipe(epochs=1, batch_size=128, lr=1e-2)),
    ),
)
def build_softmax(num_classes: int = 10) -> SoftmaxRegression:
    """The workshop's first model (about 92% on MNIST)."""
    return SoftmaxRegression(num_classes)
