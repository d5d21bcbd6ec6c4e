"""The app stays easy to carry on: no module over 250 lines, no function over 40, no import cycle.

Read from the source with ``ast``, nothing is imported. Every module under ``authtokens/``
counts except its migrations (generated). A function's size runs from its ``def`` line to the
end of its body, docstring included, decorators not; a method is named ``Class.method`` and a
nested function ``outer.inner``, and each is measured on its own.

An import cycle is one among ``authtokens`` modules through imports that run when a module is
first imported: any import outside a function body (class bodies and ``if TYPE_CHECKING:``
blocks included: they are dependencies too). An import inside a function does not count.
``from . import x`` names module ``x`` when ``x`` is a module, else the package.

Script mode, for re-running after a merge: ``python -m tests.test_codebase`` prints every
offender and cycle, then what the test refuses; exit status 1 when the test would fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "authtokens"
MAX_MODULE_LINES = 250
MAX_FUNCTION_LINES = 40

# The offenders of the day this test was written, each with its size then: other work on
# issue 17 is splitting these files right now, on branches of their own. This dict must only
# shrink: an entry no longer over must be removed (the test says so, so the list cannot go
# stale), a listed one may not grow, and nothing is ever added: a new offender is split.
STILL_OVER: dict[str, int] = {}


def module_paths() -> list[Path]:
    """Every module of the app, migrations excepted, relative to the repository root."""
    return sorted(
        path.relative_to(ROOT)
        for path in (ROOT / PACKAGE).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def parse(path: Path) -> ast.Module:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=str(path))


def module_name(path: Path) -> str:
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, lines from ``def`` to the end of the body) of every function in ``node``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            assert child.end_lineno is not None
            yield prefix + child.name, child.end_lineno - child.lineno + 1
            yield from functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from functions(child, f"{prefix}{child.name}.")
        else:
            yield from functions(child, prefix)


def sizes() -> dict[str, int]:
    """``path`` -> lines of every module, ``path::function`` -> lines of every function."""
    found: dict[str, int] = {}
    for path in module_paths():
        text = (ROOT / path).read_text(encoding="utf-8")
        found[path.as_posix()] = len(text.splitlines())
        for name, lines in functions(parse(path)):
            found[f"{path.as_posix()}::{name}"] = lines
    return found


def limit(key: str) -> int:
    return MAX_FUNCTION_LINES if "::" in key else MAX_MODULE_LINES


def offenders(measured: dict[str, int]) -> dict[str, int]:
    return {key: size for key, size in measured.items() if size > limit(key)}


def import_time_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``node`` that run on import: none inside a function body."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from import_time_imports(child)


def imported_modules(name: str, is_package: bool, tree: ast.Module, known: set[str]) -> set[str]:
    """The app's modules that module ``name`` imports when it is first imported."""
    found = set()
    for statement in import_time_imports(tree):
        if isinstance(statement, ast.Import):
            found |= {alias.name for alias in statement.names}
            continue
        base = statement.module or ""
        if statement.level:  # relative: from the package, or from one of its parents
            package = name.split(".") if is_package else name.split(".")[:-1]
            anchor = package[: len(package) - statement.level + 1]
            base = ".".join(anchor + ([base] if base else []))
        for alias in statement.names:
            submodule = f"{base}.{alias.name}"
            found.add(submodule if submodule in known else base)
    return found & known - {name}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in module_paths()}
    known = set(paths)
    return {
        name: imported_modules(name, path.name == "__init__.py", parse(path), known)
        for name, path in paths.items()
    }


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another (Tarjan's strongly connected components),
    as one cycle through them, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycle_through(graph, group) for group in groups)


def cycle_through(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """One cycle from the group's first module back to itself, staying inside the group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest cycle is the easiest to read
        node = frontier.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return paths[node] + [start]
            if target not in paths:
                paths[target] = paths[node] + [target]
                frontier.append(target)
    raise AssertionError(f"no cycle through {group}")  # a component of 2+ always has one


def describe(key: str, size: int) -> str:
    unit = "function" if "::" in key else "module"
    return f"{key}: {size} lines ({unit} limit {limit(key)})"


def problems(measured: dict[str, int]) -> list[str]:
    """What the test refuses, given ``STILL_OVER``: a new offender, a listed one that is no
    longer over (or no longer exists), a listed one that grew."""
    found = offenders(measured)
    new = [
        f"{describe(key, size)}: split it (STILL_OVER only shrinks)"
        for key, size in found.items()
        if key not in STILL_OVER
    ]
    gone = [
        f"{key}: no longer over ({measured.get(key, 'gone')}); remove it from STILL_OVER"
        for key in STILL_OVER
        if key not in found
    ]
    grown = [
        f"{describe(key, found[key])}, listed at {STILL_OVER[key]} in STILL_OVER: it grew"
        for key in STILL_OVER
        if found.get(key, 0) > STILL_OVER[key]
    ]
    return new + gone + grown


def test_no_module_over_250_lines_and_no_function_over_40() -> None:
    refused = problems(sizes())
    assert not refused, "\n".join(["", *refused])


def test_no_import_cycle() -> None:
    cycles = import_cycles(import_graph())
    assert not cycles, "\n".join(["", *(" -> ".join(cycle) for cycle in cycles)])


SAMPLE = """
from __future__ import annotations
from typing import TYPE_CHECKING
from . import conf, VALUE
from .store import base
from ..outside import thing
import authtokens.keys
if TYPE_CHECKING:
    from .models import Device
class Config:
    from .clients import parse
def late():
    from .views import something
"""


def test_the_rules_see_what_they_measure() -> None:
    """The walks find methods, nested functions and every kind of import, or they would pass
    whatever the code looks like."""
    measured = sizes()
    assert measured["authtokens/apps.py::AuthTokensConfig.ready"] > 10
    assert "authtokens/store/redis.py" in measured and len(module_paths()) > 30
    assert not any("migrations" in key for key in measured)
    nested = dict(functions(ast.parse("def outer():\n    def inner():\n        pass\n")))
    assert nested == {"outer": 3, "outer.inner": 2}
    known = {f"authtokens.{name}" for name in ("conf", "store", "store.base", "keys", "models")}
    known |= {"authtokens.clients", "authtokens.views", "authtokens.tokens", "authtokens"}
    imported = imported_modules("authtokens.tokens", False, ast.parse(SAMPLE), known)
    assert imported == {
        "authtokens",  # VALUE is not a module: the package is what gets imported
        "authtokens.conf",
        "authtokens.store.base",
        "authtokens.keys",
        "authtokens.models",
        "authtokens.clients",
    }
    graph = {"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert import_cycles(graph) == [["a", "b", "a"], ["d", "e", "d"]]


def main() -> int:
    """Print every offender, listed or not, every cycle, and what the test refuses; exit 1 if
    the test would fail."""
    measured = sizes()
    found = offenders(measured)
    for key, size in sorted(found.items()):
        listed = f"  (in STILL_OVER at {STILL_OVER[key]})" if key in STILL_OVER else ""
        print(describe(key, size) + listed)
    cycles = import_cycles(import_graph())
    for cycle in cycles:
        print("import cycle: " + " -> ".join(cycle))
    refused = problems(measured)
    for problem in refused:
        print("refused: " + problem)
    print(f"{len(found)} over the limits, {len(cycles)} import cycles, {len(refused)} refused")
    return 1 if refused or cycles else 0


if __name__ == "__main__":
    sys.exit(main())
