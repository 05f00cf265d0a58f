from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from registry.api.compat import QueryUrlsView
from registry.api.errors import json_404
from registry.views import health

# JSON under /api/ (the contract's error body), Django's HTML page for the site.
handler500 = "registry.api.errors.handler500"

# The desk says whose it is, in the moderator's language (Django's default says "Django administration").
admin.site.site_header = _("Removal Desk")
admin.site.site_title = _("Removal Desk")
admin.site.index_title = _("The moderators' desk")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/partner/", include(("partners.api.urls", "partner_api"), namespace="partner_api")),
    path("api/v1/", include(("registry.api.urls", "api"), namespace="api")),
    re_path(r"^api/v2/query/urls/?$", QueryUrlsView.as_view(), name="compat-query-urls"),
    # Anything else under /api/ answers in the API's error format, not an HTML page.
    re_path(r"^api/", json_404),
    path("claims/", include("partners.site.urls")),
    path("", include("requests_app.urls")),
]
