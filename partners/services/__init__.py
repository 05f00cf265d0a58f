"""Every state change on the partners' side, by topic. Admin, API views and tasks call these."""

from .approval import (
    CHUNK,
    STALE_AFTER,
    filing_claim,
    filing_decide_chunk,
    filing_run,
    filings_stale,
    rows_removals_record,
)
from .audit import partner_action_record
from .conflicts import rows_conflicts
from .desk import (
    DeskError,
    DeskResult,
    rows_approve,
    rows_decline,
    rows_image_retry,
    sample_fail,
    sample_rows_mark,
)
from .evidence import desk_evidence, desk_rows_refresh, filings_evidence_missing
from .filings import (
    MAX_ROWS_PER_FILING,
    FilingRefused,
    FilingResult,
    RowError,
    Served,
    clean_filing_row,
    filing_create,
    filing_enqueue,
    row_key,
)
from .images import image_fetch, images_prepare
from .keys import PARTNER_KEY_PREFIX, partner_key_authenticate, partner_key_create, partner_key_revoke
from .matching import rows_match
from .partners import (
    AGREEMENT_FIELDS,
    PartnerError,
    filing_policy_update,
    partner_create,
    partner_domain_add,
    partner_domain_check,
    partner_domain_remove,
    partner_domain_verify,
    partner_reinstate,
    partner_suspend,
    partner_update,
)
from .sampling import SampleError, filing_sample_fail, filing_sample_hold, filing_sample_pass

__all__ = [
    "AGREEMENT_FIELDS",
    "CHUNK",
    "MAX_ROWS_PER_FILING",
    "PARTNER_KEY_PREFIX",
    "STALE_AFTER",
    "DeskError",
    "DeskResult",
    "FilingRefused",
    "FilingResult",
    "PartnerError",
    "RowError",
    "SampleError",
    "Served",
    "clean_filing_row",
    "desk_evidence",
    "desk_rows_refresh",
    "filing_claim",
    "filing_create",
    "filing_decide_chunk",
    "filing_enqueue",
    "filing_policy_update",
    "filing_run",
    "filing_sample_fail",
    "filing_sample_hold",
    "filing_sample_pass",
    "filings_evidence_missing",
    "filings_stale",
    "image_fetch",
    "images_prepare",
    "partner_action_record",
    "partner_create",
    "partner_domain_add",
    "partner_domain_check",
    "partner_domain_remove",
    "partner_domain_verify",
    "partner_key_authenticate",
    "partner_key_create",
    "partner_key_revoke",
    "partner_reinstate",
    "partner_suspend",
    "partner_update",
    "row_key",
    "rows_approve",
    "rows_conflicts",
    "rows_decline",
    "rows_image_retry",
    "rows_match",
    "rows_removals_record",
    "sample_fail",
    "sample_rows_mark",
]
