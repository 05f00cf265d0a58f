"""/api/v1/partner/: every path answers with or without its trailing slash, never by redirect."""

from django.urls import re_path

from . import disputes, views

urlpatterns = [
    re_path(r"^filings/?$", views.FilingListView.as_view(), name="filings"),
    re_path(r"^filings/files/?$", views.FileFilingCreateView.as_view(), name="file-filings"),
    re_path(rf"^filings/{views.FILING}/?$", views.FilingDetailView.as_view(), name="filing"),
    re_path(rf"^filings/{views.FILING}/rows/?$", views.FilingRowsView.as_view(), name="filing-rows"),
    re_path(rf"^filings/{views.FILING}/file/?$", views.FilingFileView.as_view(), name="filing-file"),
    re_path(r"^disputes/?$", disputes.PartnerDisputeListView.as_view(), name="partner-disputes"),
    re_path(
        rf"^disputes/{disputes.DISPUTE}/answer/?$",
        disputes.PartnerDisputeAnswerView.as_view(),
        name="partner-dispute-answer",
    ),
]
