import os

INSTALLED_APPS += ["rest_framework", "authtokens"]
# One browser session: the token cookie signs people in to your pages, the admin and their own
# panel (README, "One browser session"). Swap in the admin and the middleware that read it.
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = (
    "authtokens.admin_config.StaffAdminConfig"
)
MIDDLEWARE[MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")] = (
    "authtokens.middleware.TokenUserMiddleware"
)
LOGIN_URL = "authtokens:sign-in"
CSRF_FAILURE_VIEW = "authtokens.pages.errors.csrf_failure"  # a refused form, with a way back
MIDDLEWARE += [  # after TokenUserMiddleware
    "authtokens.middleware.ActingUserMiddleware",  # records staff as the actor of revocations
    "authtokens.middleware.TokenCookieMiddleware",  # only if browsers use the cookie flow (pages)
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "authtokens.authentication.JWTAuthentication",
        "authtokens.authentication.CookieAuthentication",  # only for the cookie flow
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
