"""The package's layers: libraries below, applications on top, peers apart, no cycles.

- Libraries (``cams``, ``metrics``, ``io``, ``data``, ``viz`` and the modules ``errors``,
  ``atomic``, ``checkpoint``, ``models``) import no application and nothing of
  ``training``.
- ``pacs`` (DICOM outputs and DICOMweb) serves the report and imports no application.
- The applications ``report``, ``evaluate`` and ``audit`` are peers: none imports another.
- ``training`` imports medxai's libraries only.
- No module imports itself back through others, lazy imports inside functions included.

The import graph is read from the source (``ast``): every ``import`` and ``from … import``
anywhere in a module, with ``from package import module`` counted as an import of the
module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("cams", "metrics", "io", "data", "viz", "errors", "atomic", "checkpoint", "models")
PEERS = ("report", "evaluate", "audit")
APPLICATIONS = (*PEERS, "commands", "cli", "pacs")


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("medxai", "training"):
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module of ours that ``import name`` loads (a package for a package name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*kept, base] if base else kept)
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            owner = _owner(name)
            if owner is not None and owner != module:
                yield owner


GRAPH = {module: sorted(set(_imports(module))) for module in MODULES}


def _part(module: str) -> str:
    """``medxai.cams.polycam`` → ``cams``; ``training.demo`` → ``training``."""
    parts = module.split(".")
    if parts[0] == "training":
        return "training"
    return parts[1] if len(parts) > 1 else "medxai"


def _offences(sources: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _part(module) in sources
        and _part(target) in forbidden
        and _part(target) != _part(module)
    ]


def test_the_graph_is_read() -> None:
    # the reader sees lazy and relative imports and both top-level packages
    assert "medxai.metrics.geometry" in GRAPH["medxai.metrics.localisation"]
    assert "medxai.errors" in GRAPH["medxai.io.files"]
    assert any(t.startswith("medxai.") for t in GRAPH["training.demo"])
    assert _offences(("audit",), ("metrics",))  # the rule finds what is there


def test_libraries_import_no_application_and_no_training() -> None:
    assert _offences(LIBRARIES, (*APPLICATIONS, "training")) == []


def test_pacs_imports_no_application() -> None:
    assert _offences(("pacs",), tuple(a for a in APPLICATIONS if a != "pacs")) == []


@pytest.mark.parametrize("peer", PEERS)
def test_report_evaluate_and_audit_are_peers(peer: str) -> None:
    assert _offences((peer,), tuple(p for p in PEERS if p != peer)) == []


def test_training_imports_only_libraries() -> None:
    assert _offences(("training",), APPLICATIONS) == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components of the module graph: all of size one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert cycles == []
