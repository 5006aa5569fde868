"""``medxai evaluate`` command line: help, and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from medxai.cli import main


def _errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


def test_help_lists_the_contract_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--checkpoint", "--split", "--methods", "--metrics", "--limit", "--out", "--devices",
        "--num-nodes", "--strategy", "--accelerator", "--steps", "--channel-budget", "--force",
    ):  # fmt: skip
        assert flag in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--methods", "cam,nope"], "unknown method 'nope'; valid methods: "),
        (["--metrics", "insertion,auc"], "unknown metric 'auc'; valid metrics: insertion"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--steps", "-2"], "--steps must be at least 1"),
        (["--devices", "two"], "--devices must be auto, a count or a list like 0,1"),
    ],
)
def test_bad_names_and_values_fail_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"not read before the names are checked")
    code, err = _errors(
        capsys, ["evaluate", str(tmp_path), "--checkpoint", str(checkpoint), *extra]
    )
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


def test_missing_inputs_fail_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _errors(capsys, ["evaluate", str(tmp_path / "none"), "--checkpoint", "x.ckpt"])
    assert code == 2 and err.endswith("none: dataset folder not found")
    code, err = _errors(capsys, ["evaluate", str(tmp_path), "--checkpoint", str(tmp_path / "c")])
    assert code == 2 and err.endswith("c: checkpoint file not found")


def test_an_unreadable_checkpoint_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "model.ckpt"
    checkpoint.write_bytes(b"garbage")
    code, err = _errors(capsys, ["evaluate", str(tmp_path), "--checkpoint", str(checkpoint)])
    assert code == 2 and len(err.splitlines()) == 1 and "model.ckpt" in err
