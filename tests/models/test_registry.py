"""Registry-driven tests: every registered model (and every activation of the models that take
one) is checked the moment it registers: shapes, gradients, parameter counts, a little training."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from dnnexplorer.errors import ConfigError
from dnnexplorer.models import (
    ACTIVATION_NAMES,
    Recipe,
    count_parameters,
    create_model,
    get_entry,
    list_models,
)
from dnnexplorer.models.registry import read_options

MODEL_NAMES = [entry.name for entry in list_models()]
TAKES_ACTIVATION = [n for n in MODEL_NAMES if "activation" in get_entry(n).default_options]
# every model with its default options, plus every activation of the models that take one
VARIANTS = [(name, {}) for name in MODEL_NAMES] + [
    (name, {"activation": act}) for name in TAKES_ACTIVATION for act in ACTIVATION_NAMES
]
VARIANT_IDS = [f"{n}-{o.get('activation', 'default')}" for n, o in VARIANTS]


def test_the_ladder_is_registered_in_story_order() -> None:
    assert MODEL_NAMES == ["softmax", "mlp", "cnn", "lenet5", "best"]
    assert TAKES_ACTIVATION == ["mlp", "cnn"]
    for entry in list_models():
        assert entry.description
        assert isinstance(entry.recipe, Recipe)


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("num_classes", [10, 7])
def test_logits_shape_and_finite_gradients(name: str, options: dict, num_classes: int) -> None:
    torch.manual_seed(0)
    model = create_model(name, num_classes=num_classes, **options)
    x = torch.randn(3, 1, 28, 28)  # (B, 1, 28, 28), already normalized
    logits = model(x)
    assert logits.shape == (3, num_classes)
    assert torch.isfinite(logits).all()
    F.cross_entropy(logits, torch.tensor([0, 1, 2])).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"
    assert sum(p.grad.abs().sum() for p in model.parameters()) > 0


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("softmax", {}, 784 * 10 + 10),  # W (784 x 10) + b
        ("mlp", {}, 784 * 200 + 200 + 200 * 100 + 100 + 100 * 10 + 10),
        ("mlp", {"hidden": [50]}, 784 * 50 + 50 + 50 * 10 + 10),
        # maxout with k = 2: each hidden layer's Linear makes 2 pieces per unit
        ("mlp", {"activation": "maxout"}, 784 * 400 + 400 + 200 * 200 + 200 + 100 * 10 + 10),
        # conv 1->16 3x3, conv 16->32 3x3, fc 32*7*7 -> 128 -> 10
        ("cnn", {}, 16 * 9 + 16 + 32 * 16 * 9 + 32 + 32 * 7 * 7 * 128 + 128 + 128 * 10 + 10),
        ("lenet5", {"variant": "classic"}, 61_706),
        ("lenet5", {"variant": "modern"}, 61_706),
    ],
)
def test_parameter_counts(name: str, options: dict, expected: int) -> None:
    assert count_parameters(create_model(name, **options)) == expected


def test_count_parameters_skips_frozen_ones() -> None:
    model = create_model("mlp")
    model.layers[1].requires_grad_(False)  # the first Linear: 784*200 + 200
    assert count_parameters(model) == 178_110 - (784 * 200 + 200)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_saved_options_rebuild_the_same_model(name: str) -> None:
    """A run folder stores the options as JSON; they must rebuild an identical architecture."""
    entry = get_entry(name)
    options = json.loads(json.dumps(entry.default_options))
    rebuilt = create_model(name, num_classes=10, **options)
    assert str(rebuilt) == str(create_model(name))
    assert count_parameters(rebuilt) == count_parameters(create_model(name))


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=VARIANT_IDS)
def test_each_model_learns_a_small_batch(name: str, options: dict) -> None:
    """Adam on 64 fixed examples (noisy copies of 10 random "digit" prototypes) halves the loss
    within 30 steps. Sigmoid is allowed 100: a stack of sigmoids starts on a plateau, since each
    layer scales the gradient by at most 0.25 (the workshop's case for ReLU)."""
    torch.manual_seed(0)
    model = create_model(name, **options)
    prototypes = torch.randn(10, 1, 28, 28)  # one random image per class
    y = torch.arange(64) % 10
    x = prototypes[y] + 0.5 * torch.randn(64, 1, 28, 28)  # (64, 1, 28, 28)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    max_steps = 100 if options.get("activation") == "sigmoid" else 30
    losses: list[float] = []
    for _ in range(max_steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < 0.5 * losses[0]:
            break
    assert losses[-1] < 0.5 * losses[0], losses[::5]


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'resnet'.*softmax, mlp, cnn"):
        create_model("resnet")
    with pytest.raises(ConfigError, match="unknown model"):
        get_entry("")


def test_unknown_option_lists_the_model_options() -> None:
    with pytest.raises(ConfigError, match=r"no option 'depth'.*hidden, activation, maxout"):
        create_model("mlp", depth=3)
    with pytest.raises(ConfigError, match="its options: none"):
        create_model("softmax", hidden=[10])


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("mlp", {"hidden": "200,100"}, "option 'hidden' must be like"),
        ("mlp", {"hidden": [200.5]}, "option 'hidden' must be like"),
        ("mlp", {"hidden": [0]}, "hidden widths must be positive"),
        ("mlp", {"activation": "swish"}, "unknown activation 'swish'.*sigmoid, tanh"),
        ("mlp", {"activation": "maxout", "maxout_pieces": 1}, "at least 2 pieces"),
        ("mlp", {"maxout_pieces": True}, "option 'maxout_pieces' must be like"),
        ("cnn", {"channels": [8, 8, 8, 8]}, "1 to 3 positive integers"),
        ("cnn", {"kernel_size": 4}, "must be odd"),
        ("lenet5", {"variant": "1989"}, "unknown variant '1989'"),
        ("best", {"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ("best", {"dropout": "high"}, "option 'dropout' must be like"),
    ],
)
def test_invalid_option_values_raise_config_error(name: str, options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model(name, **options)


@pytest.mark.parametrize("num_classes", [1, 0, 2.5, "10"])
def test_invalid_num_classes(num_classes: object) -> None:
    with pytest.raises(ConfigError, match="num_classes"):
        create_model("softmax", num_classes=num_classes)


def test_float_options_accept_ints() -> None:
    model = create_model("best", dropout=0)
    assert model.classifier[3].p == 0


@pytest.mark.parametrize(
    ("model", "given", "options"),
    [
        ("mlp", {"hidden": "200,100", "activation": "tanh"}, {"hidden": [200, 100]}),
        ("mlp", {"hidden": "64", "maxout_pieces": 3}, {"hidden": [64], "maxout_pieces": 3}),
        ("cnn", {"hidden": "64", "channels": "[8,16]"}, {"hidden": 64, "channels": [8, 16]}),
        ("cnn", {"hidden": 64}, {"hidden": 64}),  # the web form's JSON number
        ("mlp", {"hidden": [10]}, {"hidden": [10]}),  # and its JSON list
        ("best", {"dropout": "0.5"}, {"dropout": 0.5}),
        ("lenet5", {"variant": "modern"}, {"variant": "modern"}),
    ],
)
def test_options_given_as_flags_or_form_fields_are_read_by_their_defaults_kind(
    model, given, options
) -> None:
    """`dnnx train --hidden 64` and the Train form read options alike: one size for a CNN."""
    read = read_options(model, given)
    assert {k: read[k] for k in options} == options
    create_model(model, **read)  # what the model is built from


@pytest.mark.parametrize(
    ("model", "given", "message"),
    [
        ("softmax", {"hidden": "10"}, "model 'softmax' has no option 'hidden'; its options: none"),
        ("mlp", {"hidden": "10,x"}, "option 'hidden' must be like [200, 100], got '10,x'"),
        ("cnn", {"hidden": "10,20"}, "option 'hidden' must be like 128, got '10,20'"),
    ],
)
def test_options_that_cannot_be_read_are_config_errors(model, given, message) -> None:
    with pytest.raises(ConfigError) as error:
        read_options(model, given)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 12.5}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, momentum, adam, got 'rmsprop'"),
        ({"schedule": "linear"}, "schedule must be one of constant, step, cosine, onecycle"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"augment": 1}, "augment"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
    ],
)
def test_recipe_is_validated_on_construction(fields: dict, message: str) -> None:
    base = {"epochs": 1, "batch_size": 128, "lr": 1e-3}
    with pytest.raises(ConfigError, match=message):
        Recipe(**{**base, **fields})


