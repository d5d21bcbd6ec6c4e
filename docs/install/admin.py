from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from authtokens.admin import DeviceInline, SignOutEverywhereMixin


class MyUserAdmin(SignOutEverywhereMixin, UserAdmin):
    inlines = [*UserAdmin.inlines, DeviceInline]


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), MyUserAdmin)
