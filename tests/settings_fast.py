"""The fast lane's settings (``make test-fast``): SQLite and the database store, no service.

The suite's settings with the database in memory, the revocation store on the database and
failure counts in the process: no PostgreSQL, no Redis. Tests that need either carry a marker
(``redis``, ``postgres``) and the lane deselects them, with ``browser`` and ``integration``.
"""

from tests.settings import *  # noqa: F403

FAST_LANE = True
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AUTHTOKENS = {
    **AUTHTOKENS,  # noqa: F405
    "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
}
