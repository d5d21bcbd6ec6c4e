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
    assert out.getvalue().strip() == "Mirrored 2 revocations."
    store = get_store()
    assert redis.exists(store.key("d", str(device.pk)))
    assert redis.get(store.key("u", str(user.pk))) == b"1"
    assert redis.get(store.warm_key) == redis.info("server")["run_id"].encode()


def test_rebuild_refuses_a_store_that_mirrors_nothing(settings):
    settings.AUTHTOKENS = {
        **settings.AUTHTOKENS,
        "REVOCATION_STORE": "authtokens.store.database.DatabaseStore",
    }
    with pytest.raises(CommandError, match="mirrors nothing to rebuild"):
        call_command("authtokens_rebuild")


def test_prune_removes_only_what_has_expired(user):
    from datetime import timedelta

    import time_machine

    from authtokens import tokens
    from authtokens.models import RefreshToken, RevokedAccessToken

    phone = services.issue(user, client="native", audience="Android-App")
    services.revoke_token(
        tokens.decode(phone.access, token_type=tokens.ACCESS), reason=Reason.TOKEN
    )
    fresh = services.issue(user, client="native", audience="Android-App")
    services.revoke_token(
        tokens.decode(fresh.access, token_type=tokens.ACCESS), reason=Reason.TOKEN
    )
    out = StringIO()
    call_command("authtokens_prune", "--dry-run", stdout=out)
    assert (
        out.getvalue().strip() == "Would remove 0 revoked access token(s) and 0 refresh token(s)."
    )
    with time_machine.travel(tokens.now() + timedelta(minutes=16)):
        call_command("authtokens_prune", stdout=out)
    assert "Removed 2 revoked access token(s) and 0 refresh token(s)." in out.getvalue()
    assert RefreshToken.objects.count() == 2
    with time_machine.travel(tokens.now() + timedelta(days=91)):
        call_command("authtokens_prune", stdout=out)
    assert "Removed 0 revoked access token(s) and 2 refresh token(s)." in out.getvalue()
    assert not RevokedAccessToken.objects.exists() and not RefreshToken.objects.exists()


def test_devices_command_lists_a_users_devices(user):
    services.issue(user, device_name="Laptop")
    phone = services.issue(user, client="native", audience="Android-App", device_name="Phone")
    services.revoke_device(phone.device, reason=Reason.ADMIN)
    out = StringIO()
    call_command("authtokens_devices", user.username, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "2 device(s)."
    assert any("Phone" in line and "Revoked" in line for line in lines)
    out = StringIO()
    call_command("authtokens_devices", user.username, "--active", stdout=out)
    assert "Phone" not in out.getvalue() and "1 device(s)." in out.getvalue()


def test_devices_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("authtokens_devices", "ghost")


def test_rotate_key_keeps_old_keys_trusted_unless_retired(user, settings):
    import json

    from django.test import override_settings

    from authtokens import tokens
    from authtokens.exceptions import UnknownKey

    old_token = services.issue(user).access
    for retire in (False, True):
        out = StringIO()
        args = ["--algorithm", "ES256", "--kid", "next"] + (["--retire-old"] if retire else [])
        call_command("authtokens_rotate_key", *args, stdout=out)
        keys = json.loads(out.getvalue())
        assert keys[0]["kid"] == "next" and "BEGIN PRIVATE KEY" in keys[0]["private_key"]
        with override_settings(AUTHTOKENS={**settings.AUTHTOKENS, "SIGNING_KEYS": keys}):
            new_token = services.issue(user).access
            assert tokens.decode(new_token, token_type=tokens.ACCESS)
            if retire:
                with pytest.raises(UnknownKey):
                    tokens.decode(old_token, token_type=tokens.ACCESS)
            else:
                assert tokens.decode(old_token, token_type=tokens.ACCESS)


def test_rotate_key_refuses_a_kid_in_use(db):
    with pytest.raises(CommandError, match="already in use"):
        call_command("authtokens_rotate_key", "--kid", "test-1")


@pytest.mark.parametrize(
    "command",
    ["authtokens_prune", "authtokens_devices", "authtokens_rebuild", "authtokens_rotate_key"],
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command(command, "--help")
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out
