"""Prove the wheel: build it, install it where nothing else is, follow the README in new projects.

1. Build the sdist, then the wheel from the sdist (``python -m build``), from a copy of the
   working tree, and check what each ships: templates, static files, LICENSE, metadata.
2. Install the wheel, with the extras the README's ``pip install`` line names, into a clean
   virtualenv (pip's cache serves the dependencies after the first run).
3. ``django-admin startproject``; append the README's snippets (``docs/install/``, which the
   README quotes verbatim) and what any deployment sets (``DEBUG`` off, a ``SECRET_KEY``, HTTPS,
   ``ManifestStaticFilesStorage``); then ``migrate``, ``check --deploy --fail-level WARNING``,
   ``collectstatic``, ``spectacular --validate --fail-on-warn``, and ``flow.py``: sign in, call
   the API, render the pages, run both admin actions. The database store, on SQLite: no services.
4. The same in a second project whose user model has an email as ``USERNAME_FIELD`` and a UUID
   primary key. With ``--redis-url``, the first project also runs the Redis snippet.

``tests/packaging/test_wheel.py`` runs it in the suite; by hand::

    python tests/packaging/check_wheel.py [--workdir DIR] [--redis-url redis://127.0.0.1:6379/9]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "install"
FLOW = Path(__file__).with_name("flow.py")
PIP_LINE = re.compile(r'^pip install "authtokens\[([a-z,]+)\]"', re.MULTILINE)
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "staticfiles", "db.sqlite3",
    ".pytest_cache", ".ruff_cache", ".mypy_cache", "node_modules",
)  # fmt: skip
WHEEL_MUST_SHIP = (
    "authtokens/py.typed",
    "authtokens/templates/authtokens/base.html",
    "authtokens/templates/authtokens/sign_in.html",
    "authtokens/templates/authtokens/home.html",
    "authtokens/templates/authtokens/devices.html",
    "authtokens/templates/admin/authtokens/confirm_revocation.html",
    "authtokens/templates/authtokens/password_reset_email.txt",
    "authtokens/static/authtokens/site.css",
    "authtokens/static/authtokens/local-time.js",
    "authtokens/pages/errors.py",
    "authtokens/migrations/0001_initial.py",
    "authtokens/management/commands/authtokens_reconcile.py",
    "authtokens/urls/api.py",
    "authtokens/urls/pages.py",
)
SDIST_MUST_SHIP = ("LICENSE", "CHANGELOG.md", "README.md", "PKG-INFO", "MANIFEST.in") + tuple(
    name for name in WHEEL_MUST_SHIP if not name.endswith(".py")
)
DEPLOYMENT = """

# What any deployment sets; not an authtokens step (tests/packaging/check_wheel.py).
DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["testserver"]
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
STATIC_ROOT = BASE_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
INSTALLED_APPS += ["accounts"]  # the project's own app
"""
EMAIL_USER_MODEL = """import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models


