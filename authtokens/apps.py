"""App configuration: connects receivers and registers system checks."""

import importlib.util

from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.translation import gettext_lazy as _


class AuthTokensConfig(AppConfig):
    name = "authtokens"
    verbose_name = _("Tokens and devices")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # registers the checks

        # Refuse to start, not only warn in `check --deploy` (which gunicorn never runs).
        checks.refuse_development_signing_key()

        if importlib.util.find_spec("drf_spectacular"):
            from . import openapi  # noqa: F401  registers the security schemes
        from .cookies import end_cookie_session
        from .keys import clear_key_ring_cache
        from .limits import count_failed_sign_in
        from .models import Device
        from .receivers import (
            mirror_deleted_device,
            note_credential_change,
            revoke_on_credential_change,
        )
        from .store import clear_store_cache

        setting_changed.connect(clear_key_ring_cache, dispatch_uid="authtokens.keys")
        setting_changed.connect(clear_store_cache, dispatch_uid="authtokens.store")
        # Every failed authenticate() counts towards the sign-in failure limits.
        user_login_failed.connect(count_failed_sign_in, dispatch_uid="authtokens.limits")
        # Django's logout() (its LogoutView, the admin's) signs this browser's device out too.
        user_logged_out.connect(end_cookie_session, dispatch_uid="authtokens.cookie_logout")
        post_delete.connect(
            mirror_deleted_device, sender=Device, dispatch_uid="authtokens.device_deleted"
        )
        user_model = settings.AUTH_USER_MODEL  # a lazy sender: the model may load after us
        pre_save.connect(
            note_credential_change, sender=user_model, dispatch_uid="authtokens.user_pre_save"
        )
        post_save.connect(
            revoke_on_credential_change, sender=user_model, dispatch_uid="authtokens.user_saved"
        )
