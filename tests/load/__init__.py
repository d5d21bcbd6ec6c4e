"""Load test: many clients sign in, use, extend, refresh and revoke against gunicorn, while
revoked tokens are replayed at random. Bounded in time, loopback only.

    .venv/bin/python -m tests.load --duration 60 --clients 16    # or: make load

Reports requests served, errors (5xx or no answer), p50/p99 latency, and revoked tokens
accepted, which must be 0. Writes benchmarks/results/load.md. Not part of `make test`: it
runs gunicorn on PostgreSQL (database ``authtokens_load``, dropped and recreated) and Redis
(database 12, flushed) for a minute.

Modules: ``__main__`` (the run: databases, users, gunicorn, the clients), ``clients`` (one
thread per person, and the tally of every call), ``report`` (load.md), ``settings`` (the
gunicorn's Django settings).
"""
