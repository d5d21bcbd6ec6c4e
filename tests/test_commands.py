"""Management commands."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from authtokens import services
from authtokens.models import Reason
from authtokens.store import get_store

pytestmark = pytest.mark.django_db(transaction=True)


def test_rebuild_copies_revocations_into_an_empty_redis(user, redis):
    device = services.issue(user).device
    services.revoke_device(device, reason=Reason.ADMIN)
    services.revoke_user(user, reason=Reason.LOGOUT_ALL)
    redis.flushdb()
    out = StringIO()
    call_command("authtokens_rebuild", stdout=out)
    assert out.getvalue().strip() == "Mirrored 2 revocations into Redis."
    store = get_store()
    assert redis.exists(store.key("d", str(device.pk)))
    assert redis.get(store.key("u", str(user.pk))) == b"1"
    assert redis.get(store.warm_key) == b"1"


def test_rebuild_refuses_without_the_redis_store(settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
    }
    with pytest.raises(CommandError, match="not the Redis store"):
        call_command("authtokens_rebuild")
