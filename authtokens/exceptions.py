"""Domain errors, each with a stable ``code`` and the HTTP status it answers with.

The status is a plain number: nothing here imports HTTP machinery, and services raise these
whoever calls them. ``errors.py`` alone turns them into responses. Details are translated
(gettext_lazy) in the language of the request that reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class AuthTokensError(Exception):
    """Base of every error authtokens raises on purpose."""

    code = "error"
    status_code = 400
    detail: StrOrPromise = _("The request could not be completed.")

    def __init__(self, detail: StrOrPromise | None = None) -> None:
        super().__init__(detail or self.detail)
        if detail:
            self.detail = detail


class TokenError(AuthTokensError):
    """The presented token cannot be accepted: 401 with an RFC 6750 ``invalid_token`` challenge."""

    code = "invalid_token"
    status_code = 401
    detail = _("The token is invalid.")


class TokenTooLarge(TokenError):
    code = "token_too_large"
    detail = _("The token is larger than allowed.")


class MalformedToken(TokenError):
    code = "malformed_token"
    detail = _("The token is not a well-formed JWT.")


class UnsupportedHeader(TokenError):
    code = "unsupported_header"
    detail = _("The token header carries an unsupported parameter.")


class UnknownKey(TokenError):
    code = "unknown_key"
    detail = _("The token was signed with an unknown or retired key.")


class WrongAlgorithm(TokenError):
    code = "wrong_algorithm"
    detail = _("The token's algorithm does not match its key.")


class WrongTokenType(TokenError):
    code = "wrong_token_type"
    detail = _("This kind of token is not accepted here.")


class BadSignature(TokenError):
    code = "bad_signature"
    detail = _("The token signature does not verify.")


class WrongIssuer(TokenError):
    code = "wrong_issuer"
    detail = _("The token was issued by someone else.")


class WrongAudience(TokenError):
    code = "wrong_audience"
    detail = _("The token is not meant for this audience.")


class TokenExpired(TokenError):
    code = "token_expired"
    detail = _("The token has expired.")


class TokenNotYetValid(TokenError):
    code = "token_not_yet_valid"
    detail = _("The token is not valid yet.")


class MissingClaim(TokenError):
    code = "missing_claim"
    detail = _("The token lacks a required claim.")


class InvalidClaim(TokenError):
    code = "invalid_claim"
    detail = _("A token claim has an invalid value.")


class TokenRevoked(TokenError):
    code = "token_revoked"
    detail = _("The token has been revoked.")


class RefreshTokenReused(TokenRevoked):
    """An already rotated refresh token came back: the device is signed out (RFC 9700 4.14.2)."""

    code = "refresh_token_reused"
    detail = _("The refresh token was already used; the device has been signed out.")


class SessionExpired(TokenError):
    code = "session_expired"
    detail = _("The session reached its maximum lifetime; sign in again.")


class NotExtendable(AuthTokensError):
    code = "not_extendable"
    status_code = 400
    detail = _("Only web access tokens can be extended; native clients use their refresh token.")


class InvalidCredentials(AuthTokensError):
    code = "invalid_credentials"
    status_code = 401
    detail = _("Unable to sign in with the given credentials.")


class InvalidClient(AuthTokensError):
    """An introspection client's credentials are missing or wrong (RFC 7662 section 2.1)."""

    code = "invalid_client"
    status_code = 401
    detail = _("Client authentication failed.")


class NotTokenOwner(AuthTokensError):
    code = "not_token_owner"
    status_code = 403
    detail = _("You can revoke only your own tokens.")


class StoreUnavailable(AuthTokensError):
    """Neither Redis nor the database could answer: refuse, never wave the token through.

    README, Guarantees: "Redis and the database both down ...: 503 with `Retry-After`, never
    200 and never 500".
    """

    code = "service_unavailable"
    status_code = 503
    detail = _("Token checks are temporarily unavailable; try again shortly.")
