"""Django's admin with the token cookie as its session (``authtokens.sites.StaffAdminSite``).

Put ``"authtokens.admin_config.StaffAdminConfig"`` in ``INSTALLED_APPS`` instead of
``"django.contrib.admin"``: ``admin.site`` is then a ``StaffAdminSite``, Django's documented
way of replacing the default site, and every model registered on it stays where it was. This
module imports no model: Django loads it while the app registry is still being populated.
"""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "authtokens.sites.StaffAdminSite"
