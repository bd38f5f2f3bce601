"""The best CNN: batch norm and dropout behave differently in training and evaluation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.models import create_model, get_entry


def test_structure() -> None:
    model = create_model("best")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 3
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 1
    assert model.features(torch.randn(2, 1, 28, 28)).shape == (2, 64, 3, 3)


def test_each_block_pools_right_after_its_convolution() -> None:
    """conv -> max pool -> batch norm -> ReLU: batch norm and ReLU see a quarter of the pixels."""
    for block in create_model("best").features:
        kinds = [type(m) for m in block]
        assert kinds == [nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU]
    for block in create_model("best", pool_first=False).features:  # the textbook order
        assert [type(m) for m in block] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d]


def test_a_block_can_stack_convolutions_before_it_pools() -> None:
    """convs=[1, 2, 2]: the last two blocks put a full-size conv -> batch norm -> ReLU before the
    pooled convolution (VGG's stacks); the feature maps keep their shape."""
    model = create_model("best", convs=[1, 2, 2])
    stacked = [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU]
    assert [[type(m) for m in block] for block in model.features][1:] == [stacked, stacked]
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 5
    assert model.features(torch.randn(2, 1, 28, 28)).shape == (2, 64, 3, 3)
    second = model.features[1]
    assert (second[0].in_channels, second[0].out_channels) == (16, 32)  # then 32 -> 32
    assert (second[3].in_channels, second[3].out_channels) == (32, 32)


def test_one_convolution_per_block_keeps_the_weight_names_of_earlier_checkpoints() -> None:
    names = set(create_model("best", convs=[1, 1, 1]).state_dict())
    assert names == set(create_model("best").state_dict())
    assert "features.1.0.weight" in names and "features.1.2.running_mean" in names


@pytest.mark.parametrize("convs", [[1, 2], [1, 0, 2], [2, 2, 2, 2]])
def test_convs_must_be_three_positive_integers(convs: list) -> None:
    with pytest.raises(ConfigError, match="convs must be 3 positive integers"):
        create_model("best", convs=convs)


def test_pooling_first_computes_the_same_function_when_batch_norm_keeps_the_order() -> None:
    """Max pooling commutes with ReLU, and with batch norm when its scale (gamma) is positive:
    with the same weights in eval mode, both block orders give the same logits."""
    torch.manual_seed(0)
    first, last = create_model("best").eval(), create_model("best", pool_first=False).eval()
    for module in first.modules():
        if isinstance(module, nn.BatchNorm2d):  # statistics as after training, gamma > 0
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 2)
            module.bias.data.uniform_(-1, 1)
    renamed = {2: 1, 1: 3}  # in each block: batch norm moves from index 2 to 1, pool to 3
    state = {}
    for key, value in first.state_dict().items():
        parts = key.split(".")
        if parts[0] == "features":
            parts[2] = str(renamed.get(int(parts[2]), int(parts[2])))
        state[".".join(parts)] = value
    last.load_state_dict(state)
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(first(x), last(x), atol=1e-5, rtol=1e-4)


def test_eval_mode_is_deterministic_and_train_mode_is_not() -> None:
    torch.manual_seed(0)
    model = create_model("best", dropout=0.5)
    x = torch.randn(8, 1, 28, 28)
    model.eval()
    torch.testing.assert_close(model(x), model(x))  # dropout off, batch norm's running stats
    model.train()
    assert not torch.equal(model(x), model(x))  # a new dropout mask each call


def test_eval_mode_does_not_depend_on_the_rest_of_the_batch() -> None:
    """In evaluation batch norm uses its running statistics: one image, one answer."""
    torch.manual_seed(0)
    model = create_model("best").eval()
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(model(x)[:1], model(x[:1]), atol=1e-5, rtol=1e-4)


def test_recipe_augments() -> None:
    recipe = get_entry("best").recipe
    assert recipe.augment
    assert recipe.epochs >= 10


def test_test_time_augmentation_averages_the_log_probabilities_of_the_views() -> None:
    """With tta=shift, eval mode answers with the mean log-probabilities of the image and its
    four 1-pixel shifts, each classified on its own; train mode ignores tta."""
    torch.manual_seed(0)
    model = create_model("best", tta="shift").eval()
    x = torch.randn(3, 1, 28, 28)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
    crops = [(1, 1), (0, 1), (2, 1), (1, 0), (1, 2)]
    views = [padded[:, :, top : top + 28, left : left + 28] for top, left in crops]
    expected = torch.stack([model.classify(v).log_softmax(1) for v in views]).mean(0)
    torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(model(x), model.classify(x).log_softmax(1), atol=1e-4)
    model.train()
    torch.manual_seed(1)
    train_out = model(x)
    torch.manual_seed(1)
    torch.testing.assert_close(train_out, model.classify(x))  # same dropout mask, no views


def test_each_view_is_its_own_pass_with_the_callers_batch_size() -> None:
    """Evaluation picks a CPU-cache-sized batch; five views in one pass would be 5x that."""
    model = create_model("best", tta="shift").eval()
    seen: list[int] = []
    model.features.register_forward_hook(lambda module, args, out: seen.append(len(args[0])))
    with torch.inference_mode():
        model(torch.randn(7, 1, 28, 28))
    assert seen == [7] * 5


def test_flip_views_make_the_answer_mirror_invariant() -> None:
    torch.manual_seed(0)
    model = create_model("best", tta="flip").eval()
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(model(x), model(x.flip(dims=[3])), atol=1e-5, rtol=1e-4)
    plain = create_model("best").eval()
    plain.load_state_dict(model.state_dict())  # tta adds no weights: the same network
    assert not torch.allclose(plain(x), plain(x.flip(dims=[3])), atol=1e-4)


def test_unknown_test_time_views_are_refused() -> None:
    with pytest.raises(ConfigError, match="tta must be one of none, shift, flip"):
        create_model("best", tta="rotate")
