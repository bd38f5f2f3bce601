"""Inside a CNN's API (/learn/inside): every layer's output for one image, checked against PyTorch.

The run folders are freshly built models (random weights, batch-norm statistics made
non-trivial) saved as a training run saves them: what is tested is that the API's numbers are
the model's own, not that the model is good.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from torch import nn

from dnnexplorer.data import Dataset
from dnnexplorer.models import create_model
from dnnexplorer.models.lenet import LeNet5
from dnnexplorer.predict import load_image_bytes, to_mnist
from dnnexplorer.serve import create_app
from dnnexplorer.serve.catalog import DatasetStore
from dnnexplorer.train import TrainConfig
from dnnexplorer.train.checkpoint import save_weights
from dnnexplorer.train.runs import RunFolder

MEAN, STD = 0.1307, 0.3081  # MNIST's, what the catalog normalizes with
CONVOLUTIONAL = {  # run name -> (model, options)
    "cnn": ("cnn", {}),
    "cnn-maxout": ("cnn", {"channels": [4], "hidden": 8, "activation": "maxout"}),
    "lenet5-classic": ("lenet5", {"variant": "classic"}),
    "lenet5-modern": ("lenet5", {"variant": "modern"}),
    "best": ("best", {}),
}
DENSE = {"mlp": ("mlp", {"hidden": [32, 16]}), "softmax": ("softmax", {})}
VIEWS = {"best-tta": ("best", {"tta": "shift"})}  # answers with five views of the image


def save_run(root: Path, name: str, model_name: str, options: dict) -> nn.Module:
    """A run folder holding a freshly built model, as `dnnx train` would leave it."""
    torch.manual_seed(len(name))
    model = create_model(model_name, **options)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):  # fresh statistics (0, 1) would hide a mistake
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    run = RunFolder.create(root / name)
    run.write_config(TrainConfig(model=model_name, model_options=options))
    save_weights(model, run.weights_path)
    return model.eval()


@pytest.fixture(scope="module")
def layer_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, nn.Module]]:
    root = tmp_path_factory.mktemp("layer-runs")
    runs = {**CONVOLUTIONAL, **DENSE, **VIEWS}
    models = {n: save_run(root, n, m, o) for n, (m, o) in runs.items()}
    RunFolder.create(root / "untrained").write_config(TrainConfig(model="cnn"))  # no weights
    return root, models


@pytest.fixture
def layers_client(layer_runs, squares: Dataset):
    store = DatasetStore()
    store.put(squares)  # 'mnist' is the synthetic squares: 256 test images
    with TestClient(create_app(layer_runs[0], datasets=store), base_url="http://127.0.0.1") as c:
        yield c


def seven_png() -> bytes:
    """A '7' drawn on a white 280x280 canvas, as the page's pad would hold it."""
    image = Image.new("L", (280, 280), "white")
    ImageDraw.Draw(image).line([(60, 60), (220, 60), (120, 240)], fill="black", width=18)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data: str) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(base64.b64decode(data), dtype="<f4").copy())


def step_values(answer: dict) -> list[torch.Tensor]:
    """Every step's values as tensors of its shape; an alias step repeats the step before."""
    values: list[torch.Tensor] = []
    for step in answer["steps"]:
        flat = values[-1].reshape(-1) if step["alias"] else decode(step["data"])
        values.append(flat.reshape(step["shape"]))
    return values


