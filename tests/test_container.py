"""The container (apptainer/dnnexplorer.def, Dockerfile): its definition is complete and valid,
and its build steps, run here for real, give an install that trains from the data inside it.

Neither Apptainer nor a Docker engine can run on the development machine, so the image itself is
not built here: the definition is parsed, every shell section passes `bash -n`, and its %setup,
%post, %environment, %test and %runscript run in a throwaway virtual environment, with the
image's /opt and /root mapped to a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DEFINITION = ROOT / "apptainer" / "dnnexplorer.def"
DOCKERFILE = ROOT / "Dockerfile"
SHELL_SECTIONS = ("setup", "post", "environment", "runscript", "test", "apprun")


def parse_definition(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The header (`Bootstrap: docker`, `From: ...`) and the sections (`%post` -> its lines,
    dedented; `%apprun lab` -> key 'apprun lab')."""
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("%"):
            current = sections.setdefault(line[1:].strip(), [])
        elif current is not None:
            current.append(line[4:] if line.startswith("    ") else line.strip())
        elif line.strip() and not line.startswith("#"):
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
    return header, {name: "\n".join(lines).strip() + "\n" for name, lines in sections.items()}


def build_arguments(sections: dict[str, str], **given: str) -> dict[str, str]:
    """%arguments' defaults, overridden as `apptainer build --build-arg NAME=VALUE` would."""
    defaults = dict(line.split("=", 1) for line in sections["arguments"].split())
    assert set(given) <= set(defaults), f"unknown build arguments: {set(given) - set(defaults)}"
    return {**defaults, **given}


def substitute(script: str, arguments: dict[str, str]) -> str:
    """Replace `{{ NAME }}` by the build argument's value; an undefined name fails the test."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: arguments[m.group(1)], script)


HEADER, SECTIONS = parse_definition(DEFINITION.read_text())


def test_the_definition_is_complete() -> None:
    assert HEADER == {"Bootstrap": "docker", "From": "python:3.11-slim-bookworm"}
    expected = {"arguments", "labels", "help", "files", "setup", "post", "environment"}
    expected |= {"runscript", "test", "apprun lab", "apprun jupyter"}
    assert set(SECTIONS) == expected
    for line in SECTIONS["files"].splitlines():  # every file the image copies exists here
        source, destination = line.split()
        assert (ROOT / source).exists(), source
        assert destination.startswith("/opt/dnnexplorer/")
    # the image's data folder is where install.sh puts the datasets and where dnnx looks
    assert "export DNNX_DATA=/opt/dnnx-data" in SECTIONS["environment"]
    install = (ROOT / "apptainer" / "install.sh").read_text()
    assert 'data_dir="${DNNX_IMAGE_DATA:-/opt/dnnx-data}"' in install


@pytest.mark.parametrize("name", [s for s in SECTIONS if s.split()[0] in SHELL_SECTIONS])
def test_every_shell_section_is_valid_bash(name: str, tmp_path: Path) -> None:
    script = tmp_path / "section.sh"
    script.write_text(substitute(SECTIONS[name], build_arguments(SECTIONS)))
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_install_script_is_valid_and_pins_the_readme_torch() -> None:
    install = (ROOT / "apptainer" / "install.sh").read_text()
    assert subprocess.run(["bash", "-n", str(ROOT / "apptainer" / "install.sh")]).returncode == 0
    pin = re.search(r'"torch==([\d.]+)"', install).group(1)
    assert f"pip install torch=={pin}" in (ROOT / "README.md").read_text()


def test_the_dockerfile_builds_the_same_image() -> None:
    """Same base, same build script, and every file it copies passes .dockerignore."""
    text = DOCKERFILE.read_text()
    assert f"FROM {HEADER['From']}\n" in text
    assert "bash /opt/dnnexplorer/install.sh" in text and "ENV DNNX_DATA=/opt/dnnx-data" in text
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    copied = [source for sources in copies for source in sources]
    assert copied and set(copied) <= allowed
    for source in copied:
        assert (ROOT / source).exists(), source


def in_image(script: str, root: Path) -> str:
    """Map the image's /opt and /root to `root`/opt and `root`/root (the test's fake image)."""
    return re.sub(r"(?<![\w.}/])/(opt|root)/", lambda m: f"{root}/{m.group(1)}/", script)


@pytest.mark.slow
def test_the_build_steps_give_an_install_that_trains_offline(
    tmp_path: Path, data_root: Path
) -> None:
    """%files, %setup (the datasets from DATA_FROM), %post (install.sh) and %test, run for real;
    then the %runscript trains from the image's own data, with no other data folder in sight."""
    image = tmp_path / "image"
    for line in SECTIONS["files"].splitlines():  # %files
        source, destination = line.split()
        target = image / destination.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / source, target)

    env_python = tmp_path / "venv"  # the image's Python, with this machine's packages visible
    venv.create(env_python, system_site_packages=True, with_pip=True)
    base_env = {
        "PATH": f"{env_python / 'bin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }

    def run(script: str, extra: dict[str, str] | None = None, *args: str) -> str:
        path = tmp_path / "step.sh"
        path.write_text(script)
        done = subprocess.run(
            ["bash", "-e", str(path), *args],
            env={**base_env, **(extra or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    arguments = build_arguments(SECTIONS, DATA_FROM=str(data_root))
    run(substitute(SECTIONS["setup"], arguments), {"APPTAINER_ROOTFS": str(image)})
    assert (image / "opt/dnnx-stage/mnist").is_dir()

    # %post; installing the jupyter extra would download JupyterLab: the lab's extra is enough
    post = in_image(substitute(SECTIONS["post"], arguments), image)
    run(
        post,
        {
            "PYTHON": str(env_python / "bin" / "python"),
            "DNNX_SOURCE": str(image / "opt/dnnexplorer"),
            "DNNX_IMAGE_DATA": str(image / "opt/dnnx-data"),
            "DNNX_EXTRAS": "web",
        },
    )
    assert not (image / "opt/dnnx-stage").exists()
    assert sorted(p.name for p in (image / "opt/dnnx-data").iterdir()) == ["fashion-mnist", "mnist"]

    environment = in_image(SECTIONS["environment"], image)
    where = run(environment + 'python -c "import dnnexplorer; print(dnnexplorer.__file__)"\n')
    assert where.startswith(str(env_python)), "the test must use the copy installed by %post"
    test = SECTIONS["test"].replace("jupyterlab, ", "")  # not installed here (see above)
    run(environment + in_image(test, image))

    runscript = in_image(environment + SECTIONS["runscript"], image)
    out = tmp_path / "runs" / "softmax"
    run(runscript, {}, "train", "--model", "softmax", "--epochs", "1", "--out", str(out))
    summary = (out / "summary.json").read_text()
    assert '"dataset": "mnist"' in summary
    assert float(re.search(r'"test_accuracy": ([\d.]+)', summary).group(1)) > 0.85


def test_readme_explains_the_container() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "apptainer build dnnexplorer.sif apptainer/dnnexplorer.def" in readme
    assert "dnnx slurm --container" in readme
