"""The demo's admin: Django's user admin, plus devices and "Sign out everywhere"; its name."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from authtokens.admin import DeviceInline, SignOutEverywhereMixin

User = get_user_model()


class UserWithDevicesAdmin(SignOutEverywhereMixin, UserAdmin):
    inlines = [*UserAdmin.inlines, DeviceInline]


admin.site.unregister(User)
admin.site.register(User, UserWithDevicesAdmin)

# The demo's own name on the admin, instead of "Django administration".
admin.site.site_header = "authtokens administration"
admin.site.site_title = "authtokens admin"
