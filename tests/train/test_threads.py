"""Threads chosen, not inherited: measured for the model and batch, cached, recorded, asked."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from dnnexplorer.errors import ConfigError
from dnnexplorer.train import TrainConfig, run_training
from dnnexplorer.train import threads as threads_module
from dnnexplorer.train.threads import (
    CACHE_FILE,
    available_cores,
    choose_threads,
    measure_steps,
    threads_from_environment,
)


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch):
    """The tests decide whether the machine is busy, not the load of the machine running them."""
    monkeypatch.setattr(threads_module, "machine_is_busy", lambda cores: False)


def small_model_and_batch() -> tuple[nn.Module, tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    return model, (torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)))


def test_measuring_trains_a_copy_and_restores_the_threads():
    model, batch = small_model_and_batch()
    before = [p.detach().clone() for p in model.parameters()]
    threads = torch.get_num_threads()
    step_ms = measure_steps(model, batch, "fp32", (1, 2))
    assert set(step_ms) == {1, 2} and all(ms > 0 for ms in step_ms.values())
    assert torch.get_num_threads() == threads
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize(("step_ms", "expected"), [({1: 4.0, 2: 5.0}, 1), ({1: 5.0, 2: 5.0}, 2)])
def test_the_faster_count_wins_and_a_tie_goes_to_more_threads(
    monkeypatch, tmp_path, step_ms, expected
):
    monkeypatch.setattr(threads_module, "available_cores", lambda: 2)
    monkeypatch.setattr(threads_module, "measure_steps", lambda *args: step_ms)
    model, batch = small_model_and_batch()
    choice = choose_threads(None, model, lambda: batch, "fp32", "key", tmp_path)
    assert (choice.threads, choice.source, choice.step_ms) == (expected, "measured", step_ms)


def test_a_measured_choice_is_cached_and_reused(monkeypatch, tmp_path):
    monkeypatch.setattr(threads_module, "available_cores", lambda: 2)
    model, batch = small_model_and_batch()
    first = choose_threads(None, model, lambda: batch, "fp32", "mlp | batch 64", tmp_path)
    assert first.source == "measured" and first.threads in (1, 2)
    saved = json.loads((tmp_path / CACHE_FILE).read_text())
    assert [entry["threads"] for entry in saved.values()] == [first.threads]
    monkeypatch.setattr(threads_module, "measure_steps", lambda *args: pytest.fail("measured"))
    again = choose_threads(None, model, lambda: batch, "fp32", "mlp | batch 64", tmp_path)
    assert (again.threads, again.source) == (first.threads, "cached")


def test_a_measurement_on_a_busy_machine_is_used_once_not_cached(monkeypatch, tmp_path):
    monkeypatch.setattr(threads_module, "available_cores", lambda: 2)
    monkeypatch.setattr(threads_module, "machine_is_busy", lambda cores: True)
    monkeypatch.setattr(threads_module, "measure_steps", lambda *args: {1: 22.6, 2: 221.1})
    model, batch = small_model_and_batch()
    choice = choose_threads(None, model, lambda: batch, "fp32", "cnn | batch 128", tmp_path)
    assert (choice.threads, choice.source) == (1, "measured on a busy machine")
    assert not (tmp_path / CACHE_FILE).exists()
    monkeypatch.setattr(threads_module, "machine_is_busy", lambda cores: False)
    monkeypatch.setattr(threads_module, "measure_steps", lambda *args: {1: 22.6, 2: 12.0})
    calm = choose_threads(None, model, lambda: batch, "fp32", "cnn | batch 128", tmp_path)
    assert (calm.threads, calm.source) == (2, "measured")  # measured again, then cached


def test_busy_means_half_the_cores_busy_with_other_work(monkeypatch):
    monkeypatch.undo()  # the real function, with pretend CPU times
    samples = iter([(100, 1000), (150, 1100), (100, 1000), (160, 1100)])  # 50%, then 60% busy
    monkeypatch.setattr(threads_module, "_cpu_times", lambda: next(samples))
    assert threads_module.machine_is_busy(2, seconds=0) and threads_module.machine_is_busy(2, 0)
    quiet = iter([(100, 1000), (120, 1100)])  # 20% busy
    monkeypatch.setattr(threads_module, "_cpu_times", lambda: next(quiet))
    assert not threads_module.machine_is_busy(2, seconds=0)
    monkeypatch.setattr(threads_module, "_cpu_times", lambda: None)  # not Linux: load average
    monkeypatch.setattr(threads_module.os, "getloadavg", lambda: (0.9, 0.5, 0.2))
    assert not threads_module.machine_is_busy(2) and threads_module.machine_is_busy(1)


def test_cpu_times_read_the_machine():
    first = threads_module._cpu_times()
    assert first is None or (0 <= first[0] <= first[1])


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"k": {"threads": 99}}'])
def test_a_damaged_cache_means_measuring_again(monkeypatch, tmp_path, content):
    monkeypatch.setattr(threads_module, "available_cores", lambda: 2)
    (tmp_path / CACHE_FILE).write_text(content)
    model, batch = small_model_and_batch()
    assert choose_threads(None, model, lambda: batch, "fp32", "k", tmp_path).source == "measured"


def test_asking_wins_over_measuring(monkeypatch, tmp_path):
    monkeypatch.setattr(threads_module, "measure_steps", lambda *args: pytest.fail("measured"))
    model, batch = small_model_and_batch()
    assert choose_threads(3, model, lambda: batch, "fp32", "k", tmp_path).to_dict() == {
        "threads": 3,
        "source": "asked",
        "step_ms": {},
    }


def test_a_run_records_its_threads_and_leaves_torchs_setting_alone(tiny_dataset, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    asked = run_training(TrainConfig(model="softmax", epochs=1, threads=1), dataset=tiny_dataset)
    assert asked.summary["threads"] == 1 and asked.summary["threads_chosen"]["source"] == "asked"
    measured = run_training(TrainConfig(model="softmax", epochs=1), dataset=tiny_dataset)
    chosen = measured.summary["threads_chosen"]
    assert chosen["source"] in ("measured", "cached", "one core")
    assert measured.summary["threads"] in (1, available_cores())
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(("value", "threads"), [("3", 3), (" 1 ", 1), ("0", None), ("x", None)])
def test_omp_num_threads_counts_as_asking(value, threads):
    assert threads_from_environment({"OMP_NUM_THREADS": value}) == threads
    assert threads_from_environment({}) is None


@pytest.mark.parametrize("threads", [0, -2, 1.5, True])
def test_bad_thread_counts_are_config_errors(threads):
    with pytest.raises(ConfigError, match="threads"):
        TrainConfig(threads=threads)
