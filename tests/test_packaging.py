"""Release hygiene, read from the repository: what the wheel declares and ships, the license,
the changelog, and which extra brings the benchmark tools. ``tests/packaging/`` builds the
wheel and the sdist and installs the wheel into fresh projects."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
BENCH_TOOLS = {"djangorestframework-simplejwt", "django-rest-knox", "matplotlib", "pyinstrument"}


def extra_closure(extra: str) -> set[str]:
    """The distributions an extra brings, following ``authtokens[...]`` references."""
    names: set[str] = set()
    for line in PROJECT["optional-dependencies"][extra]:
        requirement = Requirement(line)
        if requirement.name == "authtokens":
            for inner in requirement.extras:
                names |= extra_closure(inner)
        else:
            names.add(requirement.name.lower())
    return names


def test_every_template_and_static_file_is_package_data():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["authtokens"]
    app = ROOT / "authtokens"
    files = [
        path.relative_to(app).as_posix()
        for folder in ("templates", "static")
        for path in (app / folder).rglob("*")
        if path.is_file()
    ]
    assert "templates/authtokens/base.html" in files and "static/authtokens/site.css" in files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
    manifest = (ROOT / "MANIFEST.in").read_text()
    assert "recursive-include authtokens/templates" in manifest
    assert "recursive-include authtokens/static" in manifest


def test_the_license_is_bsd_3_clause_and_shipped():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, The authtokens authors" in text
    assert "Neither the name of the copyright holder" in text
    assert PROJECT["license"] == "BSD-3-Clause" and PROJECT["license-files"] == ["LICENSE"]


def test_classifiers_say_what_the_package_is():
    classifiers = PROJECT["classifiers"]
    django = re.match(r"Django>=(\d+\.\d+)", PROJECT["dependencies"][0]).group(1)
    assert f"Framework :: Django :: {django}" in classifiers
    python = PROJECT["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {python}" in classifiers
    assert "Typing :: Typed" in classifiers and "Development Status :: 4 - Beta" in classifiers
    # PEP 639: the SPDX expression says the license; a license classifier would contradict it.
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_the_changelog_describes_the_coming_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    version = PROJECT["version"]
    assert version.startswith("0.2.0")
    section = changelog.split("## 0.2.0 (unreleased)", 1)[1].split("\n## ", 1)[0]
    for change in (
        "THROTTLE_RATES",
        "FAILURE_LIMITS",
        "{authtokens}:v2:",
        "Refresh-token family rules",
        "authtokens_reconcile",
        "### Packaging",
    ):
        assert change in section, change


def test_the_dev_extra_leaves_the_benchmark_tools_out():
    assert BENCH_TOOLS <= extra_closure("bench")
    # simplejwt is also what tests/simplejwt_migration migrates from: the suite needs it.
    assert BENCH_TOOLS & extra_closure("dev") == {"djangorestframework-simplejwt"}
    assert '".[dev,bench]"' in (ROOT / "benchmarks" / "run.sh").read_text()  # make bench


def test_the_benchmark_smoke_test_skips_cleanly_without_the_bench_tools(monkeypatch):
    import importlib.util

    from tests import test_benchmark_harness

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "knox" else real(name, *args),
    )
    monkeypatch.setattr(test_benchmark_harness.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("CI", raising=False)
    assert "knox is not installed" in test_benchmark_harness._missing()
    with pytest.raises(pytest.skip.Exception):
        test_benchmark_harness.test_quick_run_writes_results(Path("/nonexistent"))


def test_the_readme_quotes_the_install_snippets_verbatim():
    """docs/install/ holds the README's installation blocks; tests/packaging/ applies them to
    fresh projects, so the README cannot say one thing while the check does another."""
    readme = (ROOT / "README.md").read_text()
    snippets = sorted((ROOT / "docs" / "install").glob("*.py"))
    assert {path.name for path in snippets} >= {"settings.py", "urls.py", "admin.py"}
    for path in snippets:
        assert f"```python\n{path.read_text()}```" in readme, path.name
    settings = (ROOT / "docs" / "install" / "settings.py").read_text()
    assert settings.startswith("import os\n")  # the snippet reads os.environ
