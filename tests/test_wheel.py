"""The wheel runs: built from the sources, installed into a fresh virtual environment, and
used from a folder outside the checkout, it trains the demo config and reports.

The environment is made without system site-packages; one ``.pth`` file appends the
running interpreter's site-packages folders to its path, so torch and the other
dependencies (and pip) are found without being installed again, and the wheel is installed
with ``--no-deps``. Folders named in a ``.pth`` file are not scanned for ``.pth`` files of
their own, so the editable install of the checkout that those folders may hold (a
``.pth`` hook) stays out; each run still asserts that ``medxai`` and ``training`` are
imported from the environment, not from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
#: What the build reads: the project files and the packages' sources.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "medxai", "training", "configs")

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["OMP_NUM_THREADS"] = "2"
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def _build_isolation() -> list[str]:
    """``--no-build-isolation`` when this environment can build the wheel itself
    (setuptools 70.1 or newer writes wheels without the ``wheel`` package); otherwise pip
    builds in an isolated environment, installing the build requirements there."""
    try:
        major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return []
    return ["--no-build-isolation"] if (major, minor) >= (70, 1) else []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel`` of a copy of the sources (a build in the checkout could pick up stale
    files from an old ``build/`` folder)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", *_build_isolation(),
          "--no-cache-dir", "-q", "-w", str(dist), str(src)], cwd=dist)
    (found,) = dist.glob("medxai-*.whl")
    return found


@pytest.fixture(scope="module")
def env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its folder."""
    root = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(root)
    python = root / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                cwd=root).stdout.strip()
    dependencies = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    (Path(site) / "dependencies.pth").write_text("\n".join(dependencies) + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed",
          "--no-cache-dir", "-q", str(wheel)], cwd=root)
    return root


def test_wheel_carries_the_configs_and_the_template(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = sorted((REPO / "configs").glob("*.yaml"))
        assert {p.name for p in shipped} >= {"demo_phantoms.yaml", "mura_resnet50.yaml"}
        for path in shipped:  # the one copy, byte for byte
            assert archive.read(f"training/configs/{path.name}") == path.read_bytes()
        assert "medxai/report/templates/report.html" in names
        assert "training/__main__.py" in names and "training/demo.py" in names
    assert not [n for n in names if n.startswith("configs/")]  # no top-level "configs"


#: Run by the environment's Python in the work folder: the demo's training path on the
#: phantoms (one epoch), its validation line and study choice, ``python -m training``, and
#: ``medxai report`` on the trained checkpoint; in one process, to import torch once.
INSIDE = """
import contextlib, io, json, runpy, sys
from pathlib import Path
import medxai, training, training.cli as cli
from medxai.cli import main
from medxai.commands import demo

root = Path("phantoms").resolve()
checkpoint = demo._train(Path("demo").resolve(), root, 0, 1)
study = demo.pick_study(root)
sys.argv = ["training", "--config", str(cli.DEMO_CONFIG), "--data.root", "phantoms",
            "--print_config"]
printed, reported = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
    runpy.run_module("training", run_name="__main__", alter_sys=True)
with contextlib.redirect_stdout(reported):
    code = main(["report", str(study), "--checkpoint", str(checkpoint),
                 "--out", str(Path("report").resolve()), "--channel-budget", "1",
                 "--no-progress"])
print(json.dumps({
    "medxai": medxai.__file__, "training": training.__file__, "config": str(cli.DEMO_CONFIG),
    "checkpoint": str(checkpoint), "line": demo.validation_line(checkpoint),
    "record": json.loads((checkpoint.parent / "training.json").read_text()),
    "printed": printed.getvalue(), "report": [code, reported.getvalue()],
}))
"""


def test_installed_wheel_trains_the_demo_and_reports(env: Path, tmp_path: Path) -> None:
    """From a folder outside the checkout: ``medxai phantoms``, then :data:`INSIDE`."""
    work = tmp_path / "work"
    work.mkdir()
    _run([str(env / "bin" / "medxai"), "phantoms", "phantoms", "--studies", "4",
          "--valid-studies", "6", "--size", "64", "--body-parts", "XR_FINGER", "--seed", "0"],
         cwd=work)
    proc = _run([str(env / "bin" / "python"), "-c", INSIDE], cwd=work)
    found = json.loads(proc.stdout.splitlines()[-1])

    inside = env.resolve()
    for key in ("medxai", "training", "config"):  # the wheel's files, not the checkout's
        assert Path(found[key]).resolve().is_relative_to(inside), (key, found[key])
    assert Path(found["config"]).parent == Path(found["training"]).parent / "configs"
    assert found["record"]["config"] == found["config"]  # the demo trained the wheel's config
    assert found["record"]["options"] == {"seed_everything": "0", "trainer.max_epochs": "1"}
    checkpoint = Path(found["checkpoint"])
    assert checkpoint.is_relative_to(work.resolve() / "demo" / "runs") and checkpoint.is_file()
    assert found["line"].startswith("model.ckpt: validation study AUROC ")
    assert found["line"].endswith("(epoch 0, 6 studies)")

    config = yaml.safe_load(found["printed"])  # python -m training
    assert config["model"]["arch"] == "resnet18" and config["data"]["root"] == "phantoms"

    code, printed = found["report"]
    html = (work / "report" / "report.html").resolve()
    assert code == 0 and printed.strip().splitlines()[-1] == str(html)
    summary = json.loads((work / "report" / "summary.json").read_text())
    assert summary["model"]["arch"] == "resnet18" and summary["model"]["input_size"] == 128
    assert (work / "report" / "report.pdf").stat().st_size > 0
