"""Settings of the gunicorn the load test starts: the demo project, with limits opened up.

One client address sends every request, so per-IP failure limits would measure themselves.
"""

from project.settings import *  # noqa: F403

AUTHTOKENS = {
    **AUTHTOKENS,  # noqa: F405
    "FAILURE_LIMITS": None,  # revoked tokens replayed from one address are failures
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # sign-in is not measured
