"""The notebooks are the course's chapters: each is read for what a chapter needs, then run.

A chapter explains in prose, typesets its formulas, has "Try it" cells and 2-4 exercises whose
answers the learner types and `check(...)` judges. Every notebook runs top to bottom in a fresh
kernel (nbclient), with its working folder in a temporary directory, so none can silently rot;
two kernels run at a time, each on one core. Notebooks that train on MNIST (metadata
`dnnexplorer.needs_data`) get the real data through the `data_root` fixture. The notebooks are
stored without outputs.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dnnexplorer.course import chapter_names, exercises

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_PER_CELL = 180  # seconds; a chapter takes from a few seconds to about half a minute
CHECK_CALL = re.compile(r"""check\(\s*["']([\w-]+/[\w-]+)["']""")
MIN_PROSE_WORDS = 400  # a chapter explains; a page of a textbook holds about 400 words


def _needs_data(notebook: nbformat.NotebookNode) -> bool:
    return bool(notebook.metadata.get("dnnexplorer", {}).get("needs_data"))


def _chapter(path: Path) -> str:
    return path.stem.split("-", 1)[1]


def _markdown(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def test_one_notebook_per_chapter_numbered_in_teaching_order():
    expected = [f"{i:02d}-{name}.ipynb" for i, name in enumerate(chapter_names(), start=1)]
    assert [p.name for p in NOTEBOOKS] == expected


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_chapter(path):
    """Prose, typeset formulas, a "Try it" cell, and exactly its chapter's exercises, in order."""
    notebook = nbformat.read(path, as_version=4)
    number = int(path.stem.split("-", 1)[0])
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# Chapter {number}:")
    prose = _markdown(notebook)
    assert len(re.findall(r"[A-Za-z]+", prose)) >= MIN_PROSE_WORDS
    assert prose.count("$$") >= 2 or len(re.findall(r"\$[^$\n]+\$", prose)) >= 3  # LaTeX
    assert re.search(r"^#+ Try it", prose, re.MULTILINE), "a 'Try it' section"
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    asked = [m for source in code for m in CHECK_CALL.findall(source)]
    assert asked == [ex.id for ex in exercises(_chapter(path))]
    for source in code:
        if CHECK_CALL.search(source):
            assert "..." in source, "the answer is left for the learner to type"


def _execute(path: Path, workdir: Path, data: Path | None) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel with its working folder in `workdir`; return it run."""
    notebook = nbformat.read(path, as_version=4)
    # Small tensors: a second torch thread only waits, and on a busy machine it waits long.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if data is not None:
        env["DNNX_DATA"] = str(data)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_PER_CELL,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env)  # raises CellExecutionError, with the failing cell, on any error
    return notebook


@pytest.fixture(scope="session")
def executed(request, tmp_path_factory) -> dict[Path, Future]:
    """Every notebook, run once per session, a few at a time (each kernel uses one core).

    Notebooks that need MNIST run only where the data is (see `data_root`); the others always.
    """
    try:
        data = request.getfixturevalue("data_root")
    except pytest.skip.Exception:  # no data on this machine (never under CI: that fails)
        data = None
    pool = ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)))
    request.addfinalizer(pool.shutdown)
    runs = {}
    for path in NOTEBOOKS:
        if data is None and _needs_data(nbformat.read(path, as_version=4)):
            continue
        runs[path] = pool.submit(_execute, path, tmp_path_factory.mktemp(path.stem), data)
    return runs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, executed):
    if path not in executed:
        pytest.skip("needs MNIST: set DNNX_DATA to a folder holding mnist/")
    notebook = executed[path].result()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "figures are shown inline"
    for cell in notebook.cells:
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            shown = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
            assert "Not yet: replace the `...`" in shown, "the check answers the placeholder"
