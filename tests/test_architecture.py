"""ARCHITECTURE.md's path of one request names functions that exist, in the files it says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"`(authtokens/[\w/]+\.py)::([\w.]+)`")


def defined_names(path: Path) -> set[str]:
    """Module-level functions and classes, and ``Class.method``, of one file."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return names


def test_the_path_of_one_request_matches_the_code():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    section = text[text.index("## The path of one request") : text.index("## Where each kind")]
    named = NAME.findall(section)
    assert len(named) >= 12
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).exists() or name not in defined_names(ROOT / path)
    ]
    assert not missing, missing