def direct_forward(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The page's steps computed by calling the model's layers by hand, in order (batch of 1)."""
    outputs = [x]
    with torch.no_grad():
        if isinstance(model, LeNet5):
            a = model.activation
            x = F.pad(x, (2, 2, 2, 2), mode="replicate")  # 28x28 -> 32x32, as in its forward
            outputs.append(x)
            for layer in (model.c1, a, model.s2, model.c3, a, model.s4, model.c5, a):
                x = layer(x)
                outputs.append(x)
            x = x.flatten(1)
            for layer in (model.f6, a, model.output):
                x = layer(x)
                outputs.append(x)
        else:  # nn.Sequential stacks: the leaf modules in the order they are defined
            for m in model.modules():
                if next(m.children(), None) is None:
                    x = m(x.flatten(1) if isinstance(m, nn.Linear) else x)  # softmax flattens
                    outputs.append(x)
    outputs.append(torch.softmax(x.double(), dim=1).float())
    return [o[0] for o in outputs]


def drawn_input() -> torch.Tensor:
    pixels = to_mnist(load_image_bytes(seven_png(), "the image"))  # the preprocessing of predict
    return ((pixels - MEAN) / STD).reshape(1, 1, 28, 28)


# -- the numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("run", [*CONVOLUTIONAL, *DENSE])
def test_every_step_equals_a_direct_forward_pass_of_the_model(layers_client, layer_runs, run):
    answer = layers_client.post(f"/api/runs/{run}/activations", content=seven_png()).json()
    expected = direct_forward(layer_runs[1][run], drawn_input())
    got = step_values(answer)
    assert answer["steps"][0]["kind"] == "input"
    assert len(got) == len(expected), [s["name"] for s in answer["steps"]]
    for step, value, reference in zip(answer["steps"], got, expected, strict=True):
        assert value.shape == reference.shape, step["name"]
        torch.testing.assert_close(value, reference, rtol=1e-5, atol=1e-5, msg=step["name"])
    assert answer["steps"][-2]["kind"] == "logits" and answer["steps"][-1]["kind"] == "softmax"
    assert answer["digit"] == int(expected[-1].argmax())
    assert answer["probabilities"] == pytest.approx(expected[-1].tolist(), abs=1e-6)


def test_a_model_judging_five_views_shows_the_layers_of_the_image_itself_once(
    layers_client, layer_runs
) -> None:
    """Its layers run once per view; the page shows the first view's, and the views' answer."""
    model = layer_runs[1]["best-tta"]
    answer = layers_client.post("/api/runs/best-tta/activations", content=seven_png()).json()
    expected = direct_forward(model, drawn_input())  # the layers, on the image itself
    got = step_values(answer)
    assert len(got) == len(expected), [s["name"] for s in answer["steps"]]
    layers = zip(answer["steps"][:-1], got[:-1], expected[:-1], strict=True)  # all but softmax
    for step, value, reference in layers:
        torch.testing.assert_close(value, reference, rtol=1e-5, atol=1e-5, msg=step["name"])
    with torch.inference_mode():
        views = model(drawn_input()).softmax(dim=1)[0]  # the mean of five views' log-probabilities
    assert answer["probabilities"] == pytest.approx(views.tolist(), abs=1e-6)
    assert answer["probabilities"] != pytest.approx(expected[-1].tolist(), abs=1e-6)


@pytest.mark.parametrize("run", list(CONVOLUTIONAL))
def test_each_feature_map_is_f_conv2d_of_the_step_before_with_the_sent_filters(
    layers_client, run
) -> None:
    """What the page redoes for a clicked pixel: the previous step, the filter, the bias."""
    parameters = layers_client.get(f"/api/runs/{run}/layers").json()["parameters"]
    answer = layers_client.post(f"/api/runs/{run}/activations", content=seven_png()).json()
    values = step_values(answer)
    convs = [k for k, s in enumerate(answer["steps"]) if s["kind"] == "conv"]
    assert convs and parameters
    for k in convs:
        step, conv = answer["steps"][k], parameters[answer["steps"][k]["name"]]
        weight = decode(conv["weight"]).reshape(conv["shape"]).double()
        bias = decode(conv["bias"]).double() if conv["bias"] else None
        p = step["params"]
        x = values[k - 1].double().unsqueeze(0)
        maps = F.conv2d(x, weight, bias, p["stride"], p["padding"], p["dilation"], p["groups"])
        torch.testing.assert_close(values[k].double(), maps[0], rtol=1e-5, atol=1e-5)
        # one pixel by hand, as the browser does it: window * filter, summed, + bias
        c, i, j = maps.shape[1] - 1, maps.shape[2] // 2, maps.shape[3] // 2
        padded = F.pad(x[0], [p["padding"][0]] * 4)
        kh, kw = p["kernel_size"]
        window = padded[:, i : i + kh, j : j + kw]
        by_hand = (window * weight[c]).sum() + (bias[c] if bias is not None else 0)
        assert float(by_hand) == pytest.approx(float(values[k][c, i, j]), rel=1e-5, abs=1e-6)


def test_the_layers_route_sends_filters_and_batch_norm_statistics(layers_client, layer_runs):
    answer = layers_client.get("/api/runs/best/layers").json()
    state = layer_runs[1]["best"].state_dict()
    assert answer["convolutional"] and answer["mean"] == MEAN and answer["std"] == STD
    conv = answer["parameters"]["features.0.0"]
    assert conv["shape"] == [16, 1, 3, 3] and conv["bias"] is None  # batch norm follows
    torch.testing.assert_close(
        decode(conv["weight"]).reshape(16, 1, 3, 3), state["features.0.0.weight"]
    )
    norm = answer["parameters"]["features.0.2"]
    assert norm["kind"] == "batchnorm" and norm["eps"] == 1e-5
    for key, name in (("mean", "running_mean"), ("var", "running_var"), ("gamma", "weight")):
        torch.testing.assert_close(decode(norm[key]), state[f"features.0.2.{name}"])
    lenet = layers_client.get("/api/runs/lenet5-classic/layers").json()["parameters"]
    assert set(lenet) == {"c1", "c3", "c5"} and lenet["c5"]["shape"] == [120, 16, 5, 5]


def test_lenet5_shows_its_padding_and_its_shared_activation_once_per_call(layers_client):
    steps = layers_client.post("/api/runs/lenet5-classic/activations", content=seven_png()).json()
    names = [s["name"] for s in steps["steps"]]
    assert names[:3] == ["input", "before c1", "c1"] and names.count("activation") == 4
    padding = steps["steps"][1]
    assert padding["kind"] == "padding" and padding["shape"] == [1, 32, 32]
    assert padding["params"] == {"padding": 2, "mode": "replicate"}


def test_a_test_image_is_picked_by_index(layers_client, squares: Dataset) -> None:
    answer = layers_client.get("/api/runs/cnn/activations?test=5").json()
    assert answer["source"] == {
        "kind": "test",
        "index": 5,
        "label": squares.classes[int(squares.test_labels[5])],
        "count": len(squares.test_images),
    }
    expected = (squares.test_images[5].float() / 255 - MEAN) / STD
    torch.testing.assert_close(step_values(answer)[0][0], expected)


def test_models_without_convolution_show_their_dense_layers(layers_client) -> None:
    assert not layers_client.get("/api/runs/mlp/layers").json()["convolutional"]
    answer = layers_client.post("/api/runs/mlp/activations", content=seven_png()).json()
    kinds = [s["kind"] for s in answer["steps"]]
    assert kinds == [
        "input",
        "flatten",
        "dense",
        "activation",
        "dense",
        "activation",
        "logits",
        "softmax",
    ]
    assert answer["steps"][1]["alias"] and answer["steps"][1]["data"] is None


# -- bad requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"", 422, "empty"),
        (b"this is not an image", 415, "not an image of an accepted format"),
        (seven_png()[:200], 422, "image"),  # a truncated PNG
    ],
)
def test_a_body_that_is_not_an_image_gets_a_json_error(layers_client, body, status, words):
    answer = layers_client.post("/api/runs/cnn/activations", content=body)
    assert answer.status_code == status and words in answer.json()["error"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/runs/cnn/activations?test=256", 400),  # the squares have 256 test images
        ("/api/runs/cnn/activations?test=-1", 400),
        ("/api/runs/cnn/activations?test=seven", 422),
        ("/api/runs/cnn/activations", 422),
        ("/api/runs/nothing/layers", 404),
        ("/api/runs/untrained/layers", 409),
        ("/api/runs/..%2Fetc/layers", 400),
    ],
)
def test_bad_test_indexes_and_run_names_get_json_errors(layers_client, url, status) -> None:
    answer = layers_client.get(url)
    assert answer.status_code == status and answer.json()["error"]


def test_a_huge_upload_is_refused_before_it_is_read(layer_runs) -> None:
    app = create_app(layer_runs[0], max_body=10_000)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        answer = client.post("/api/runs/cnn/activations", content=b"\0" * 20_000)
    assert answer.status_code == 413 and "error" in answer.json()


def test_the_run_routes_still_answer_beside_the_layer_routes(layers_client) -> None:
    assert layers_client.get("/api/runs/cnn").json()["config"]["model"] == "cnn"
    page = layers_client.get("/learn/inside")
    assert page.status_code == 200 and "Inside a CNN" in page.text
    scripts = ("inside-sums", "inside-view", "inside-rows", "inside-detail", "inside-pad", "inside")
    for script in scripts:
        assert f'"static/learn/{script}.js"' in page.text
        assert layers_client.get(f"/static/learn/{script}.js").status_code == 200
    assert layers_client.get("/static/learn/inside.css").status_code == 200
