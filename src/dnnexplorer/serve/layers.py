"""Inside a CNN: every layer's output for one image, recorded with forward hooks (/learn/inside).

    GET  /api/runs/NAME/layers                  the model's layers: conv filters and biases,
                                                batch-norm statistics (what the model *is*)
    POST /api/runs/NAME/activations             body: an image (a drawing, a photo) -> every
                                                layer's output for it (what the model *does*)
    GET  /api/runs/NAME/activations?test=INDEX  the same for test image INDEX of the run's dataset

The forward pass runs here, with PyTorch, because the trained model lives here and one pass of a
small CNN takes about a millisecond. A forward hook on every leaf module (conv, pooling,
activation, dense...) records what it received and what it returned, in call order, so LeNet-5's
one `activation` module called four times gives four steps. When a module receives something
that is not the previous step's output (LeNet-5 pads 28x28 -> 32x32 in its forward function),
that input becomes a step of its own: each step's input is always the step before it, which is
what the page needs to redo a convolution's sum for a clicked pixel.

Arrays travel as base64 of little-endian float32 (the exact values the server computed, 4 bytes
per number plus a third: half the bytes of rounded JSON lists and 20x faster to encode, see
benchmarks/lab_layers.py); flatten and dropout (at test time) change no number, so their steps
send none and are marked `alias`. Dense weights are not sent: too large, and not needed.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from fastapi import FastAPI, Request
from torch import Tensor, nn

from dnnexplorer.errors import DnnxError
from dnnexplorer.models.activations import Maxout
from dnnexplorer.predict import model_input
from dnnexplorer.serve.catalog import LoadedModel, RunCatalog

IDENTITIES = ("flatten", "dropout")  # steps that change no number (dropout: in eval mode)


class NoSuchTestImage(DnnxError):
    """A test image index outside the dataset's test set (answered with 400)."""


@dataclass
class Call:
    """One call of a leaf module during the forward pass (batch dimension dropped)."""

    name: str  # the module's name in the model, e.g. "features.0" or "c1"
    module: nn.Module
    input: Tensor
    output: Tensor


def add_layer_routes(app: FastAPI, catalog: RunCatalog) -> None:
    """Add the routes above. Call it before the run routes: GET /api/runs/{name} catches all."""

    @app.get("/api/runs/{name:path}/layers")
    def layers(name: str) -> dict[str, Any]:
        return layer_parameters(name, catalog.model(name))

    @app.post("/api/runs/{name:path}/activations")
    async def activations_of_image(name: str, request: Request) -> dict[str, Any]:
        image = await request.body()
        return await asyncio.to_thread(activations_for_upload, catalog, name, image)

    @app.get("/api/runs/{name:path}/activations")
    def activations_of_test_image(name: str, test: int) -> dict[str, Any]:
        return activations_for_test_image(catalog, name, test)


def activations_for_upload(catalog: RunCatalog, name: str, image: bytes) -> dict[str, Any]:
    """Prepare an uploaded image as `dnnx predict` does, then record every layer on it."""
    started = time.perf_counter()
    loaded = catalog.model(name)  # first: a bad run name is refused before the image is read
    pixels = catalog.digit_of_upload(image)  # (28, 28)
    answer = activations(loaded, pixels)
    return {"run": name, "source": {"kind": "image"}, **answer, "server_ms": _ms(started)}


def activations_for_test_image(catalog: RunCatalog, name: str, index: int) -> dict[str, Any]:
    """Every layer's output for test image `index` of the dataset the run was trained on."""
    started = time.perf_counter()
    loaded = catalog.model(name)
    dataset = catalog.datasets.get(catalog.config_of(name).dataset)
    count = len(dataset.test_images)
    if not 0 <= index < count:
        raise NoSuchTestImage(f"test image {index} does not exist: choose 0 to {count - 1}")
    pixels = dataset.test_images[index].float() / 255  # (28, 28) in [0, 1], ink bright
    label = dataset.classes[int(dataset.test_labels[index])]
    answer = activations(loaded, pixels)
    source = {"kind": "test", "index": index, "label": label, "count": count}
    return {"run": name, "source": source, **answer, "server_ms": _ms(started)}