def test_recipes_are_frozen_and_aimed_at_a_cpu() -> None:
    recipe = get_entry("best").recipe
    with pytest.raises(AttributeError):
        recipe.epochs = 100  # type: ignore[misc]
    assert recipe.augment
    assert all(e.recipe.epochs <= 15 for e in list_models())


def test_a_target_picks_the_recipe_tuned_for_it() -> None:
    """--target-acc: the tuned recipe, its schedule only capped by --epochs; else the default."""
    from dnnexplorer.train import TrainConfig

    tuned = TrainConfig(model="cnn", target_acc=0.99, epochs=10).resolved()
    assert tuned.recipe == "tuned" and tuned.epochs == 1  # 10 is only a cap
    assert tuned.betas == (0.7, 0.9) and tuned.label_smoothing == 0.1
    lower = TrainConfig(model="cnn", target_acc=0.97).resolved()
    assert lower.recipe == "tuned" and lower.epochs == 1  # stops as soon as 97% is reached
    assert TrainConfig(model="cnn", target_acc=0.99, lr=5e-3).resolved().lr == 5e-3  # yours win
    everyday = get_entry("cnn").recipe
    for config in (
        TrainConfig(model="cnn"),  # no target
        TrainConfig(model="cnn", target_acc=0.995),  # none tuned that high
        TrainConfig(model="cnn", target_acc=0.99, dataset="fashion-mnist"),  # other data
        TrainConfig(model="cnn", target_acc=0.99, recipe="default"),  # asked for the default
    ):
        resolved = config.resolved()
        assert resolved.recipe == "default" and resolved.epochs == everyday.epochs
        assert resolved.betas == everyday.betas == (0.9, 0.999)
    with pytest.raises(ConfigError, match=r"no recipe tuned for 99\.5% on mnist"):
        TrainConfig(model="cnn", target_acc=0.995, recipe="tuned").resolved()
    again = TrainConfig.from_dict(json.loads(json.dumps(tuned.to_dict())))
    assert again == tuned and again.resolved() == tuned  # config.json round trip, idempotent


