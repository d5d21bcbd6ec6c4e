"""Each domain error carries its HTTP status and stable code; errors.py answers with both."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import AuthenticationFailed

from authtokens import exceptions
from authtokens.errors import InvalidToken, error_body, to_api_exception


def every_error_class(base=exceptions.AuthTokensError):
    for subclass in base.__subclasses__():
        yield subclass
        yield from every_error_class(subclass)


ERRORS = sorted(every_error_class(), key=lambda error: error.__name__)


def test_every_error_class_has_a_code_of_its_own():
    codes = [error.code for error in ERRORS]
    assert len(codes) == len(set(codes)), codes


@pytest.mark.parametrize("error_class", ERRORS, ids=lambda error: error.__name__)
def test_each_error_answers_with_the_status_and_code_its_class_carries(error_class):
    answer = to_api_exception(error_class())
    assert answer.status_code == error_class.status_code
    assert error_body(answer) == {"code": error_class.code, "detail": str(error_class.detail)}
    # A 401 is DRF's AuthenticationFailed, so that the view's scheme gives its challenge.
    assert (answer.status_code == 401) == isinstance(answer, AuthenticationFailed)
    assert isinstance(answer, InvalidToken) == issubclass(error_class, exceptions.TokenError)


def test_statuses_are_the_documented_ones():
    assert {error.__name__: error.status_code for error in ERRORS} == {
        **{error.__name__: 401 for error in ERRORS if issubclass(error, exceptions.TokenError)},
        "InvalidCredentials": 401,
        "InvalidClient": 401,
        "NotExtendable": 400,
        "NotTokenOwner": 403,
        "StoreUnavailable": 503,
    }
