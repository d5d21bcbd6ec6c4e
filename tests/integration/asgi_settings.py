"""Settings of the uvicorn that the ASGI tests start: the gunicorn settings, async views added,
and the revocation store the test asks for (AT_REVOCATION_STORE)."""

import os

from tests.integration.server_settings import *  # noqa: F403

ROOT_URLCONF = "tests.integration.async_urls"
AUTHTOKENS = {
    **AUTHTOKENS,  # noqa: F405
    "REVOCATION_STORE": os.environ.get(
        "AT_REVOCATION_STORE",
        AUTHTOKENS["REVOCATION_STORE"],  # noqa: F405
    ),
}
