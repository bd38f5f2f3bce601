"""Every registered lesson runs, writes result.json and real PNG figures, and is deterministic."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from dnnexplorer.errors import ConfigError
from dnnexplorer.lessons import (
    LESSONS,
    RESULT_FILE,
    LessonConfig,
    get_lesson,
    lesson_names,
    run_lesson,
)

EXPECTED = [  # the order of the workshop's slides
    "why-deep",
    "triangle",
    "regression",
    "gradient-descent",
    "perceptron",
    "activations",
    "backpropagation",
    "vanishing-gradients",
    "softmax-by-hand",
    "softmax-weights",
    "plain-pytorch",
    "slash-world",
    "xo-world",
    "convolution",
]
MIN_STORY_WORDS = 150  # a story explains: what is shown, the numbers found, what they mean


def test_all_workshop_lessons_are_registered_in_teaching_order():
    assert lesson_names() == EXPECTED
    for name in EXPECTED:
        assert get_lesson(name).description.strip()
        assert len(get_lesson(name).description) < 100  # one line in `dnnx lesson list`


def test_unknown_lesson_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match=r"unknown lesson 'nope'.*regression"):
        get_lesson("nope")


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_writes_result_json_and_figures(lesson_run, name):
    result, out = lesson_run(name)
    data = json.loads((out / RESULT_FILE).read_text())
    assert data["lesson"] == name
    assert data["seed"] == 0
    assert data["numbers"]  # the key numbers, JSON-ready
    assert data["summary"] == result.summary and len(result.summary) >= 3
    assert data["story"] == result.story and len(result.story) >= 3
    assert len(" ".join(result.story).split()) >= MIN_STORY_WORDS
    assert data["figures"] and data["figures"] == [p.name for p in result.figures]
    for figure in result.figures:
        assert figure.parent == out
        with Image.open(figure) as image:
            assert image.format == "PNG"
            assert image.width > 100 and image.height > 100
    assert not list(out.glob("*.tmp"))  # written atomically: no leftovers


@pytest.mark.parametrize("name", ["regression", "xo-world"])
def test_same_seed_gives_the_same_numbers(tmp_path, lesson_run, name):
    first, first_out = lesson_run(name)
    second = run_lesson(name, LessonConfig(out_dir=tmp_path, seed=0, offline=True))
    assert second.to_json() == first.to_json()
    assert (tmp_path / RESULT_FILE).read_bytes() == (first_out / RESULT_FILE).read_bytes()


def test_another_seed_gives_other_data(tmp_path, lesson_run):
    first, _ = lesson_run("regression")
    other = run_lesson("regression", LessonConfig(out_dir=tmp_path, seed=1))
    assert other.numbers["closed_form"] != first.numbers["closed_form"]


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_lesson_config_rejects_bad_seeds(tmp_path, seed):
    with pytest.raises(ConfigError, match="seed"):
        LessonConfig(out_dir=tmp_path, seed=seed)
