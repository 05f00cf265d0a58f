from django.contrib.auth import views as auth_views
from django.urls import path

from . import converters  # noqa: F401  (registers <reference:...> and <id:...>)
from .forms import CheckedPasswordResetForm, CheckedSetPasswordForm
from .views import (
    accounts,
    consent,
    decisions,
    disputes,
    domains,
    home,
    identity,
    portfolio,
    requests,
    search,
    site_signals,
    transparency,
    uploads,
    works,
)

# A request reference or a row id in an address goes through its converter: anything else is a
# 404 before any view or query runs. Verify-email tokens stay <str:>: a mangled link gets the
# page that says the link is not valid (400), and Django's reset view checks its own.

urlpatterns = [
    path("", home.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("verify-email/resend/", accounts.verify_email_resend, name="verify_email_resend"),
    path("verify-email/<str:token>/", accounts.verify_email, name="verify_email"),
    path("requests/", requests.request_list, name="request_list"),
    path("requests/new/", requests.request_new, name="request_new"),
    path("requests/new/domain/", domains.domain_request_new, name="domain_request_new"),
    path("requests/<reference:reference>/", requests.request_detail, name="request_detail"),
    path("requests/<reference:reference>/works/", works.request_upload, name="request_upload"),
    path("requests/<reference:reference>/scope/", domains.request_scope_edit, name="request_scope_edit"),
    path("requests/<reference:reference>/matches/", works.request_matches, name="request_matches"),
    path("requests/<reference:reference>/choice/", consent.request_choice, name="request_choice"),
    path(
        "requests/<reference:reference>/works/<id:work_id>/choice/", consent.work_choice, name="work_choice"
    ),
    path("requests/<reference:reference>/submit/", decisions.request_submit, name="request_submit"),
    path("requests/<reference:reference>/withdraw/", decisions.request_withdraw, name="request_withdraw"),
    path("requests/<reference:reference>/status.json", requests.request_status, name="request_status"),
    path(
        "requests/<reference:reference>/removals.csv",
        requests.request_removals_csv,
        name="request_removals_csv",
    ),
    path("works/<id:work_id>/image/", works.work_image, name="work_image"),
    path("portfolio/", portfolio.portfolio_page, name="portfolio"),
    path("portfolio/selection/", portfolio.portfolio_selection, name="portfolio_selection"),
    path("portfolio/choice/", portfolio.portfolio_choice, name="portfolio_choice"),
    # Resumable uploads into the portfolio (docs/uploads.md); /portfolio/ itself is the portfolio page.
    path("portfolio/upload/", uploads.portfolio_upload, name="portfolio_upload"),
    path("portfolio/uploads/", uploads.portfolio_upload_create, name="portfolio_upload_create"),
    path("portfolio/uploads/<uuid:key>/", uploads.portfolio_upload_detail, name="portfolio_upload_detail"),
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
    path("requests/<reference:reference>/works/one/", works.work_upload_one, name="work_upload_one"),
    path("requests/<reference:reference>/reply/", decisions.request_reply, name="request_reply"),
    path("search/", search.public_search, name="public_search"),
    path("disputes/new/", disputes.dispute_new, name="dispute_new"),
    path("disputes/confirm/<str:token>/", disputes.dispute_confirm, name="dispute_confirm"),
    path(
        "requests/<reference:reference>/disputes/<dispute:dispute_id>/",
        disputes.request_dispute,
        name="request_dispute",
    ),
    path("transparency/", transparency.transparency, name="transparency"),
    path("transparency/report.json", transparency.transparency_json, name="transparency_json"),
    path("transparency/report.csv", transparency.transparency_csv, name="transparency_csv"),
    path("account/", accounts.account, name="account"),
    path("account/export.json", accounts.account_export, name="account_export"),
    path("account/delete/", accounts.account_delete, name="account_delete"),
    path("account/name/", accounts.account_name, name="account_name"),
    path("identity/", identity.identity, name="identity"),
    path("identity/proofs/new/", identity.identity_proof_new, name="identity_proof_new"),
    path("identity/proofs/<id:proof_id>/", identity.identity_proof, name="identity_proof"),
    path(
        "identity/proofs/<id:proof_id>/check/",
        identity.identity_proof_check,
        name="identity_proof_check",
    ),
    path(
        "identity/proofs/<id:proof_id>/delete/",
        identity.identity_proof_delete,
        name="identity_proof_delete",
    ),
    path("identity/proofs/<id:proof_id>/signals/", site_signals.site_signals_page, name="site_signals"),
    path(
        "identity/proofs/<id:proof_id>/signals/fetch/",
        site_signals.site_signals_fetch,
        name="site_signals_fetch",
    ),
    path(
        "identity/proofs/<id:proof_id>/publish/",
        site_signals.site_signals_publish,
        name="site_signals_publish",
    ),
    path(
        "identity/proofs/<id:proof_id>/document/",
        identity.identity_document,
        name="identity_document",
    ),
]
