"""One contract for saliency-method options: the Explainer protocol, the common options,
and the one place (medxai.cams.presets) that turns a mode into a method's options."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest
import torch
from nets import TinyNet

import medxai.cams
from medxai.cams import presets
from medxai.cams.explainer import COMMON_OPTIONS, FAST_OPTIONS, Explainer
from medxai.cams.polycam import PolyCAM
from medxai.cams.presets import DEFAULT_CHANNEL_BUDGET, Mode, method_options
from medxai.cams.registry import accepted_options

SIZE = 32
#: A value of each common option that every method taking it accepts.
VALUES = {
    "input_size": (SIZE, SIZE),
    "batch_size": 8,
    "autocast": "bf16",
    "seed": 3,
    "channel_budget": 2,
    "tolerance": 0.1,
}


@pytest.mark.parametrize("name", medxai.cams.available())
def test_every_method_takes_its_common_options_and_rejects_unknown_ones(name: str) -> None:
    model = TinyNet(3)
    accepted = accepted_options(name)
    assert accepted <= set(COMMON_OPTIONS) | set(FAST_OPTIONS)
    explainer = medxai.cams.create(name, model, **{k: VALUES[k] for k in accepted})
    assert isinstance(explainer, Explainer)
    assert explainer.method == name
    with pytest.raises(TypeError):
        medxai.cams.create(name, model, no_such_option=1)
    for option in set(COMMON_OPTIONS) - accepted:
        with pytest.raises(TypeError):
            medxai.cams.create(name, model, **{option: VALUES[option]})


def test_the_mode_decides_exact_or_fast_by_device() -> None:
    assert Mode().is_fast("cpu") and not Mode().is_fast("cuda")
    assert not Mode("exact").is_fast("cpu") and Mode("fast").is_fast("cuda:1")
    cpu = method_options("pcam±", mode=Mode(), device="cpu", input_size=SIZE, batch_size=4)
    assert cpu == {
        "input_size": (SIZE, SIZE),
        "batch_size": 4,
        "channel_budget": DEFAULT_CHANNEL_BUDGET,
    }
    gpu = method_options("pcam+", mode=Mode(channel_budget=4), device="cuda", input_size=SIZE)
    assert gpu == {"input_size": (SIZE, SIZE)}
    fast = method_options("pcam-", mode=Mode("fast", 4, 0.2), device="cuda")
    assert fast == {"channel_budget": 4, "tolerance": 0.2}
    # methods without a fast mode get only the common options they take
    assert method_options("cam", mode=Mode("fast", 4), device="cpu", seed=1, batch_size=2) == {}
    assert method_options("rise", mode=Mode(), device="cpu", input_size=SIZE, seed=5) == {
        "seed": 5
    }
    assert method_options("pcam±", mode=Mode(autocast="bf16"), device="cuda")["autocast"] == "bf16"
    spec = presets.method_spec("pcampm", "PCAM±", mode=Mode(), device="cpu", input_size=SIZE)
    assert (spec.key, spec.mode) == ("pcam±", "fast")
    with pytest.raises(ValueError, match="unknown saliency method"):
        method_options("no-such-method", mode=Mode(), device="cpu")


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"kind": "quick"}, "mode must be"),
        ({"channel_budget": 0}, "at least 1"),
        ({"tolerance": 1.5}, r"\[0, 1\]"),
        ({"autocast": "fp8"}, "autocast"),
    ],
)
def test_a_bad_mode_is_refused(kwargs: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Mode(**kwargs)


def test_the_channel_budget_default_is_defined_once() -> None:
    from medxai.audit.methods import explainer_options
    from medxai.commands import report as report_command
    from medxai.evaluate.options import EvaluationOptions
    from medxai.report.options import ReportOptions

    resolved = [
        ReportOptions(study="s", checkpoint="c").mode().fast_options()["channel_budget"],
        EvaluationOptions(root="r", checkpoint="c", out="o").mode().fast_options()[
            "channel_budget"
        ],
        explainer_options("pcam±", SIZE)["channel_budget"],
    ]
    assert resolved == [DEFAULT_CHANNEL_BUDGET] * 3
    parser = argparse.ArgumentParser()
    report_command.register(parser.add_subparsers())
    assert parser.parse_args(["report", "study", "--checkpoint", "c"]).channel_budget is None
    # no module but presets spells the number as a channel-budget default
    root = Path(medxai.cams.__file__).parents[1]
    for path in root.rglob("*.py"):
        if path.name == "presets.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            defaults: list[tuple[str, ast.expr | None]] = []
            if isinstance(node, ast.AnnAssign):
                defaults.append((getattr(node.target, "id", ""), node.value))
            elif isinstance(node, ast.arguments):
                args = node.posonlyargs + node.args
                defaults += zip([a.arg for a in args[len(args) - len(node.defaults) :]],
                                node.defaults)
                defaults += zip([a.arg for a in node.kwonlyargs], node.kw_defaults)
            for name, value in defaults:
                if name == "channel_budget" and isinstance(value, ast.Constant):
                    assert value.value is None, path


def test_hooks_are_registered_only_in_hooks_py() -> None:
    root = Path(medxai.cams.__file__).parent
    users = sorted(p.name for p in root.glob("*.py") if "register_forward_hook" in p.read_text())
    assert users == ["hooks.py"]


def test_channels_last_copy_is_made_once_and_remade_when_the_weights_change(
    monkeypatch,
) -> None:
    import copy

    copies = []
    real_deepcopy = copy.deepcopy

    def counting_deepcopy(obj, *args):
        if isinstance(obj, torch.nn.Module):
            copies.append(obj)
        return real_deepcopy(obj, *args)

    monkeypatch.setattr(copy, "deepcopy", counting_deepcopy)
    model = TinyNet(3)
    explainer = PolyCAM(model, target_layers=TinyNet.LAYERS, channels_last=True)
    x = torch.randn(1, 3, SIZE, SIZE)
    first = explainer(x, targets=1).saliency
    assert torch.equal(explainer(x, targets=1).saliency, first)
    assert len(copies) == 1
    with torch.no_grad():
        model.fc.weight.mul_(-1.0)  # in place: the copy must follow
    flipped = explainer(x, targets=1).saliency
    assert len(copies) == 2
    fresh = PolyCAM(model, target_layers=TinyNet.LAYERS, channels_last=True)(x, targets=1)
    assert torch.equal(flipped, fresh.saliency)
