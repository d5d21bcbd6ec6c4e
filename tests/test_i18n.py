"""Every message of authtokens in the request's language (Accept-Language, LocaleMiddleware in
the demo), beside DRF's; French ships complete, compiled; codes and RFC 6750 headers stay as
they are."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from gettext import GNUTranslations
from pathlib import Path

import pytest
from django.utils import translation

from authtokens.limits import describe_wait
from tests.conftest import bearer
from tests.factories import PASSWORD
from tests.test_tokens import claims, forge

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "authtokens" / "locale" / "fr" / "LC_MESSAGES"
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}


def test_a_refused_token_is_explained_in_french_with_an_ascii_challenge(api, user, sign_in):
    body = sign_in(user)
    api.post("/api/token/logout/", **bearer(body["access"]))
    refused = api.get("/api/me/", **bearer(body["access"]), **FRENCH)
    assert refused.status_code == 401
    assert refused.json() == {"code": "token_revoked", "detail": "Le jeton a été révoqué."}
    assert refused["Content-Language"] == "fr"
    # RFC 6750 section 3: error_description is ASCII; it stays English.
    assert refused["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", error_description="The token has been revoked."'
    )


def test_without_accept_language_messages_stay_english(api, user, sign_in):
    body = sign_in(user)
    api.post("/api/token/logout/", **bearer(body["access"]))
    refused = api.get("/api/me/", **bearer(body["access"]))
    assert refused.json()["detail"] == "The token has been revoked."


def test_a_failed_sign_in_and_drf_validation_speak_french_together(api, user):
    wrong = api.post("/api/token/", {"username": user.username, "password": "no"}, **FRENCH)
    assert wrong.json() == {
        "code": "invalid_credentials",
        "detail": "Impossible de se connecter avec les identifiants fournis.",
    }
    invalid = api.post("/api/token/", {"username": user.username}, **FRENCH).json()
    assert invalid["detail"] == "Le corps de la requête n’est pas valide."  # ours
    assert invalid["errors"] == {"password": ["Ce champ est obligatoire."]}  # DRF's


def test_claim_messages_carry_their_claim_name_in_french(api, user, sign_in):
    device = sign_in(user)["device"]["id"]
    token = forge({k: v for k, v in claims(sub=str(user.pk), did=device).items() if k != "jti"})
    refused = api.get("/api/me/", **bearer(token), **FRENCH)
    assert refused.json() == {
        "code": "missing_claim",
        "detail": "Il manque au jeton la revendication obligatoire « jti ».",
    }
    assert (
        "error_description=\"The token lacks the required 'jti' claim.\""
        in (refused["WWW-Authenticate"])
    )


def test_the_pages_speak_french(client, user):
    page = client.get("/signin/?reason=expired", **FRENCH)
    assert "Votre session a expiré. Veuillez vous reconnecter." in page.content.decode()
    client.post("/signin/", {"username": user.username, "password": PASSWORD}, **FRENCH)
    devices = client.get("/devices/", **FRENCH).content.decode()
    assert "Navigateur web" in devices  # the default device name, in the signer's language


def test_waits_are_counted_in_french():
    with translation.override("fr"):
        assert describe_wait(1) == "1 seconde"
        assert describe_wait(30) == "30 secondes"
        assert describe_wait(900) == "15 minutes"


def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=True, **kwargs)


def test_the_french_catalog_is_complete_and_compiled(tmp_path):
    if shutil.which("msgfmt") is None or shutil.which("xgettext") is None:
        pytest.fail("gettext is not installed; .ci/run installs it")
    # Extract every marked string of the app afresh, into a copy, merged with our catalog.
    copy = tmp_path / "authtokens"
    shutil.copytree(ROOT / "authtokens", copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    # -P: the app's own modules (tokens, signals...) must not shadow anything on sys.path.
    run(sys.executable, "-P", "-m", "django", "makemessages", "-l", "fr", cwd=copy, env=env)
    merged = copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    statistics = run("msgfmt", "--check", "--statistics", "-o", os.devnull, str(merged)).stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", statistics), statistics
    # The committed .mo is the committed .po, compiled.
    run("msgfmt", "--check", "-o", str(tmp_path / "fresh.mo"), str(CATALOG / "django.po"))
    with (tmp_path / "fresh.mo").open("rb") as fresh, (CATALOG / "django.mo").open("rb") as shipped:
        assert GNUTranslations(shipped)._catalog == GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
