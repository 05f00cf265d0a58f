from django.contrib.auth import views as auth_views
from django.urls import path

from . import converters  # noqa: F401  (registers <reference:...> and <id:...>)
from .forms import CheckedPasswordResetForm, CheckedSetPasswordForm
from .views import identity as views_identity
from .views import requests as views

# A request reference or a row id in an address goes through its converter: anything else is a
# 404 before any view or query runs. Verify-email tokens stay <str:>: a mangled link gets the
# page that says the link is not valid (400), and Django's reset view checks its own.

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("verify-email/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<reference:reference>/", views.request_detail, name="request_detail"),
    path("requests/<reference:reference>/works/", views.request_upload, name="request_upload"),
    path("requests/<reference:reference>/matches/", views.request_matches, name="request_matches"),
    path("requests/<reference:reference>/submit/", views.request_submit, name="request_submit"),
    path("requests/<reference:reference>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<reference:reference>/status.json", views.request_status, name="request_status"),
    path("works/<id:work_id>/image/", views.work_image, name="work_image"),
    # Artist pages: password reset, one-file uploads, replies, the public search, the account.
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="registration/password_reset_form.html",
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
            form_class=CheckedPasswordResetForm,
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_confirm.html", form_class=CheckedSetPasswordForm
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("requests/<reference:reference>/works/one/", views.work_upload_one, name="work_upload_one"),
    path("requests/<reference:reference>/reply/", views.request_reply, name="request_reply"),
    path("search/", views.public_search, name="public_search"),
    path("account/", views.account, name="account"),
    path("account/export.json", views.account_export, name="account_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("account/name/", views.account_name, name="account_name"),
    path("identity/", views_identity.identity, name="identity"),
    path("identity/proofs/new/", views_identity.identity_proof_new, name="identity_proof_new"),
    path("identity/proofs/<id:proof_id>/", views_identity.identity_proof, name="identity_proof"),
    path(
        "identity/proofs/<id:proof_id>/check/",
        views_identity.identity_proof_check,
        name="identity_proof_check",
    ),
    path(
        "identity/proofs/<id:proof_id>/delete/",
        views_identity.identity_proof_delete,
        name="identity_proof_delete",
    ),
    path(
        "identity/proofs/<id:proof_id>/document/",
        views_identity.identity_document,
        name="identity_document",
    ),
]