def activations(loaded: LoadedModel, pixels: Tensor) -> dict[str, Any]:
    """Normalize (28, 28) pixels in [0, 1] as in training, run the model, describe each step."""
    x = model_input(pixels.unsqueeze(0), loaded.run.mean, loaded.run.std)  # (1, 1, 28, 28)
    calls, logits = record_forward(loaded.run.model, x, loaded.lock)
    steps = layer_steps(x[0], calls, logits[0])
    probs = steps[-1]["values"]
    digit = int(probs.argmax())
    for step in steps:
        values = step.pop("values")
        step["data"] = None if step["alias"] else encode(values)
    return {
        "digit": digit,
        "label": loaded.run.classes[digit],
        "classes": loaded.run.classes,
        "probabilities": [round(float(p), 6) for p in probs],
        "pixels": encode(pixels),
        "steps": steps,
    }


def record_forward(model: nn.Module, x: Tensor, lock: threading.Lock) -> tuple[list[Call], Tensor]:
    """Run `model` on x (1, 1, 28, 28) in eval mode; every leaf module's calls, and the logits.

    A model that judges several views of the image (`best` with `tta`) starts over at its first
    layer for each view: the calls kept are those of the first view, the image itself (the
    logits are the answer of all views).
    """
    names = {module: name for name, module in model.named_modules()}
    calls: list[Call] = []
    started_over = False

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        nonlocal started_over
        started_over = started_over or (bool(calls) and module is calls[0].module)
        if not started_over:
            calls.append(Call(names[module], module, inputs[0][0].clone(), output[0].clone()))

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    with lock:  # one pass at a time: the hooks belong to this request
        handles = [m.register_forward_hook(hook) for m in leaves]
        was_training = model.training
        model.eval()  # batch norm uses its running statistics, dropout is off
        try:
            with torch.inference_mode():
                logits = model(x)  # (1, num_classes)
        finally:
            model.train(was_training)
            for handle in handles:
                handle.remove()
    return calls, logits


def layer_steps(x: Tensor, calls: list[Call], logits: Tensor) -> list[dict[str, Any]]:
    """The input, each recorded call (and any input made outside a module), then the softmax."""
    steps = [_step("input", "input", "the 28x28 input, normalized", x)]
    previous = x
    for call in calls:
        if not same_values(call.input, previous):  # made in forward() between two modules
            kind, title, params = _between(call, previous)
            steps.append(_step(f"before {call.name}", kind, title, call.input, params))
        kind, title, params = describe(call.module)
        step = _step(call.name, kind, title, call.output, params)
        # flatten, and dropout at test time, pass their input on: the page reuses its numbers
        step["alias"] = kind in IDENTITIES and same_values(call.output, call.input)
        steps.append(step)
        previous = call.output
    if steps[-1]["kind"] == "dense":
        steps[-1]["kind"], steps[-1]["title"] = "logits", "logits: " + steps[-1]["title"]
    probs = torch.softmax(logits.double(), dim=0).float()  # (num_classes,), sums to 1
    steps.append(_step("softmax", "softmax", "softmax: probabilities", probs))
    return steps


def same_values(a: Tensor, b: Tensor) -> bool:
    """True if `a` holds the same numbers as `b`, whatever the shape (flatten changes only it)."""
    return a.numel() == b.numel() and torch.equal(a.reshape(-1), b.reshape(-1))


def describe(module: nn.Module) -> tuple[str, str, dict[str, Any]]:
    """(kind, title, parameters the page needs to redo the step) for one leaf module."""
    if isinstance(module, nn.Conv2d):
        return "conv", *_convolution(module)
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        how = "max" if isinstance(module, nn.MaxPool2d) else "average"
        k = _pair(module.kernel_size)
        params = {"how": how, "kernel_size": k, "stride": _pair(module.stride)}
        params["padding"] = _pair(module.padding)
        return "pooling", f"{how} pooling {k[0]}x{k[1]}", params
    if isinstance(module, nn.BatchNorm2d):
        return "batchnorm", "batch normalization (running mean and variance)", {"eps": module.eps}
    if isinstance(module, nn.Linear):
        title = f"dense: {module.in_features} -> {module.out_features} units"
        return "dense", title, {"in_features": module.in_features}
    if isinstance(module, nn.Flatten):
        return "flatten", "flatten: the maps become one vector", {}
    if isinstance(module, nn.Dropout):
        return "dropout", "dropout (off at test time: output = input)", {}
    return "activation", *_activation(module)


