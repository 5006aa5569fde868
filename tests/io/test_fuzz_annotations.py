"""Fuzzing the annotation readers: mutated native JSON and CVAT XML files.

Each mutated file goes through everything the report and evaluation do with an annotation
file: :func:`load_annotations`, :func:`validate_annotations` against the study's images,
and :func:`annotation_mask` of every image (evaluation rasterises without validating).
Every outcome must be loaded shapes or a one-line :class:`MedxaiError` naming the file:
no other exception, no hang (a watchdog stops a case after ``WATCHDOG_S``), and masks of
the image's shape. Seeded: a failure names the seed file, the mutation and the iteration,
and reproduces. ``--fuzz-iterations N`` sets the mutated files per seed file and mutator.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from guards import Hang, time_limit

from medxai.errors import MedxaiError
from medxai.io.annotations import (
    Annotations,
    annotation_mask,
    load_annotations,
    validate_annotations,
)

#: Seconds one mutated file may take, end to end, before the case counts as a hang.
WATCHDOG_S = 30

SIZES = {"image1.png": (40, 52), "image2.png": (30, 20)}

NATIVE = json.dumps(
    {
        "images": {
            "image1.png": [
                {"shape": "ellipse", "cx": 21, "cy": 14, "rx": 6, "ry": 3, "angle": 15,
                 "label": "cortical irregularity"},
                {"shape": "polygon", "points": [[1, 1], [20, 2], [10, 30]], "label": "fragment"},
                {"shape": "box", "x0": 5, "y0": 5, "x1": 30, "y1": 35, "label": "fracture"},
            ],
            "image2.png": [{"shape": "box", "x0": 1, "y0": 1, "x1": 4.5, "y1": 9}],
        }
    },
    indent=1,
)  # fmt: skip

CVAT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <image id="0" name="task/image1.png" width="52" height="40">
    <tag label="abnormal"/>
    <ellipse label="cortical irregularity" cx="21" cy="14" rx="6" ry="3" rotation="345"/>
    <polygon label="fragment" points="1,1;20,2;10,30"/>
    <box label="fracture" xtl="5" ytl="5" xbr="30" ybr="35" rotation="10"/>
  </image>
  <image id="1" name="image2.png" width="20" height="30">
    <box label="x" xtl="1" ytl="1" xbr="4.5" ybr="9"/>
  </image>
</annotations>
"""

#: Fragments a hostile or unlucky file may hold, spliced in at random places.
TOKENS = [
    b"$", b"$\\sqrt{2$", b"&", b"&e;", b"&#0;", b"&#x110000;", b"<", b">", b"</image>",
    b'<!DOCTYPE a [<!ENTITY e "x">]>', b'<!ENTITY e SYSTEM "file:///etc/passwd">', b"]]>",
    b"<![CDATA[", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\xed\xa0\x80",
    b'"', b"\\", b"\\ud800", b"{", b"}", b"[", b"]", b",", b":", b"NaN", b"Infinity",
    b"-Infinity", b"1e999", b"-0", b"1e-320", b"9" * 400, b"9" * 5000, b"null", b"true",
    b"[" * 3000, b'"shape"', b'"polygon"', b'"points"', b"[[1,2],[3,4]]", b"-1",
    b'points="1,1;2,2"', b' rotation="nan"', b' width="-5"', b' height="1e308"',
    b' cx="inf"', b'<polyline points="1,1;2,2"/>', b"<image>", b'<image name="">',
]  # fmt: skip

#: Values a structure mutation puts in place of a JSON value.
VALUES: list[Any] = [
    None, True, False, 0, -1, 0.5, 1e308, -1e308, 10**400, 2**63, "", "$x^2$", "a" * 5000,
    [], {}, [1], [[1, 2]], [[1, 2]] * 3, [[0, 0], [52, 0], [52, 40], [0, 40]],
    {"shape": "box"}, {"shape": "ellipse", "cx": 1, "cy": 1, "rx": 1e-9, "ry": 1e9},
    [[[[[]]]]], "ellipse", "polygon", "box", 1e-300, -0.0,
]  # fmt: skip


# --- mutators: (random, seed bytes) -> mutated bytes ----------------------------------------


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def splice_tokens(rng: random.Random, data: bytes) -> bytes:
    out = data
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out) + 1)
        out = out[:at] + rng.choice(TOKENS) + out[at:]
    return out


def cut_and_copy(rng: random.Random, data: bytes) -> bytes:
    """Delete, duplicate or truncate a range (shapes repeated, files cut short)."""
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.randint(1, 120))
    choice = rng.randrange(3)
    if choice == 0:
        return data[:a] + data[b:]
    if choice == 1:
        return data[:b] + data[a:b] * rng.randint(2, 50) + data[b:]
    return data[:a]


def reencode(rng: random.Random, data: bytes) -> bytes:
    """The same text in another encoding (with or without a byte-order mark)."""
    encoding = rng.choice(["utf-16-le", "utf-16-be", "utf-16", "utf-32", "latin-1"])
    text = data.decode("utf-8")
    if rng.random() < 0.5:
        text = text.replace("<annotations>", '<!DOCTYPE a [<!ENTITY e "x">]><annotations>')
    return text.encode(encoding, errors="replace")


