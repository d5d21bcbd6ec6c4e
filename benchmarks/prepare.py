"""Fresh benchmark databases: drop and recreate PostgreSQL's `bench` (or the SQLite file), migrate."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .common import DATABASE_URLS, PYTHON, ROOT, env_for


def recreate(db: str) -> None:
    if db == "sqlite":
        path = Path(DATABASE_URLS["sqlite"].removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        name = DATABASE_URLS["postgres"].rsplit("/", 1)[1]
        if name in {"test", "postgres"}:
            raise RuntimeError("The benchmark database must be one of its own.")
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [PYTHON, "-m", "django", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env_for(db),
        check=True,
    )
