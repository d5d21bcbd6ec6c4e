"""Settings of the gunicorn the load test starts: the demo project, with limits opened up.

One client address sends every request, so per-IP throttling would measure itself.
"""

from project.settings import *  # noqa: F403

AUTHTOKENS = {
    **AUTHTOKENS,  # noqa: F405
    "THROTTLE_RATES": {"sign_in": None, "refresh": None},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # sign-in is not measured