def _paths(node: Any, here: tuple = ()) -> list[tuple]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            found += _paths(value, (*here, k))
    return found


def mutate_structure(rng: random.Random, data: bytes) -> bytes:
    """Native JSON only: replace, delete or multiply a value somewhere in the document."""
    document = json.loads(data)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(document)[1:]
        if not paths:  # everything deleted already
            break
        path = rng.choice(paths)
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        choice = rng.randrange(4)
        if choice == 0:
            parent[key] = copy.deepcopy(rng.choice(VALUES))
        elif choice == 1 and isinstance(parent, dict):
            del parent[key]
        elif choice == 2 and isinstance(parent[key], list):
            parent[key] = parent[key] * rng.randint(2, 200)
        elif isinstance(parent, dict):
            name = rng.choice(["label", "angle", "$", "images", "shape", "x"])
            parent[name] = copy.deepcopy(rng.choice(VALUES))
    try:
        return json.dumps(document).encode()
    except ValueError:  # e.g. an integer too long to write: keep the seed for this one
        return data


def mutate_attributes(rng: random.Random, data: bytes) -> bytes:
    """CVAT XML only: give a random attribute a hostile value."""
    text = data.decode()
    spans = [i for i in range(len(text)) if text.startswith('="', i)]
    for _ in range(rng.randint(1, 3)):
        at = rng.choice(spans) + 2
        end = text.index('"', at)
        value = rng.choice(
            ["", "nan", "inf", "-1e308", "1e308", "0", "-0", "1,2", "1;2", "a", "9" * 400,
             "1,1;2,2;3", "0,0;52,0;52,40;0,40", "$x$", "&amp;", "&lt;&gt;", "1e-320"]
        )  # fmt: skip
        text = text[:at] + value + text[end:]
        spans = [i for i in range(len(text)) if text.startswith('="', i)]
    return text.encode()


Mutator = Callable[[random.Random, bytes], bytes]
BYTE_MUTATORS: list[Mutator] = [flip_bytes, splice_tokens, cut_and_copy, reencode]
CASES = [
    ("native", NATIVE, [*BYTE_MUTATORS, mutate_structure]),
    ("cvat", CVAT, [*BYTE_MUTATORS, mutate_attributes]),
]


def run_case(path: Path) -> str:
    """Load, validate and rasterise ``path``: ``"loaded"``, ``"refused"`` or ``"invalid"``."""
    try:
        annotations = load_annotations(path)
    except MedxaiError as error:
        _check_error(error, path)
        return "refused"
    assert isinstance(annotations, Annotations)
    for name, shapes in annotations.items():  # what evaluation does, without validation
        height, width = SIZES.get(name, (16, 24))
        mask = annotation_mask(shapes, height, width)
        assert mask.shape == (height, width) and mask.dtype == bool
    try:
        validate_annotations(annotations, SIZES, path)
    except MedxaiError as error:
        _check_error(error, path)
        return "invalid"
    return "loaded"


def _check_error(error: MedxaiError, path: Path) -> None:
    message = str(error)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message and len(message) < 400, message[:400]


@pytest.mark.parametrize(("kind", "seed_text", "mutators"), CASES, ids=[c[0] for c in CASES])
def test_mutated_annotation_files(
    kind: str, seed_text: str, mutators: list[Mutator], tmp_path: Path, fuzz_iterations: int
) -> None:
    seed = seed_text.encode()
    suffix = ".json" if kind == "native" else ".xml"
    path = tmp_path / f"annotations{suffix}"
    path.write_bytes(seed)
    assert run_case(path) == "loaded"  # the seed itself is a valid file
    outcomes: dict[str, int] = {}
    for mutator in mutators:
        rng = random.Random(f"{kind}/{mutator.__name__}")
        for iteration in range(fuzz_iterations):
            data = mutator(rng, seed)
            path.write_bytes(data)
            where = f"{kind} seed, {mutator.__name__}, iteration {iteration}: {data[:200]!r}"
            try:
                with time_limit(WATCHDOG_S, "the mutated file"):
                    outcome = run_case(path)
            except Hang as hang:
                pytest.fail(f"{where}: {hang}")
            except AssertionError as failure:
                raise AssertionError(f"{where}: {failure}") from None
            except Exception as error:  # the very thing this test looks for
                pytest.fail(f"{where}: {type(error).__name__}: {error}"[:2000])
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # The mutations reach every stage: some files still load, others are refused.
    assert outcomes.get("refused", 0) > 0
    assert outcomes.get("loaded", 0) + outcomes.get("invalid", 0) > 0


def test_valid_mutations_give_the_same_mask_in_both_formats(tmp_path: Path) -> None:
    """The seeds describe the same shapes, so their masks agree (the rotated CVAT box
    aside, which is drawn as a polygon)."""
    native = load_annotations(_write(tmp_path / "a.json", NATIVE))
    cvat = load_annotations(_write(tmp_path / "a.xml", CVAT))
    h, w = SIZES["image1.png"]
    np.testing.assert_array_equal(
        annotation_mask(native["image1.png"][:2], h, w),
        annotation_mask(cvat["image1.png"][:2], h, w),
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
