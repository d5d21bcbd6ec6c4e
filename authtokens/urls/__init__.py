"""The layout of authtokens 0.1, kept for projects that include it at the site root:
``path("", include("authtokens.urls"))`` serves the API under ``/api/``, the public keys at
``/.well-known/jwks.json`` and the pages at ``/``, ``/signin/``, ``/signout/`` and ``/devices/``,
all named in the ``authtokens`` namespace.

New projects include the two parts where they want them instead (README, "Add it to your
project"): ``authtokens.urls.api`` and ``authtokens.urls.pages``.
"""

from django.urls import include, path

from . import api, pages

app_name = "authtokens"

urlpatterns = [
    path("api/", include(api.routes)),
    api.jwks,
    *pages.urlpatterns,
]
