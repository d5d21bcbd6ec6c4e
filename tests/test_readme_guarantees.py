"""The README's "Guarantees" table names the tests that prove each promise: they must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `tests/x.py::test_name`, `tests/x.py` or `tests/dir/`, and `::test_name` for the last file.
REFERENCE = re.compile(r"`(tests/[\w/]+(?:\.py)?)?(?:::(\w+))?`")


def guarantees() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Guarantees")
    return readme[start : readme.index("\n## ", start + 1)]


def references() -> list[tuple[str, str | None]]:
    found, current = [], None
    for line in guarantees().splitlines():
        for path, name in REFERENCE.findall(line):
            current = path or current
            if path or name:
                found.append((current, name or None))
    return found


def test_every_test_the_guarantees_name_exists():
    missing = []
    for path, name in references():
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", target.read_text(), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert len(references()) > 30
    assert not missing, missing


def test_code_cites_guarantees_by_their_promise_not_by_a_bare_tag():
    """The guarantees are the README's table rows; tags like "G3" are defined nowhere."""
    tag = re.compile(r"\(G\d(?:, G\d)*\)")
    citing = {
        str(path.relative_to(ROOT))
        for folder in ("authtokens", "tests", "benchmarks", "project")
        for path in (ROOT / folder).rglob("*.py")
        if tag.search(path.read_text())
    }
    assert not citing, citing
