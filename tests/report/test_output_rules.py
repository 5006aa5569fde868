"""Output rules: what ``--force`` may replace, stale temporaries of killed runs, and paths
without ``--show-identifiers``."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from report_helpers import pdf_text, write_png

from medxai.atomic import (
    MANIFEST,
    STALE_AFTER_S,
    check_replaceable,
    clean_stale_temporaries,
    owner_tag,
    staged_dir,
    write_text_atomic,
)
from medxai.cli import main
from medxai.errors import OutputError
from medxai.report.writer import REPORT_LAYOUT, default_output, shown_output

#: A study folder name that carries a record number, as hospital folders often do.
RECORD_FOLDER = "MRN0048213_doe_jane"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes), hidden ones included."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def report(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """``medxai report`` in-process at the fastest settings; returns (exit code, stderr)."""
    fast = ["--channel-budget", "1", "--regions", "1", "--device", "cpu", "--no-progress"]
    code = main(["report", *map(str, args), *fast])
    return code, capsys.readouterr().err


def dead_pid() -> int:
    """The number of a process that has just ended."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


@pytest.fixture(scope="module")
def record_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study folder named with a record number: one PNG, one corrupt PNG, one text file."""
    folder = tmp_path_factory.mktemp("ward") / RECORD_FOLDER
    folder.mkdir()
    write_png(folder / "image1.png", 64, 56, seed=3)
    (folder / "image2.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def hidden_report(
    record_study: Path, tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    """The report of :func:`record_study` without ``--show-identifiers``, and its stderr."""
    out = tmp_path_factory.mktemp("reports") / "report"
    stderr = io.StringIO()  # capsys is function-scoped
    with contextlib.redirect_stderr(stderr):
        code = main(["report", str(record_study), "--checkpoint", str(tiny_checkpoint),
                     "--out", str(out), "--channel-budget", "1", "--regions", "1",
                     "--device", "cpu", "--no-progress"])  # fmt: skip
    assert code == 0, stderr.getvalue()
    return out, stderr.getvalue()


# --- what --force may replace -------------------------------------------------------------


def test_force_refuses_a_folder_medxai_did_not_write(
    record_study: Path, tiny_checkpoint: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.txt").write_text("four years of work")
    (out / "figures").mkdir()
    (out / "figures" / "plot.png").write_bytes(b"mine")
    before = snapshot(out)
    code, err = report(capsys, record_study, "--checkpoint", tiny_checkpoint, "--out", out,
                       "--force")  # fmt: skip
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(out) in err and "not a medxai output folder" in err and "summary.json" in err
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # nothing left beside it


def test_the_replacement_rule(tmp_path: Path) -> None:
    check_replaceable(tmp_path / "absent", "summary.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    check_replaceable(empty, "summary.json")
    check_replaceable(empty, None)
    marked = tmp_path / "marked"
    marked.mkdir()
    (marked / "summary.json").write_text("{}")
    check_replaceable(marked, "summary.json")
    with pytest.raises(OutputError, match="not a medxai output folder"):
        check_replaceable(marked, None)  # no marker: only an empty folder
    with pytest.raises(OutputError, match=r"no run\.json"):
        check_replaceable(marked, "run.json")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "summary.json").symlink_to(marked / "summary.json")
    with pytest.raises(OutputError, match=r"no summary\.json"):
        check_replaceable(linked, "summary.json")  # a link is not a file medxai wrote
    (tmp_path / "link").symlink_to(marked)
    with pytest.raises(OutputError, match="symbolic link"):
        check_replaceable(tmp_path / "link", "summary.json")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        check_replaceable(tmp_path / "file", "summary.json")
    with (
        pytest.raises(OutputError, match="not a medxai output folder"),
        staged_dir(tmp_path / "linked", force=True, marker="summary.json") as tmp,
    ):
        (tmp / "x").write_text("never published")
    assert sorted(p.name for p in (tmp_path / "linked").iterdir()) == ["summary.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_phantoms_force_refuses_a_foreign_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "data"
    out.mkdir()
    (out / "patients.csv").write_text("id,name\n1,Jane Doe\n")
    before = snapshot(out)
    code = main(["phantoms", str(out), "--studies", "3", "--size", "64", "--force"])
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1 and "phantoms.json" in err
    assert snapshot(out) == before


def published(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A report folder published by :func:`staged_dir` holding ``files``."""
    out = tmp_path / "report"
    with staged_dir(out, marker="summary.json", layout=REPORT_LAYOUT) as tmp:
        for relative, data in files.items():
            (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp / relative).write_bytes(data)
    return out


