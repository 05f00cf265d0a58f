"""/api/v1/: every path answers with or without its trailing slash, never by redirect."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView

from . import views
from .docs import ApiDocsView

SLUG = r"(?P<slug>[-a-zA-Z0-9_]+)"
WEBHOOK = r"webhooks/(?P<webhook_id>we_[A-Za-z0-9]+)"
DELIVERY = r"(?P<delivery_id>dl_[A-Za-z0-9]+)"
PUBLIC: dict[str, list[type]] = {
    "authentication_classes": [],
    "permission_classes": [],
    "throttle_classes": [],
}

urlpatterns = [
    re_path(r"^datasets/?$", views.DatasetListView.as_view(), name="datasets"),
    re_path(rf"^datasets/{SLUG}/?$", views.DatasetDetailView.as_view(), name="dataset"),
    re_path(rf"^datasets/{SLUG}/items/?$", views.ItemsUpsertView.as_view(), name="dataset-items"),
    re_path(rf"^datasets/{SLUG}/removals/?$", views.RemovalFeedView.as_view(), name="dataset-removals"),
    re_path(
        rf"^datasets/{SLUG}/revocations/?$", views.RevocationFeedView.as_view(), name="dataset-revocations"
    ),
    re_path(rf"^datasets/{SLUG}/licences/?$", views.LicenceFeedView.as_view(), name="dataset-licences"),
    re_path(
        rf"^datasets/{SLUG}/removals/ack/?$", views.RemovalAckView.as_view(), name="dataset-removals-ack"
    ),
    re_path(rf"^datasets/{SLUG}/disputes/?$", views.DisputeListView.as_view(), name="dataset-disputes"),
    re_path(
        rf"^datasets/{SLUG}/disputes/(?P<dispute_id>dp_[A-Za-z0-9]+)/?$",
        views.DisputeDetailView.as_view(),
        name="dataset-dispute",
    ),
    re_path(r"^webhooks/?$", views.WebhookListView.as_view(), name="webhooks"),
    re_path(rf"^{WEBHOOK}/?$", views.WebhookDetailView.as_view(), name="webhook"),
    re_path(rf"^{WEBHOOK}/rotate-secret/?$", views.WebhookRotateSecretView.as_view(), name="webhook-rotate"),
    re_path(rf"^{WEBHOOK}/deliveries/?$", views.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    re_path(
        rf"^{WEBHOOK}/deliveries/{DELIVERY}/redeliver/?$",
        views.WebhookRedeliverView.as_view(),
        name="webhook-redeliver",
    ),
    re_path(rf"^datasets/{SLUG}/imports/?$", views.ImportCreateView.as_view(), name="dataset-imports"),
    re_path(r"^imports/(?P<import_id>imp_[A-Za-z0-9]+)/?$", views.ImportDetailView.as_view(), name="import"),
    re_path(r"^lookup/?$", views.LookupView.as_view(), name="lookup"),
    re_path(r"^removals/export/?$", views.ExportView.as_view(), name="removals-export"),
    re_path(r"^licences/export/?$", views.LicenceExportView.as_view(), name="licences-export"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(**PUBLIC), name="schema"),
    re_path(r"^docs/?$", ApiDocsView.as_view(url_name="api:schema", **PUBLIC), name="docs"),
]