def test_every_tuned_and_dataset_recipe_is_for_a_known_dataset() -> None:
    from dnnexplorer.data import dataset_names

    for entry in list_models():
        for tuned in entry.tuned:
            assert tuned.dataset in dataset_names() and 0 < tuned.target <= 1
            assert entry.tuned_recipe(tuned.dataset, tuned.target) is tuned
        for own in entry.dataset_recipes:
            assert own.dataset in dataset_names() and entry.everyday_recipe(own.dataset) is own


@pytest.mark.parametrize("betas", [(0.9,), (1.0, 0.9), ("a", 0.9), 0.9, (0.9, -0.1)])
def test_betas_are_checked(betas: object) -> None:
    from dnnexplorer.train import TrainConfig

    with pytest.raises(ConfigError, match="--betas must be two numbers in"):
        TrainConfig(betas=betas)


def test_a_tuned_recipe_brings_its_model_options_and_yours_win() -> None:
    from dnnexplorer.train import TrainConfig

    tuned = get_entry("best").tuned_recipe("fashion-mnist", 0.93)
    assert tuned is not None and tuned.options  # Fashion-MNIST needs a wider first layer
    config = TrainConfig(model="best", dataset="fashion-mnist", target_acc=0.93).resolved()
    assert config.model_options == tuned.options and config.epochs == tuned.recipe.epochs
    mine = TrainConfig(
        model="best", dataset="fashion-mnist", target_acc=0.93, model_options={"hidden": 64}
    ).resolved()
    assert mine.model_options == {**tuned.options, "hidden": 64}
    narrow = {"channels": [16, 32, 64]}
    assert (
        TrainConfig(
            model="best", dataset="fashion-mnist", target_acc=0.93, model_options=narrow
        ).resolved()
    ).model_options == {**tuned.options, **narrow}  # yours replace its channels, keep its tta
    lower = TrainConfig(model="best", dataset="fashion-mnist", target_acc=0.92).resolved()
    assert lower.model_options == {}  # 92% has a recipe of its own, at the default width
    assert config.resolved() == config  # idempotent: config.json holds the options it trained


