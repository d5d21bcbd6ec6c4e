"""Create the benchmark user and one credential per scheme; print {scheme: headers} as JSON.

Run in a worker with benchmarks.settings configured (see common.run_worker).
"""

from __future__ import annotations

import json
import sys

USERNAME = "bench"


def credentials() -> dict[str, dict[str, str]]:
    from django.contrib.auth import get_user_model
    from knox.models import AuthToken as KnoxToken
    from rest_framework.authtoken.models import Token
    from rest_framework_simplejwt.tokens import AccessToken

    from authtokens import services

    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=USERNAME)
    if created:
        user.set_password("bench-password-123")
        user.save()
    drf, _ = Token.objects.get_or_create(user=user)
    _, knox = KnoxToken.objects.create(user=user)
    simple = str(AccessToken.for_user(user))
    ours = services.issue(user, client="web", device_name="bench").access
    bearer = {"Authorization": f"Bearer {ours}"}
    return {
        "floor": {},
        "drf-token": {"Authorization": f"Token {drf.key}"},
        "knox": {"Authorization": f"Token {knox}"},
        "simplejwt": {"Authorization": f"Bearer {simple}"},
        "simplejwt-stateless": {"Authorization": f"Bearer {simple}"},
        "authtokens-redis": bearer,
        "authtokens-cached": bearer,
        "authtokens-db": bearer,
        "authtokens-cluster": _bearer_on_cluster(user) or bearer,
    }


def _bearer_on_cluster(user) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    """A token issued with the cluster store configured, so that its device is written to the
    cluster's mirror as a deployment writes it (a token issued through another store is
    unknown to a warm mirror, hence refused). None when the run has no cluster."""
    from django.conf import settings
    from django.test import override_settings

    from authtokens import services
    from benchmarks.settings import CLUSTER_REDIS, store_settings

    if CLUSTER_REDIS is None:
        return None
    cluster = {**settings.AUTHTOKENS, **store_settings("redis-cluster")}
    with override_settings(AUTHTOKENS=cluster):  # closes the cluster store on the way out
        access = services.issue(user, client="web", device_name="bench-cluster").access
    return {"Authorization": f"Bearer {access}"}


if __name__ == "__main__":
    import django  # the parent (common.run_worker) set DJANGO_SETTINGS_MODULE and the URLs

    django.setup()
    json.dump(credentials(), sys.stdout)
    print()
