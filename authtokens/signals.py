"""Signals this app sends, so that other apps can react to sign-ins and revocations."""

from django.dispatch import Signal

# Sent after commit. kwargs: user_id, device, tokens (an IssuedTokens).
tokens_issued = Signal()
# Sent after commit. kwargs: level ("token", "device" or "user"), user_id, device_id, reason, actor.
tokens_revoked = Signal()
