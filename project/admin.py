"""The demo project's user admin: Django's, plus the user's devices and "Sign out everywhere"."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from authtokens.admin import DeviceInline, SignOutEverywhereMixin

User = get_user_model()


class UserWithDevicesAdmin(SignOutEverywhereMixin, UserAdmin):
    inlines = [*UserAdmin.inlines, DeviceInline]


admin.site.unregister(User)
admin.site.register(User, UserWithDevicesAdmin)
