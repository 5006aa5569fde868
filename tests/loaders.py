"""Loading a helper module of another test folder by its path under ``tests/``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).parent


def load_test_module(relative: str, name: str) -> ModuleType:
    """``tests/<relative>`` executed as a fresh module called ``name``."""
    spec = importlib.util.spec_from_file_location(name, TESTS / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
