"""/claims/: a creator a partner platform filed for claims it (by the mailed link or their
profile page), then sees and lifts it. Ids go through the site's converters (a 404 for anything
else); the mailed token stays <str:>, so a mangled link gets the page saying it is not valid."""

from django.urls import path

from requests_app import converters  # noqa: F401  (registers <id:...>)

from . import views

urlpatterns = [
    path("", views.claims, name="claims"),
    path("email/", views.claim_email, name="claim_email"),
    path("profile/", views.claim_profile, name="claim_profile"),
    path("confirm/<str:token>/", views.claim_confirm, name="claim_confirm"),
    path("<id:claim_id>/", views.claim_detail, name="claim_detail"),
    path("<id:claim_id>/check/", views.claim_check, name="claim_check"),
    path("<id:claim_id>/lift/", views.claim_lift, name="claim_lift"),
    path("<id:claim_id>/rows/<id:row_id>/choice/", views.claim_row_choice, name="claim_row_choice"),
]