def test_a_dataset_may_have_its_own_everyday_recipe_and_your_options_win() -> None:
    """Without a target, `best` trains clothes wider and judges each with its mirror."""
    from dnnexplorer.train import TrainConfig

    entry = get_entry("best")
    clothes = entry.everyday_recipe("fashion-mnist")
    assert clothes.options == {"channels": [32, 48, 64], "convs": [1, 2, 2], "tta": "flip"}
    assert entry.everyday_recipe("mnist").recipe is entry.recipe  # digits: the model's own
    assert entry.everyday_recipe("mnist").options == {}
    for config in (
        TrainConfig(model="best", dataset="fashion-mnist"),  # no target
        TrainConfig(model="best", dataset="fashion-mnist", target_acc=0.95),  # none tuned
        TrainConfig(model="best", dataset="fashion-mnist", target_acc=0.93, recipe="default"),
    ):
        resolved = config.resolved()
        assert resolved.recipe == "default" and resolved.model_options == clothes.options
        assert resolved.epochs == clothes.recipe.epochs and resolved.augment
        assert resolved.resolved() == resolved  # idempotent
    mine = TrainConfig(model="best", dataset="fashion-mnist", model_options={"tta": "none"})
    wide = {"channels": [32, 48, 64], "convs": [1, 2, 2], "tta": "none"}
    assert mine.resolved().model_options == wide
    assert TrainConfig(model="best").resolved().model_options == {}  # digits: the defaults
    assert TrainConfig(model="cnn", dataset="fashion-mnist").resolved().model_options == {}


def test_a_recipe_with_an_option_the_model_lacks_or_a_dataset_twice_is_refused(monkeypatch) -> None:
    from dnnexplorer.models import registry

    monkeypatch.setattr(registry, "_REGISTRY", {})
    recipe = registry.Recipe(epochs=1, batch_size=8, lr=0.1)

    def build(num_classes: int = 10, width: int = 4) -> torch.nn.Module:
        return torch.nn.Linear(784, num_classes)

    for options, problem in (({"depth": 2}, "no option 'depth'"), ({"width": "4"}, "like 4")):
        tuned = (registry.TunedRecipe("mnist", 0.9, recipe, options=options),)
        with pytest.raises((TypeError, ConfigError), match=problem):
            registry.register_model("toy", description="", recipe=recipe, tuned=tuned)(build)
        own = (registry.DatasetRecipe("mnist", recipe, options=options),)
        with pytest.raises((TypeError, ConfigError), match=problem):
            registry.register_model("toy", description="", recipe=recipe, dataset_recipes=own)(
                build
            )
    twice = (registry.DatasetRecipe("mnist", recipe), registry.DatasetRecipe("mnist", recipe))
    with pytest.raises(ValueError, match="two everyday recipes for one dataset"):
        registry.register_model("toy", description="", recipe=recipe, dataset_recipes=twice)(build)
