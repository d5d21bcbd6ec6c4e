"""axe-core, from the npm registry, for accessibility scans in Chromium.

The tarball is pinned by version and by the registry's own SHA-512 integrity hash, and cached
under ~/.cache (or AUTHTOKENS_TEST_CACHE). An unreachable registry fails the test in CI, and
skips it elsewhere (offline development).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = (
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
# What a person cannot get past: the two levels the "done when" names.
BLOCKING = {"serious", "critical"}


def _cache() -> Path:
    root = os.environ.get("AUTHTOKENS_TEST_CACHE") or Path.home() / ".cache" / "authtokens-tests"
    return Path(root) / f"axe-core-{VERSION}.min.js"


def _download() -> bytes:
    with urllib.request.urlopen(TARBALL, timeout=30) as response:  # noqa: S310  a fixed https URL
        tarball = response.read()
    digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != INTEGRITY:
        raise AssertionError(f"axe-core {VERSION} from the registry does not match its hash")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        return member.read()


def axe_source() -> str:
    """The script of axe-core, downloaded once and checked against its pinned hash."""
    cached = _cache()
    if not cached.exists():
        try:
            source = _download()
        except OSError as error:
            message = f"axe-core could not be fetched from the npm registry: {error}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(source)
    return cached.read_text()


def blocking_violations(page: Any, source: str) -> list[str]:
    """Run axe on the page (evaluated through the DevTools protocol, which the CSP allows)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
    ]
