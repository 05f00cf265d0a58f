"""Every state change on the registry side, by topic. Views, admin, commands and tasks call these.

Callers use the package (`from registry import services;
services.removals_record(...)`); the topic modules are where each one is
written.
"""

from .datasets import MAX_ITEMS_PER_BATCH, UpsertResult, clean_item_row, dataset_create, items_upsert
from .delivery import (
    deliveries_claim_due,
    deliveries_due,
    deliveries_release,
    deliveries_send_due,
    delivery_attempt,
    delivery_redeliver,
    removals_mark_delivered,
)
from .domains import OptOutsRecorded, domain_optouts_record, domain_optouts_revoke, optouts_match_written
from .grants import GrantSelection, licence_grants_record, licence_grants_revoke
from .imports import (
    STALE_AFTER,
    ImportBusy,
    import_claim,
    import_create,
    import_requeue,
    import_run,
    imports_stale,
)
from .maintainers import (
    api_key_authenticate,
    api_key_create,
    api_key_hash,
    api_key_revoke,
    hashed_key_new,
    hashed_key_revoke,
    live_key_find,
    maintainer_create,
    maintainer_update,
)
from .rematch import dataset_rematch, items_rematch, source_rematch
from .removals import (
    AckResult,
    ItemQuery,
    RecordSummary,
    RemovalEntry,
    RemovalQuery,
    removals_acknowledge,
    removals_record,
    removals_record_many,
    removals_revoke,
    removals_write,
    revoked_reason_problem,
)
from .webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_disable,
    webhook_endpoint_enable,
    webhook_live_secrets,
    webhook_secret_rotate,
)

__all__ = [
    "MAX_ITEMS_PER_BATCH",
    "STALE_AFTER",
    "AckResult",
    "GrantSelection",
    "ImportBusy",
    "ItemQuery",
    "OptOutsRecorded",
    "RecordSummary",
    "RemovalEntry",
    "RemovalQuery",
    "UpsertResult",
    "api_key_authenticate",
    "api_key_create",
    "api_key_hash",
    "api_key_revoke",
    "clean_item_row",
    "dataset_create",
    "dataset_rematch",
    "deliveries_claim_due",
    "deliveries_due",
    "deliveries_release",
    "deliveries_send_due",
    "delivery_attempt",
    "delivery_redeliver",
    "domain_optouts_record",
    "domain_optouts_revoke",
    "hashed_key_new",
    "hashed_key_revoke",
    "import_claim",
    "import_create",
    "import_requeue",
    "import_run",
    "imports_stale",
    "items_rematch",
    "items_upsert",
    "licence_grants_record",
    "licence_grants_revoke",
    "live_key_find",
    "maintainer_create",
    "maintainer_update",
    "optouts_match_written",
    "removals_acknowledge",
    "removals_mark_delivered",
    "removals_record",
    "removals_record_many",
    "removals_revoke",
    "removals_write",
    "revoked_reason_problem",
    "source_rematch",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_disable",
    "webhook_endpoint_enable",
    "webhook_live_secrets",
    "webhook_secret_rotate",
]
