"""The softmax-weights lesson: the rows of W as ten 28x28 templates beside the class means.

Offline runs (seven-segment digits) always; the MNIST run needs the real data (DNNX_DATA).
"""

from __future__ import annotations

import pytest

from dnnexplorer.lessons import LessonConfig, run_lesson


def test_softmax_templates_offline(lesson_run):
    numbers = lesson_run("softmax-weights")[0].numbers
    assert numbers["dataset"] == "seven-segment"
    assert numbers["weight_shape"] == [10, 784]
    assert numbers["test_accuracy"] > 0.6
    assert all(v > 0.1 for v in numbers["template_agreement"].values())


@pytest.mark.real_data
def test_softmax_templates_on_mnist(data_root, tmp_path):
    config = LessonConfig(out_dir=tmp_path, data_dir=data_root)
    numbers = run_lesson("softmax-weights", config).numbers
    assert numbers["dataset"] == "mnist"
    assert numbers["test_accuracy"] > 0.88  # softmax regression: about 92% after one epoch
    assert all(v > 0.3 for v in numbers["template_agreement"].values())
