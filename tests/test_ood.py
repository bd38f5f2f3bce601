"""The Open OnDemand app (ood/dnnexplorer): its files parse, its templates render, and the job
script they make starts `dnnx serve` as the portal's proxy needs it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

APP = Path(__file__).parents[1] / "ood" / "dnnexplorer"
FORM = {
    "bc_account": "workshop01",
    "bc_queue": "gpu",
    "bc_num_hours": "2",
    "bc_num_gpus": "1",
    "runs_dir": "~/dnnx runs",
    "host": "node042",
    "port": "53117",
    "token": "t0k3n-0123456789abcdef",
}


def ruby_shellescape(text: str) -> str:
    """Ruby's Shellwords.escape: a backslash before every character the shell could read."""
    if not text:
        return "''"
    return re.sub(r"[^A-Za-z0-9_\-.,:+/@\n]", r"\\\g<0>", text).replace("\n", "'\n'")


def render(template: Path, values: dict[str, str]) -> str:
    """ERB as these templates use it, and nothing else (a test fails on anything else):
    `<%= name %>` (submit.yml and the view), `<%= context.name.to_s.shellescape %>` (the job's
    templates, where the form's values are user input), `<% require "shellwords" %>`."""
    text = template.read_text().replace('<% require "shellwords" %>', "")
    text = re.sub(
        r"<%=\s*context\.(\w+)\.to_s\.shellescape\s*%>",
        lambda m: ruby_shellescape(values[m.group(1)]),
        text,
    )
    assert re.findall(r"<%(?!=)", text) == [], f"{template.name}: unexpected ERB"
    return re.sub(r"<%=\s*(\w+)\s*%>", lambda m: values[m.group(1)], text)


def test_the_app_files_parse_and_the_form_is_complete() -> None:
    manifest = yaml.safe_load((APP / "manifest.yml").read_text())
    assert manifest["role"] == "batch_connect" and manifest["category"] == "Interactive Apps"
    form = yaml.safe_load((APP / "form.yml").read_text())
    assert form["form"] == ["bc_account", "bc_queue", "bc_num_hours", "bc_num_gpus", "runs_dir"]
    assert set(form["form"]) <= set(form["attributes"]) | {"bc_num_hours"}
    submit = yaml.safe_load(render(APP / "submit.yml.erb", FORM))
    assert submit["batch_connect"] == {"template": "basic", "conn_params": ["token"]}
    assert submit["script"]["accounting_id"] == "workshop01"
    assert submit["script"]["queue_name"] == "gpu"
    assert submit["script"]["native"] == ["--gpus-per-node=1"]
    view = render(APP / "view.html.erb", FORM)
    assert 'action="/rnode/node042/53117/"' in view and 'value="t0k3n-0123456789abcdef"' in view


def test_the_job_script_starts_the_lab_behind_the_proxy(tmp_path: Path) -> None:
    """before.sh + script.sh, rendered, pass `bash -n`, then run with OnDemand's helpers and a
    stand-in `dnnx` that records its arguments and environment."""
    before = render(APP / "template" / "before.sh.erb", FORM)
    script = render(APP / "template" / "script.sh.erb", FORM)
    job = tmp_path / "job.sh"
    helpers = 'host=node042\nfind_port() { echo 53117; }\ncreate_passwd() { echo "secret-$1"; }\n'
    job.write_text(helpers + before + "\n" + script.replace("#!/usr/bin/env bash\n", ""))
    check = subprocess.run(["bash", "-n", str(job)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dnnx"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'printf "%q " "$@" > "$RECORD"\n'
        'printf "\\n%s\\n" "$DNNX_TOKEN" >> "$RECORD"\n'
    )
    fake.chmod(0o755)
    record = tmp_path / "record"
    env = os.environ | {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "RECORD": str(record),
        "OOD_PORTAL_HOST": "ondemand.example.edu",
    }
    done = subprocess.run(["bash", str(job)], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr
    args_line, token = record.read_text().splitlines()
    args = shlex.split(args_line)
    assert args[:3] == ["serve", "--host", "0.0.0.0"]
    options = dict(zip(args[3::2], args[4::2], strict=True))
    assert options["--port"] == "53117"
    assert options["--root-path"] == "/rnode/node042/53117"
    assert options["--runs"] == str(tmp_path / "dnnx runs") and (tmp_path / "dnnx runs").is_dir()
    assert args.count("--trusted-host") == 2 and "ondemand.example.edu" in args
    assert token == "secret-32"  # the job's own token, passed in the environment, not argv


@pytest.mark.parametrize("name", ["before.sh.erb", "script.sh.erb"])
def test_templates_use_only_simple_substitutions(name: str) -> None:
    render(APP / "template" / name, FORM)


def test_a_runs_folder_from_the_form_never_runs_as_a_command(tmp_path: Path) -> None:
    """The runs folder is typed by the user: quotes, `$(...)` and backquotes stay text."""
    canary = tmp_path / "ran"
    hostile = f"~/runs \"$(touch {canary})\" `touch {canary}` ';touch {canary}'"
    script = render(APP / "template" / "script.sh.erb", FORM | {"runs_dir": hostile})
    line = next(x for x in script.splitlines() if x.startswith("runs_dir="))
    probe = tmp_path / "probe.sh"
    probe.write_text(line + '\nprintf "%s" "$runs_dir"\n')
    done = subprocess.run(["bash", str(probe)], capture_output=True, text=True)
    assert done.returncode == 0 and not canary.exists()
    assert done.stdout == hostile