REPORT_FILES = {
    "summary.json": b"{}",
    "report.html": b"<p>report</p>",
    "figures/01_image1_overview.png": b"png",
}


def test_a_published_folder_lists_what_it_holds(tmp_path: Path) -> None:
    out = published(tmp_path, REPORT_FILES)
    listed = json.loads((out / MANIFEST).read_text())
    assert listed == {
        "format": "medxai-manifest",
        "entries": ["figures/", "figures/01_image1_overview.png", "report.html", "summary.json"],
    }
    check_replaceable(out, "summary.json")  # only its own files: replaceable


@pytest.mark.parametrize(
    ("added", "named"),
    [
        ("thesis.txt", "holds thesis.txt, which medxai did not write"),
        ("figures/my_plot.png", "holds figures/my_plot.png, which medxai did not write"),
        ("notes/", "holds notes, which medxai did not write"),
        ("link", "holds link, a symbolic link medxai did not write"),
    ],
)
def test_force_replaces_only_what_medxai_wrote(tmp_path: Path, added: str, named: str) -> None:
    out = published(tmp_path, REPORT_FILES)
    if added == "link":
        (out / added).symlink_to(out / "report.html")
    elif added.endswith("/"):
        (out / added).mkdir()
    else:
        (out / added).write_text("the user's own work")
    before = snapshot(out)
    with pytest.raises(OutputError) as refused:
        check_replaceable(out, "summary.json", REPORT_LAYOUT)
    message = str(refused.value)
    assert message.startswith(f"{out}: {named};") and "nothing was changed" in message
    with (
        pytest.raises(OutputError, match="medxai did not write"),
        staged_dir(out, force=True, marker="summary.json", layout=REPORT_LAYOUT) as tmp,
    ):
        (tmp / "summary.json").write_text("never published")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_folder_without_a_file_list_must_match_the_layout(tmp_path: Path) -> None:
    older = tmp_path / "older"  # a report folder of an older medxai: no MANIFEST
    files = {**REPORT_FILES, "report.pdf": b"%PDF", "dicom/report_sr.dcm": b""}
    for relative, data in files.items():
        (older / relative).parent.mkdir(parents=True, exist_ok=True)
        (older / relative).write_bytes(data)
    check_replaceable(older, "summary.json", REPORT_LAYOUT)
    with pytest.raises(OutputError, match="holds dicom, which"):
        check_replaceable(older, "summary.json")  # no layout: the marker alone
    (older / "figures" / "scan_of_consent.png").write_bytes(b"png")
    with pytest.raises(OutputError, match=r"holds figures/scan_of_consent\.png, which"):
        check_replaceable(older, "summary.json", REPORT_LAYOUT)


@pytest.mark.parametrize(
    "listing", [b"not json", b'{"format": "other", "entries": []}', b'["summary.json"]', None]
)
def test_an_unreadable_file_list_refuses(tmp_path: Path, listing: bytes | None) -> None:
    out = published(tmp_path, REPORT_FILES)
    (out / MANIFEST).unlink()
    if listing is None:
        os.mkfifo(out / MANIFEST)  # never opened for a blocking read
    else:
        (out / MANIFEST).write_bytes(listing)
    with pytest.raises(OutputError, match=r"the file list of this output folder is unreadable"):
        check_replaceable(out, "summary.json", REPORT_LAYOUT)


def test_report_force_keeps_a_file_added_to_an_earlier_report(
    hidden_report: tuple[Path, str], record_study: Path, tiny_checkpoint: Path,
    tmp_path: Path, capsys,
) -> None:  # fmt: skip
    out = shutil.copytree(hidden_report[0], tmp_path / "report", symlinks=True)
    (out / "thesis.txt").write_text("four years of work")
    before = snapshot(out)
    code, err = report(capsys, record_study, "--checkpoint", tiny_checkpoint, "--out", out,
                       "--force")  # fmt: skip
    assert code != 0 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{out}: holds thesis.txt, which medxai did not write" in err
    assert snapshot(out) == before


def test_phantoms_force_keeps_a_file_added_to_an_earlier_set(tmp_path: Path, capsys) -> None:
    out = tmp_path / "data"
    assert main(["phantoms", str(out), "--studies", "2", "--size", "64"]) == 0
    (out / "train" / "cohort.xlsx").write_bytes(b"the user's own table")
    before = snapshot(out)
    code = main(["phantoms", str(out), "--studies", "2", "--size", "64", "--force"])
    err = capsys.readouterr().err
    assert code != 0 and "holds train/cohort.xlsx, which medxai did not write" in err
    assert snapshot(out) == before
    (out / "train" / "cohort.xlsx").unlink()
    assert main(["phantoms", str(out), "--studies", "2", "--size", "64", "--force"]) == 0


