"""Swagger UI renders the schema in Chromium from our own static files, fully offline."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_offline_under_our_csp(live_server, page):
    ours = urlsplit(live_server.url).netloc
    foreign, csp_violations = [], []

    def only_ours(route):
        if urlsplit(route.request.url).netloc == ours or route.request.url.startswith("data:"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_ours)
    page.on(
        "console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m.text)
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "authtokens API" in page.locator(".swagger-ui .info .title").inner_text()
    page.wait_for_selector("text=/api/token/introspect/")
    assert page.locator(".opblock").count() >= 13
    assert foreign == []
    assert [v for v in csp_violations if "script" in v] == []