def _convolution(conv: nn.Conv2d) -> tuple[str, dict[str, Any]]:
    k, pad = conv.kernel_size, conv.padding
    title = f"convolution: {conv.in_channels} -> {conv.out_channels} maps, {k[0]}x{k[1]} filters"
    if any(pad):
        title += f", padding {pad[0]}"
    params = {
        "in_channels": conv.in_channels,
        "out_channels": conv.out_channels,
        "kernel_size": list(k),
        "stride": list(conv.stride),
        "padding": list(pad),
        "dilation": list(conv.dilation),
        "groups": conv.groups,
        "padding_mode": conv.padding_mode,
    }
    return title, params


def _activation(module: nn.Module) -> tuple[str, dict[str, Any]]:
    """Title and parameters of an activation module, so the page can show its formula."""
    if isinstance(module, Maxout):
        k = module.pieces
        return f"maxout: max of {k} pieces", {"function": "maxout", "pieces": k}
    if isinstance(module, nn.LeakyReLU):
        slope = module.negative_slope
        return f"leaky ReLU: max({slope}x, x)", {"function": "leaky_relu", "slope": slope}
    if isinstance(module, nn.ELU):
        return "ELU", {"function": "elu", "alpha": module.alpha}
    function = type(module).__name__.lower()  # relu, tanh, sigmoid
    titles = {"relu": "ReLU: max(0, x)", "tanh": "tanh", "sigmoid": "sigmoid: 1 / (1 + e^-x)"}
    return titles.get(function, type(module).__name__), {"function": function}


def _between(call: Call, previous: Tensor) -> tuple[str, str, dict[str, Any]]:
    """A step made by the model's forward function itself, e.g. LeNet-5's padding to 32x32."""
    before, after = tuple(previous.shape), tuple(call.input.shape)
    if len(before) == len(after) == 3 and after[1] > before[1]:
        pad = (after[1] - before[1]) // 2
        how = _padding_mode(previous, call.input, pad)
        title = f"padding: {before[1]}x{before[2]} -> {after[1]}x{after[2]}, {how}"
        return "padding", title, {"padding": pad, "mode": how}
    return "reshape", f"what {call.name} receives (made in the model's forward)", {}


def _padding_mode(before: Tensor, after: Tensor, pad: int) -> str:
    """ "replicate" repeats the edge pixels (LeNet-5's choice here), "zeros" adds zeros."""
    if torch.equal(F.pad(before.unsqueeze(0), (pad,) * 4, mode="replicate")[0], after):
        return "replicate"
    return "zeros" if torch.equal(F.pad(before, (pad,) * 4), after) else "other"


def layer_parameters(name: str, loaded: LoadedModel) -> dict[str, Any]:
    """Conv filters and biases, batch-norm statistics: the numbers the page multiplies with."""
    parameters: dict[str, Any] = {}
    for module_name, m in loaded.run.model.named_modules():
        if isinstance(m, nn.Conv2d):
            bias = encode(m.bias) if m.bias is not None else None
            shape = list(m.weight.shape)  # (out, in / groups, k, k)
            parameters[module_name] = {"kind": "conv", "weight": encode(m.weight), "shape": shape}
            parameters[module_name]["bias"] = bias
        elif isinstance(m, nn.BatchNorm2d):
            stats = {
                "mean": m.running_mean,
                "var": m.running_var,
                "gamma": m.weight,
                "beta": m.bias,
            }
            parameters[module_name] = {"kind": "batchnorm", "eps": m.eps}
            parameters[module_name] |= {key: encode(v) for key, v in stats.items()}
    convolutional = any(p["kind"] == "conv" for p in parameters.values())
    return {
        "run": name,
        "classes": loaded.run.classes,
        "mean": loaded.run.mean,
        "std": loaded.run.std,
        "convolutional": convolutional,
        "parameters": parameters,
    }


def encode(values: Tensor) -> str:
    """float32 numbers as base64 of their little-endian bytes (the browser's Float32Array)."""
    array = values.detach().cpu().numpy().astype("<f4", copy=False)
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _step(name: str, kind: str, title: str, values: Tensor, params: dict | None = None) -> dict:
    v = values.detach().float()
    return {
        "name": name,
        "kind": kind,
        "title": title,
        "shape": list(v.shape),
        "min": float(v.min()),
        "max": float(v.max()),
        "params": params or {},
        "alias": False,
        "values": v,
    }


def _pair(value: int | tuple[int, ...]) -> list[int]:
    return [value, value] if isinstance(value, int) else list(value)


def _ms(started: float) -> float:
    return round(1000 * (time.perf_counter() - started), 2)
