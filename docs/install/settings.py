import os

INSTALLED_APPS += ["rest_framework", "authtokens"]
MIDDLEWARE += [  # after AuthenticationMiddleware
    "authtokens.context.ActingUserMiddleware",  # records staff as the actor of revocations
    "authtokens.cookies.TokenCookieMiddleware",  # only if browsers use the cookie flow (pages)
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "authtokens.authentication.JWTAuthentication",
        "authtokens.cookies.CookieAuthentication",  # only for the cookie flow
    ],
    "EXCEPTION_HANDLER": "authtokens.errors.exception_handler",  # the one error shape
}
AUTHENTICATION_BACKENDS = [  # first: refuses a locked-out username before any hashing
    "authtokens.limits.FailureLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTHTOKENS = {
    "SIGNING_KEYS": [{"kid": "main", "algorithm": "HS256", "secret": os.environ["TOKENS_KEY"]}],
    "NATIVE_AUDIENCES": ["iPhone-App"],
    "TRUSTED_PROXY_COUNT": 1,  # behind one proxy that appends to X-Forwarded-For; else 0
}
