"""The shape of the realtime server's code: no import cycle, no oversized module.

Every module under ``src/opbx/realtime`` and ``src/opbx/adapters`` is parsed (not
imported), so imports under ``if TYPE_CHECKING:`` and inside functions count too: a
cycle that only the type checker follows is still two modules that cannot be read or
changed apart. An import edge goes to the module named (``from opbx.adapters.base
import X`` reaches ``opbx.adapters.base``; ``from opbx.adapters import base`` too, as
``base`` is a module), not to the packages it lives in.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGES = ("opbx.realtime", "opbx.adapters")
MAX_LINES = 350


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((SRC / package.replace(".", "/")).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The modules among ``known`` that module ``name`` (at ``path``) imports, anywhere in it."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:  # `from package import module` reaches the module
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else base)
    return {target for target in targets if target in known and target != name}


def import_graph(packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    found = modules(packages)
    return {name: imported(name, path, found) for name, path in found.items()}


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                cycle = visit(target)
                if cycle is not None:
                    return cycle
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle is not None:
                return cycle
    return None


def test_no_import_cycle_among_the_realtime_and_adapter_modules() -> None:
    graph = import_graph()
    assert "opbx.realtime.server" in graph
    assert "opbx.adapters.base" in graph["opbx.adapters.local"]  # the graph does see imports
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_type_checking_imports_count(tmp_path: Path) -> None:
    """An import only the type checker sees is an edge like any other."""
    module = tmp_path / "b.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from opbx.realtime.a import A\n")
    assert imported("opbx.realtime.b", module, ["opbx.realtime.a", "opbx.realtime.b"]) == {"opbx.realtime.a"}


def test_relative_and_module_imports_resolve(tmp_path: Path) -> None:
    module = tmp_path / "c.py"
    module.write_text("from . import a\nfrom .sub import d\nimport opbx.realtime.e\nfrom opbx.adapters import f\n")
    known = ["opbx.realtime", "opbx.realtime.a", "opbx.realtime.sub.d", "opbx.realtime.e", "opbx.adapters"]
    # `f` is no module: it is a name defined by the package opbx.adapters
    assert imported("opbx.realtime.c", module, known) == {
        "opbx.realtime.a",
        "opbx.realtime.sub.d",
        "opbx.realtime.e",
        "opbx.adapters",
    }


def test_the_cycle_finder_finds_cycles_and_only_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None  # a diamond is no cycle
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y"}}) == ["y", "y"]


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_350_lines(name: str) -> None:
    lines = len(modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept"
