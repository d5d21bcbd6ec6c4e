"""A client kind is one policy object: this test follows README's "Add a client kind" recipe.

A made-up "tv" kind (its own audience, a one-hour access token, a 30-day refresh token, no
sliding session, a session that ends a week after sign-in) is registered for one test and
unregistered after it; every rule its devices meet comes from its policy, through the same
entry points the web and native kinds use.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import time_machine

from authtokens import kinds, services, tokens
from authtokens.exceptions import NotExtendable, SessionExpired
from authtokens.kinds import ClientKind
from authtokens.models import Device
from tests.conftest import bearer
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TV_AUDIENCE = "TV-App"


class TvKind(ClientKind):
    name = "tv"
    description = "A television: an hour-long access token and a refresh token"

    def audiences(self) -> tuple[str, ...]:
        return (TV_AUDIENCE,)

    def default_audience(self) -> str:
        return TV_AUDIENCE

    def access_lifetime(self, device: Device) -> timedelta:
        return timedelta(hours=1)

    def refresh_lifetime(self, device: Device) -> timedelta:
        return timedelta(days=30)

    def uses_refresh(self, device: Device) -> bool:
        return True

    def session_end(self, device: Device) -> datetime:
        return device.created_at + timedelta(days=7)

    def default_name(self, audience: str) -> str:
        return "Television"


@pytest.fixture
def tv() -> Iterator[TvKind]:
    kind = TvKind()
    kinds.register(kind)
    yield kind
    kinds.unregister(kind.name)


def test_a_registered_kind_issues_by_its_own_policy(user, tv):
    now = tokens.now()
    with time_machine.travel(now, tick=False):
        issued = services.issue(user, client="tv")
    device = issued.device
    assert (device.kind, device.audience, device.name) == ("tv", TV_AUDIENCE, "Television")
    assert kinds.of(device) is tv
    assert issued.access_expires_at == now + timedelta(hours=1)
    assert issued.refresh is not None and issued.refresh_expires_at == now + timedelta(days=30)
    claims = services.authenticate(issued.access)
    assert claims["aud"] == TV_AUDIENCE and claims["exp"] == int(
        issued.access_expires_at.timestamp()
    )


def test_its_refresh_extend_and_session_end_rules_come_from_the_policy(user, tv):
    start = tokens.now()
    with time_machine.travel(start, tick=False):
        issued = services.issue(user, client="tv")
    claims = services.authenticate(issued.access)
    with pytest.raises(NotExtendable):  # not extendable: the kind says so, not the aud
        services.extend(claims)
    later = start + timedelta(days=6, hours=23, minutes=30)
    with time_machine.travel(later, tick=False):
        refreshed = services.refresh(issued.refresh)
    # The access token is capped by the kind's session end, half an hour away.
    assert refreshed.access_expires_at == start + timedelta(days=7)
    assert refreshed.refresh_expires_at == later + timedelta(days=30)
    tv.extendable = True  # an instance attribute: gone with the instance after the test
    with time_machine.travel(start + timedelta(days=7), tick=False):
        with pytest.raises(SessionExpired):
            services.extend(claims)


def test_the_sign_in_endpoint_offers_a_registered_kind(user, tv, sign_in, api):
    body = sign_in(user, client="tv")
    assert body["device"]["name"] == "pytest"  # the User-Agent names it first, as for others
    assert "refresh" in body and body["refresh"]
    assert api.get("/ping/", **bearer(body["access"])).status_code == 200
    refused = api.post(
        "/api/token/",
        {"username": user.username, "password": PASSWORD, "client": "tv", "audience": "Other"},
        format="json",
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"] == {"audience": ["Unknown audience."]}


def test_no_kind_stays_registered_between_tests():
    assert set(kinds.KINDS) == {Device.Kind.WEB, Device.Kind.NATIVE}
    with pytest.raises(ValueError):
        services.issue(None, client="tv")
