"""What registry tells the upstream side, without importing it.

Each sends `source_refs`: the set of source references whose removals changed.
"""

from django.dispatch import Signal

removals_acknowledged = Signal()
# Sent with the source references that got new removals by re-matching.
removals_rematched = Signal()
# Sent with `grants`: {source reference: {data set id: how many}}, the licence grants re-matching
# extended to later copies, so a request's timeline says so (as it does for removals).
grants_rematched = Signal()
# Sent with the source references some of whose removals were revoked.
removals_revoked = Signal()
# A dispute about a removal changed: `dispute`, `what` ("opened", "answered", "due", "decided")
# and `message` (its DisputeMessage). Sent inside the change's transaction: receivers write their
# audit rows (a ticket's timeline) in it and send their emails on commit.
dispute_changed = Signal()
