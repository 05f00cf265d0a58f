"""Every state change on the upstream side: artists, works, matches, tickets.

Each function is keyword-only, runs in one transaction, and writes the
TicketEvent row that records it. Views, admin actions and tasks call
these; they never change state themselves.

The functions live in one module per topic; this package re-exports them, so
`from requests_app import services; services.request_submit(...)` reads as before.
"""

from ..models import IdentityProof as IdentityProof  # tasks look proofs up through here
from ._ticket import ActionRefused
from ._ticket import _event as _event  # tests write timeline rows directly
from .accounts import ANONYMISED_NAME, AccountDeleted, account_delete, account_export
from .artists import (
    EMAIL_TOKEN_MAX_AGE,
    EMAIL_TOKEN_SALT,
    artist_signup,
    email_is_verified,
    email_verification_link,
    email_verification_send,
    email_verify,
    profile_recompute_level,
    profile_remember_language,
    profile_rename,
)
from .completion import (
    REMOVAL_CONFIRMED_MESSAGE,
    hashing_due,
    rematch_due,
    request_complete_if_acknowledged,
    request_copies_found,
    request_rematch,
)
from .conflicts import conflict_resolve, conflicts_detect
from .domains import (
    DOMAIN_METHODS,
    ScopeCheck,
    domain_request_create,
    proof_covering,
    scope_lines_check,
    scopes_still_proved,
    verified_domain_proofs,
)
from .moderation import (
    ARTIST_REPLY_MAX,
    request_approve,
    request_artist_reply,
    request_ask_info,
    request_assign,
    request_note_add,
    request_reject,
    request_start_review,
    sla_escalate,
    sla_state,
)
from .portfolio import (
    SelectionMoved,
    portfolio_request_start,
    portfolio_works_add,
    portfolio_works_remove,
)
from .proofs import (
    DOCUMENT_SIGNATURES,
    proof_check,
    proof_delete,
    proof_document_read,
    proof_document_review,
    proof_document_upload,
    proof_documents_purge,
    proof_record_demo,
    proof_start,
    proofs_expire,
    proofs_recheck_due,
)
from .sampling import request_sample_draw, request_sample_review
from .site_signals import site_signals_fetch
from .submission import (
    STATEMENT_TEXT,
    account_names,
    matches_decide,
    request_create,
    request_submit,
    request_withdraw,
    signature_check,
    signature_key,
    statement_text,
)
from .works import (
    ZIP_IMAGE_EXTENSIONS,
    ZIP_MAX_TOTAL_UNCOMPRESSED,
    FileError,
    WorksAdded,
    work_hash,
    work_hash_and_match,
    work_match,
    works_add,
    works_add_zip,
    zip_members_check,
)

__all__ = [
    "ANONYMISED_NAME",
    "ARTIST_REPLY_MAX",
    "DOCUMENT_SIGNATURES",
    "DOMAIN_METHODS",
    "EMAIL_TOKEN_MAX_AGE",
    "EMAIL_TOKEN_SALT",
    "REMOVAL_CONFIRMED_MESSAGE",
    "STATEMENT_TEXT",
    "ZIP_IMAGE_EXTENSIONS",
    "ZIP_MAX_TOTAL_UNCOMPRESSED",
    "AccountDeleted",
    "ActionRefused",
    "FileError",
    "ScopeCheck",
    "SelectionMoved",
    "WorksAdded",
    "account_delete",
    "account_export",
    "account_names",
    "artist_signup",
    "conflict_resolve",
    "conflicts_detect",
    "domain_request_create",
    "email_is_verified",
    "email_verification_link",
    "email_verification_send",
    "email_verify",
    "hashing_due",
    "matches_decide",
    "portfolio_request_start",
    "portfolio_works_add",
    "portfolio_works_remove",
    "profile_recompute_level",
    "profile_remember_language",
    "profile_rename",
    "proof_check",
    "proof_covering",
    "proof_delete",
    "proof_document_read",
    "proof_document_review",
    "proof_document_upload",
    "proof_documents_purge",
    "proof_record_demo",
    "proof_start",
    "proofs_expire",
    "proofs_recheck_due",
    "rematch_due",
    "request_approve",
    "request_artist_reply",
    "request_ask_info",
    "request_assign",
    "request_complete_if_acknowledged",
    "request_copies_found",
    "request_create",
    "request_note_add",
    "request_reject",
    "request_rematch",
    "request_sample_draw",
    "request_sample_review",
    "request_start_review",
    "request_submit",
    "request_withdraw",
    "scope_lines_check",
    "scopes_still_proved",
    "signature_check",
    "signature_key",
    "site_signals_fetch",
    "sla_escalate",
    "sla_state",
    "statement_text",
    "verified_domain_proofs",
    "work_hash",
    "work_hash_and_match",
    "work_match",
    "works_add",
    "works_add_zip",
    "zip_members_check",
]
