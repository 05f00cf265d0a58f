"""The maintainer API (../API.md), one module per group of endpoints. Each view is a few lines
around a service or selector; registry/api/urls.py routes to the names re-exported here."""

from .datasets import DatasetDetailView, DatasetListView, ItemsUpsertView
from .disputes import DisputeDetailView, DisputeListView
from .export import SLUG_PATTERN, ExportView, LicenceExportView
from .imports import ImportCreateView, ImportDetailView, import_to_dict
from .licences import LicenceFeedView
from .lookup import LookupView
from .removals import RemovalAckView, RemovalFeedView, RevocationFeedView
from .webhooks import (
    WebhookDeliveriesView,
    WebhookDetailView,
    WebhookListView,
    WebhookRedeliverView,
    WebhookRotateSecretView,
)

__all__ = [
    "SLUG_PATTERN",
    "DatasetDetailView",
    "DatasetListView",
    "DisputeDetailView",
    "DisputeListView",
    "ExportView",
    "ImportCreateView",
    "ImportDetailView",
    "ItemsUpsertView",
    "LicenceExportView",
    "LicenceFeedView",
    "LookupView",
    "RemovalAckView",
    "RemovalFeedView",
    "RevocationFeedView",
    "WebhookDeliveriesView",
    "WebhookDetailView",
    "WebhookListView",
    "WebhookRedeliverView",
    "WebhookRotateSecretView",
    "import_to_dict",
]
