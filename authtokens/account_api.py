"""The caller's account over the API: who they are, and their devices (list, show, revoke)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from . import services
from .models import Device, Reason
from .openapi import DEVICE_ID, errors, extend_schema
from .serializers import DeviceSerializer, MeSerializer
from .views import AuthTokensView, claims_of


class DeviceListView(AuthTokensView):
    @extend_schema(responses={200: DeviceSerializer(many=True), **errors(401)})
    def get(self, request: Request) -> Response:
        devices = Device.objects.filter(user_id=claims_of(request)["sub"]).active()
        context = {"current_device_id": claims_of(request)["did"]}
        return Response(DeviceSerializer(devices, many=True, context=context).data)


class DeviceDetailView(AuthTokensView):
    """One of the caller's own devices; any other id is a 404, never a 403."""

    def get_object(self, request: Request, device_id: str) -> Device:
        # Any string reaches us, so that a malformed id gets our JSON 404, not Django's page.
        try:
            pk = uuid.UUID(device_id)
        except ValueError:
            raise Http404() from None
        return get_object_or_404(
            Device.objects.filter(user_id=claims_of(request)["sub"]).active(), pk=pk
        )

    @extend_schema(parameters=[DEVICE_ID], responses={200: DeviceSerializer, **errors(401, 404)})
    def get(self, request: Request, device_id: Any) -> Response:
        context = {"current_device_id": claims_of(request)["did"]}
        return Response(DeviceSerializer(self.get_object(request, device_id), context=context).data)

    @extend_schema(parameters=[DEVICE_ID], responses={204: None, **errors(401, 403, 404)})
    def delete(self, request: Request, device_id: Any) -> Response:
        device = self.get_object(request, device_id)
        services.revoke_device(device, reason=Reason.USER, actor=request.user)
        return Response(status=204)


class MeView(AuthTokensView):
    @extend_schema(responses={200: MeSerializer, **errors(401)})
    def get(self, request: Request) -> Response:
        device = Device.objects.filter(pk=claims_of(request)["did"]).values("id", "name").first()
        return Response(MeSerializer({"user": request.user, "device": device}).data)
