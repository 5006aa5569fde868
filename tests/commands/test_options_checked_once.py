"""Settings are parsed by argparse and checked once, by the options objects, for the
command line and Python callers alike: one error type naming the flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from medxai.cli import main
from medxai.errors import MedxaiError, OptionError
from medxai.evaluate.options import EvaluationOptions, parse_devices
from medxai.report.options import ReportOptions


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--channel-budget", "0"], "--channel-budget must be at least 1, got 0"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--regions", "-1"], "--regions must be 0 or more"),
    ],
)
def test_report_flags_are_checked_by_the_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main(["report", str(tmp_path), "--checkpoint", str(tmp_path / "m.ckpt"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"medxai report: error: {message}"
    assert not any(tmp_path.iterdir())  # refused before anything was read or written


@pytest.mark.parametrize(
    ("settings", "flag"),
    [
        ({"channel_budget": 0}, "--channel-budget"),
        ({"batch_size": 0}, "--batch-size"),
        ({"top_regions": -2}, "--regions"),
        ({"device": "tpu"}, "--device"),
        ({"target": "fracture"}, "--target"),
    ],
)
def test_report_options_raise_one_error_type(settings: dict, flag: str) -> None:
    with pytest.raises(OptionError, match=flag) as caught:
        ReportOptions(study="s", checkpoint="c", **settings)
    assert isinstance(caught.value, MedxaiError) and isinstance(caught.value, ValueError)


def test_evaluate_options_parse_the_lists_and_devices_once(tmp_path: Path) -> None:
    checkpoint = tmp_path / "m.ckpt"
    checkpoint.write_bytes(b"")
    options = EvaluationOptions(
        root=tmp_path,
        checkpoint=checkpoint,
        out=tmp_path / "out",
        methods="CAM, pcam±,cam",
        metrics="insertion,localization",
        body_parts="XR_WRIST, elbow",
        devices="0,1",
    ).validate()
    assert options.methods == ["cam", "pcam±"]
    assert options.metrics == ["insertion", "localisation"]
    assert options.body_parts == ["XR_WRIST", "elbow"]
    assert options.devices == [0, 1]
    assert options.validate().devices == [0, 1]  # a parsed value stays as it is
    assert options.describe()["devices"] == [0, 1]


def test_devices_are_parsed_as_lightning_takes_them() -> None:
    assert parse_devices("auto") == "auto"
    assert parse_devices(" 2 ") == 2 and parse_devices("-1") == -1
    assert parse_devices("0,1,") == [0, 1] and parse_devices([1, 0]) == [1, 0]
    assert parse_devices(3) == 3
    for bad in ("two", "0,x", ""):
        with pytest.raises(OptionError, match="--devices must be auto, a count or a list"):
            parse_devices(bad)


def test_a_bad_device_list_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "m.ckpt"
    checkpoint.write_bytes(b"")
    code = main(["evaluate", str(tmp_path), "--checkpoint", str(checkpoint), "--devices", "0,x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--devices must be" in err