# --- stale temporaries of killed runs -----------------------------------------------------


KILLED_WRITER = """
import os, signal, sys
from medxai.atomic import staged_dir
with staged_dir(sys.argv[1], force=True, marker="summary.json") as tmp:
    (tmp / "figures").mkdir()
    (tmp / "figures" / "image1_overview.png").write_bytes(b"patient-derived pixels")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_stale_temporaries_by_owner_and_age(tmp_path: Path, capsys) -> None:
    target = tmp_path / "out"
    pid = dead_pid()
    host = owner_tag().split("-")[0]
    dead_partial = tmp_path / f".out.{host}-{pid}.k2j4h5g6.partial"
    dead_tmp = tmp_path / f".out.{host}-{pid}.k2j4h5g6.tmp"
    old_legacy = tmp_path / ".out.k2j4h5g6.partial"  # an older medxai: no process recorded
    new_legacy = tmp_path / ".out.a1b2c3d4.partial"
    old_remote = tmp_path / ".out.0badf00d-77.k2j4h5g6.partial"
    other_target = tmp_path / f".out2.{host}-{pid}.k2j4h5g6.partial"
    not_ours = tmp_path / ".out.backup.partial"
    for folder in (dead_partial, old_legacy, new_legacy, old_remote, other_target, not_ours):
        folder.mkdir()
        (folder / "figure.png").write_bytes(b"pixels")
    dead_tmp.write_bytes(b"rows")
    long_ago = time.time() - STALE_AFTER_S - 60
    for path in (old_legacy, old_remote):
        os.utime(path, (long_ago, long_ago))
    cleaned = clean_stale_temporaries(target)
    assert sorted(cleaned) == sorted([dead_partial, dead_tmp, old_legacy, old_remote])
    for kept in (new_legacy, other_target, not_ours):
        assert kept.is_dir()
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 4 and "untouched for 24 h" in err


def test_a_previous_output_caught_mid_replacement_is_restored(tmp_path: Path, capsys) -> None:
    pid = dead_pid()
    host = owner_tag().split("-")[0]
    old = tmp_path / f".report.{host}-{pid}.old"
    old.mkdir()
    (old / "summary.json").write_text("{}")
    with staged_dir(tmp_path / "report", force=True, marker="summary.json") as tmp:
        assert (tmp_path / "report" / "summary.json").is_file()  # restored before the write
        (tmp / "summary.json").write_text('{"new": 1}')
    assert json.loads((tmp_path / "report" / "summary.json").read_text()) == {"new": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert "restored the previous output" in capsys.readouterr().err


def test_a_killed_file_write_is_cleaned(tmp_path: Path) -> None:
    host = owner_tag().split("-")[0]
    leftover = tmp_path / f".run.json.{host}-{dead_pid()}.q1w2e3r4.tmp"
    leftover.write_text('{"partial": ')
    write_text_atomic(tmp_path / "run.json", "{}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


# --- paths without --show-identifiers -----------------------------------------------------


def test_paths_carry_no_identifiers_by_default(
    hidden_report: tuple[Path, str], record_study: Path
) -> None:
    out, stderr = hidden_report
    summary = json.loads((out / "summary.json").read_text())
    digest = hashlib.sha256((record_study / "image1.png").read_bytes()).hexdigest()
    skipped = hashlib.sha256((record_study / "image2.png").read_bytes()).hexdigest()
    joined = "\n".join(sorted([digest, skipped])).encode()  # every image file, read or skipped
    label = "study-" + hashlib.sha256(joined).hexdigest()[:12]
    assert summary["study"]["id"] == label and "folder" not in summary["study"]
    assert summary["images"][0]["source"] == "image1.png"
    inputs = {e["role"]: e for e in summary["inputs"]}
    assert inputs["image"] == {"role": "image", "path": "image1.png", "sha256": digest}
    assert inputs["checkpoint"]["path"] == "tiny_resnet18.ckpt"
    assert summary["skipped"][0]["path"] == "image2.png"
    assert summary["ignored"] == ["notes.txt"]
    secrets = [RECORD_FOLDER, str(record_study.parent), str(record_study.resolve().parent)]
    for path in (p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        data = pdf_text(data) if path.suffix == ".pdf" else data
        for secret in secrets:
            assert secret.encode() not in data, (path.name, secret)
    assert label.encode() in pdf_text((out / "report.pdf").read_bytes())
    assert label in (out / "report.html").read_text()
    for secret in secrets:
        assert secret not in stderr


def test_default_folder_and_written_line_carry_no_identifiers(
    record_study: Path, tiny_checkpoint: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    study = shutil.copytree(record_study, tmp_path / "ward" / RECORD_FOLDER)
    digests = [hashlib.sha256((study / n).read_bytes()).hexdigest() for n in ("image1.png",
               "image2.png")]  # fmt: skip
    joined = "\n".join(sorted(digests)).encode()
    expected = study.parent / f"report-{hashlib.sha256(joined).hexdigest()[:12]}"
    assert default_output(study, show_identifiers=False) == expected
    assert default_output(study, show_identifiers=True) == study.parent / f"{RECORD_FOLDER}_report"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, err = report(capsys, study, "--checkpoint", tiny_checkpoint)
    assert code == 0, err
    assert sorted(p.name for p in study.parent.iterdir()) == sorted([RECORD_FOLDER, expected.name])
    summary = json.loads((expected / "summary.json").read_text())
    assert expected.name == summary["study"]["id"].replace("study-", "report-")
    (line,) = [x for x in err.splitlines() if "report written to" in x]
    assert line.endswith(f"report written to {expected.name}, beside the study folder")
    assert RECORD_FOLDER not in err and str(tmp_path) not in err


def test_the_written_line_names_a_folder_by_a_path_free_of_identifiers(
    tmp_path: Path, monkeypatch
) -> None:
    study = tmp_path / "ward" / RECORD_FOLDER
    study.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    beside = study.parent / "report-0123456789ab"
    # "ward" lies on the study's path (a parent folder may be a patient's name)
    assert shown_output(beside, study, False) == "report-0123456789ab, beside the study folder"
    assert shown_output(tmp_path / "reports" / "r1", study, False) == "reports/r1"
    named = tmp_path / "reports" / f"{RECORD_FOLDER}_report"
    assert shown_output(named, study, False) == "the --out folder"
    outside = tmp_path.parent / "shared_reports"
    assert shown_output(outside, study, False) == (
        "shared_reports (--show-identifiers shows its full path)"
    )
    for out in (beside, named, outside):
        assert shown_output(out, study, True) == str(out)


def test_paths_in_free_text_are_hidden_too() -> None:
    from medxai.report.identifiers import PathRule

    rule = PathRule(Path("/data/ward 3/MRN0048213"), "study-x", show=False)
    text = {
        "w": [
            "/data/ward 3/MRN0048213/a.dcm: skipped",
            "the folder /data/ward 3/MRN0048213 mixes studies",
            "/data/ward 3/MRN00482139/b.dcm is another folder",
        ]
    }
    assert rule.text(text) == {
        "w": [
            "a.dcm: skipped",
            "the folder study-x mixes studies",
            "/data/ward 3/MRN00482139/b.dcm is another folder",
        ]
    }
    assert PathRule(Path("/data/x"), "x", show=True).text(text) == text


@pytest.mark.slow
def test_a_rerun_replaces_its_report_and_cleans_what_a_killed_run_left(
    hidden_report: tuple[Path, str], record_study: Path, tiny_checkpoint: Path,
    tmp_path: Path, capsys,
) -> None:  # fmt: skip
    """One report run checks three rules: a killed run's partial folder (patient-derived
    figures) is removed, a live or foreign one is kept; ``--force`` replaces an earlier
    report; ``--show-identifiers`` shows the folder's name and the full paths."""
    out = tmp_path / "report"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out)], check=False)
    assert killed.returncode == -9
    (partial,) = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert (partial / "figures" / "image1_overview.png").is_file()
    live = tmp_path / f".report.{owner_tag()}.abcd1234.partial"  # this process: alive
    live.mkdir()
    remote = tmp_path / ".report.0badf00d-1.abcd1234.partial"  # another machine, recent
    remote.mkdir()
    shutil.copytree(hidden_report[0], out)
    (out / "report.html").write_text("an older report")

    code, err = report(capsys, record_study, "--checkpoint", tiny_checkpoint, "--out", out,
                       "--force", "--show-identifiers")  # fmt: skip
    assert code == 0, err
    assert not partial.exists() and live.is_dir() and remote.is_dir()
    (line,) = [x for x in err.splitlines() if "stale" in x]
    assert partial.name in line and "no longer runs" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report", live.name, remote.name])
    assert sorted(snapshot(out)) == sorted(snapshot(hidden_report[0]))

    summary = json.loads((out / "summary.json").read_text())
    assert summary["study"]["id"] == RECORD_FOLDER
    assert summary["study"]["folder"] == str(record_study.resolve())
    assert summary["images"][0]["source"] == str((record_study / "image1.png").resolve())
    assert Path(summary["inputs"][-1]["path"]) == tiny_checkpoint.resolve()
    assert RECORD_FOLDER in (out / "report.html").read_text()
