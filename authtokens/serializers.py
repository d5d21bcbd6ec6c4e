"""The API's shapes: its inputs, and the serializers that render (and so document) its answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from . import clock, kinds
from .models import Device
from .services import IssuedTokens


# What a client asks for; Device.Kind is what a device is. The values agree, the labels differ,
# so the OpenAPI schema names the two enums apart (ClientEnum, KindEnum) with no settings.
# Each registered kind (kinds.py) describes itself.
def client_choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.description) for kind in kinds.KINDS.values()]


CLIENT_CHOICES = client_choices()


def username_field() -> str:
    """The name the user model signs in by (``USERNAME_FIELD``): ``username``, ``email``..."""
    return get_user_model().USERNAME_FIELD


class TokenRequestSerializer(serializers.Serializer):
    """Sign-in: the user's ``USERNAME_FIELD`` (``username`` for Django's user, ``email`` for
    an email-as-username model) and ``password``; nothing else names the user."""

    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    device_name = serializers.CharField(max_length=100, required=False, default="")
    client = serializers.ChoiceField(choices=CLIENT_CHOICES, default=Device.Kind.WEB)
    audience = serializers.CharField(max_length=100, required=False, allow_null=True, default=None)

    def get_fields(self) -> dict[str, serializers.Field]:
        # Named after the user model's USERNAME_FIELD, first, as AuthenticationForm sizes it.
        model_field = get_user_model()._meta.get_field(username_field())
        max_length = getattr(model_field, "max_length", None) or 254
        identifier = serializers.CharField(max_length=max_length, trim_whitespace=False)
        fields = super().get_fields()
        # Every kind registered by now, one registered after this module was imported too.
        fields["client"].choices = client_choices()  # type: ignore[attr-defined]
        return {username_field(): identifier, **fields}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = kinds.get(attrs["client"])
        if not kind.accepts(attrs.get("audience")):
            raise serializers.ValidationError(
                {"audience": [kind.audience_error]}, code="invalid_audience"
            )
        return attrs


class RefreshRequestSerializer(serializers.Serializer):
    refresh = serializers.CharField(trim_whitespace=False)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)

    def validate_old_password(self, value: str) -> str:
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError(
                _("The current password is wrong."), code="wrong_password"
            )
        return value

    def validate_new_password(self, value: str) -> str:
        try:
            validate_password(value, self.context["user"])
        except DjangoValidationError as error:
            raise serializers.ValidationError(list(error.messages), code="weak_password") from None
        return value


class RevokeRequestSerializer(serializers.Serializer):
    token = serializers.CharField(trim_whitespace=False)
    token_type_hint = serializers.ChoiceField(
        choices=["access_token", "refresh_token"], required=False, allow_null=True
    )


def _seconds_until(moment: datetime | None) -> int | None:
    return None if moment is None else max(0, int((moment - clock.now()).total_seconds()))


class DeviceRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class TokenResponseSerializer(serializers.Serializer):
    """Render issued tokens: the answer of an issue, extend or refresh (RFC 6749 section 5.1).

    With ``context={"cookie": True}`` the tokens stay out of the body: the renewed cookie
    carries them, out of JavaScript's reach; the body keeps expiry and device.
    """

    access = serializers.CharField(
        required=False,
        help_text="The access token (a JWT, typ at+jwt). Absent when the request came with "
        "the token cookie: the renewed cookie carries it, out of JavaScript's reach.",
    )
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(required=False, help_text="Absent: never expires.")
    refresh = serializers.CharField(required=False, help_text="Native clients only.")
    refresh_expires_in = serializers.IntegerField(required=False)
    device = DeviceRefSerializer()

    def to_representation(self, instance: IssuedTokens) -> dict[str, Any]:
        in_cookie = self.context.get("cookie", False)
        answer = {
            "access": None if in_cookie else instance.access,
            "token_type": "Bearer",
            "expires_in": _seconds_until(instance.access_expires_at),
            "refresh": None if in_cookie else instance.refresh,
            "device": instance.device,
        }
        if answer["refresh"] is not None:
            answer["refresh_expires_in"] = _seconds_until(instance.refresh_expires_at)
        # A field left out of the mapping is left out of the body (it is not required).
        present = {name: value for name, value in answer.items() if value is not None}
        return super().to_representation(present)


class MeSerializer(serializers.Serializer):
    """Render ``{"user": ..., "device": ...}``: who the caller is, and on which device."""

    id = serializers.CharField(source="user.pk")
    username = serializers.CharField(source="user.get_username")
    device = DeviceRefSerializer(allow_null=True)


class DeviceSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "id",
            "name",
            "kind",
            "audience",
            "user_agent",
            "ip_address",
            "created_at",
            "last_used_at",
            "current",
        ]

    def get_current(self, device: Device) -> bool:
        return str(device.pk) == self.context.get("current_device_id")
