"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, so none can silently rot.

Each runs headlessly (nbclient) with its working folder in a temporary directory, so lesson
outputs land there. Notebooks that train on MNIST (metadata `dnnexplorer.needs_data`) get the
real data through the `data_root` fixture. The notebooks are stored without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_PER_CELL = 120  # seconds; each notebook takes a few seconds in total


def _needs_data(notebook: nbformat.NotebookNode) -> bool:
    return bool(notebook.metadata.get("dnnexplorer", {}).get("needs_data"))


def test_there_is_a_notebook_per_lesson_and_one_for_the_ladder():
    from dnnexplorer.lessons import lesson_names

    stems = [p.stem for p in NOTEBOOKS]
    for name in lesson_names():
        assert any(stem.endswith(name) for stem in stems), name
    assert any("ladder" in stem for stem in stems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_small_and_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert 1 <= len(code) <= 6  # short: the logic lives in the library
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch, request):
    notebook = nbformat.read(path, as_version=4)
    if _needs_data(notebook):
        monkeypatch.setenv("DNNX_DATA", str(request.getfixturevalue("data_root")))
    # Tiny tensors: a second torch thread only waits, and on a busy machine it waits long.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_PER_CELL,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    if "lesson" in notebook.cells[1].source:
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert images, "the lesson's figures are shown inline"