class EmailUserManager(BaseUserManager):
    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class EmailUser(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    objects = EmailUserManager()
"""
EMAIL_USER_ADMIN = """from django.contrib import admin

from authtokens.admin import DeviceInline, SignOutEverywhereMixin

from .models import EmailUser


@admin.register(EmailUser)
class EmailUserAdmin(SignOutEverywhereMixin, admin.ModelAdmin):
    search_fields = ["email"]
    inlines = [DeviceInline]
"""


class CheckFailed(AssertionError):
    pass


def run(command: list[str | Path], cwd: Path | None = None, env: dict | None = None) -> str:
    """Run a command; fail with its output if it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise CheckFailed(
            f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


# What the fresh projects inherit: enough to find programs, pip's index and cache, and proxies.
# Nothing else: the suite's own variables (DJANGO_SETTINGS_MODULE, PYTHONPATH, or the
# DJANGO_ALLOW_ASYNC_UNSAFE the browser tests set) would leak into a deployment check.
INHERITED = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "USER", "LOGNAME"}
INHERITED_PREFIXES = (
    "PIP_", "XDG_", "SSL_CERT_", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment that points Python at nothing of the repository or the suite."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in INHERITED or name.startswith(INHERITED_PREFIXES)
    }
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def make_venv(path: Path, *requirements: str) -> Path:
    base = getattr(sys, "_base_executable", sys.executable)
    run([base, "-m", "venv", path], env=clean_env())
    python = path / "bin" / "python"
    if requirements:
        run([python, "-m", "pip", "install", "--quiet", *requirements], env=clean_env())
    return python


# 1. Build and inspect.


def snippet(name: str) -> str:
    return (SNIPPETS / name).read_text()


def readme_quotes_the_snippets() -> None:
    """Every file of docs/install/ appears in the README as a python block, verbatim."""
    readme = (ROOT / "README.md").read_text()
    for path in sorted(SNIPPETS.glob("*.py")):
        if f"```python\n{path.read_text()}```" not in readme:
            raise CheckFailed(f"README.md does not quote docs/install/{path.name} verbatim")
    if not PIP_LINE.search(readme):
        raise CheckFailed('README.md has no line pip install "authtokens[...]"')


def build(workdir: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from it; return (wheel, sdist)."""
    source = workdir / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    builder = make_venv(workdir / "builder", "build>=1.2", "setuptools>=77")
    dist = workdir / "dist"
    run([builder, "-m", "build", "--no-isolation", "--outdir", dist, source], env=clean_env())
    (wheel,) = dist.glob("authtokens-*.whl")
    (sdist,) = dist.glob("authtokens-*.tar.gz")
    return wheel, sdist


def inspect(wheel: Path, sdist: Path) -> None:
    """What each archive must ship, and must not."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    missing = [name for name in WHEEL_MUST_SHIP if name not in names]
    if missing:
        raise CheckFailed(f"the wheel does not ship {missing}")
    strays = sorted({name.split("/")[0] for name in names} - {"authtokens", metadata.split("/")[0]})
    if strays:
        raise CheckFailed(f"the wheel ships more than the app: {strays}")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        raise CheckFailed("the wheel does not ship LICENSE")
    for line in (
        "License-Expression: BSD-3-Clause",
        "Classifier: Framework :: Django :: 5.2",
        "Classifier: Typing :: Typed",
    ):
        if line not in text.splitlines():
            raise CheckFailed(f"the wheel's METADATA lacks {line!r}")
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    missing = [name for name in SDIST_MUST_SHIP if name not in names]
    if missing:
        raise CheckFailed(f"the sdist does not ship {missing}")
    strays = sorted({name.split("/")[0] for name in names if "/" in name} - {"authtokens"})
    strays = [top for top in strays if not top.endswith(".egg-info")]
    if strays:
        raise CheckFailed(f"the sdist ships more than the app: {strays}")


# 2. Install.


def install(wheel: Path, workdir: Path) -> Path:
    """The wheel, with the README's extras, in a virtualenv of its own; return its python."""
    extras = PIP_LINE.search((ROOT / "README.md").read_text()).group(1)
    return make_venv(workdir / "venv", f"{wheel}[{extras}]")


# 3 and 4. Fresh projects.


def fresh_project(python: Path, workdir: Path, *, custom_user: bool, redis_url: str = "") -> None:
    name = "custom_site" if custom_user else "fresh_site"
    home = workdir / name
    home.mkdir()
    env = clean_env(
        DJANGO_SETTINGS_MODULE=f"{name}.settings",
        SECRET_KEY="a-real-secret-key-" + "x" * 50,
        TOKENS_KEY="t" * 43,
    )
    django_admin = python.parent / "django-admin"
    run([django_admin, "startproject", name, home], env=env)
    run([python, "manage.py", "startapp", "accounts"], cwd=home, env=env)
    settings, urls = home / name / "settings.py", home / name / "urls.py"
    with settings.open("a") as out:
        out.write("\n# authtokens: README, Add it to your project.\n")
        for part in ("settings.py", "settings_database.py", "settings_openapi.py"):
            out.write(snippet(part))
        out.write(DEPLOYMENT)
        if custom_user:
            out.write('AUTH_USER_MODEL = "accounts.EmailUser"\n')
    with urls.open("a") as out:
        out.write("\n# authtokens: README, Add it to your project.\n" + snippet("urls.py"))
    if custom_user:
        (home / "accounts" / "models.py").write_text(EMAIL_USER_MODEL)
        (home / "accounts" / "admin.py").write_text(EMAIL_USER_ADMIN)
        run([python, "manage.py", "makemigrations", "accounts"], cwd=home, env=env)
    else:
        (home / "accounts" / "admin.py").write_text(snippet("admin.py"))

    manage = [python, "manage.py"]
    run([*manage, "createcachetable"], cwd=home, env=env)
    run([*manage, "migrate", "--noinput"], cwd=home, env=env)
    run([*manage, "check", "--deploy", "--fail-level", "WARNING"], cwd=home, env=env)
    run([*manage, "collectstatic", "--noinput"], cwd=home, env=env)
    schema = home / "schema.yaml"
    run([*manage, "spectacular", "--validate", "--fail-on-warn", "--file", schema], home, env)
    if "basicAuth:" not in schema.read_text():
        raise CheckFailed("the schema does not declare basicAuth")
    flow_env = {**env, "PYTHONPATH": str(home)}  # the project; never the repository
    print(run([python, FLOW, "full"], cwd=home, env=flow_env), end="")
    if redis_url:
        with_redis = home / name / "settings_redis.py"
        with_redis.write_text(
            "from .settings import *  # noqa: F403\n\n" + snippet("settings_redis.py")
        )
        env = {**env, "DJANGO_SETTINGS_MODULE": f"{name}.settings_redis", "REDIS_URL": redis_url}
        run([*manage, "check", "--deploy", "--fail-level", "WARNING"], cwd=home, env=env)
        print(run([python, FLOW, "api"], cwd=home, env={**env, "PYTHONPATH": str(home)}), end="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="default: a temporary directory, removed")
    parser.add_argument("--redis-url", default="", help="also run the README's Redis snippet")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="authtokens-wheel-"))
    started = time.monotonic()
    try:
        readme_quotes_the_snippets()
        wheel, sdist = build(workdir)
        inspect(wheel, sdist)
        print(f"built and inspected {wheel.name} and {sdist.name}")
        python = install(wheel, workdir)
        fresh_project(python, workdir, custom_user=False, redis_url=args.redis_url)
        print("a fresh project follows the README")
        fresh_project(python, workdir, custom_user=True)
        print("a fresh project with an email user model and UUID keys follows the README")
    except CheckFailed as failure:
        sys.exit(f"wheel check failed: {failure}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"wheel check passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
