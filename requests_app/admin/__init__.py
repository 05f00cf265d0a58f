"""The moderators' admin, by area: the queue (queue.py) and its filters (filters.py), the desk
where one request is judged (desk.py),
the dispute desk (disputes.py), what can be decided (decisions.py), read-only views of
the records around requests (records.py), and people's accounts (accounts.py). Importing the
package registers them all."""

from .accounts import GroupAdmin, UserAdmin
from .decisions import DECISIONS, MODERATE_PERMISSION, Decision
from .desk import RemovalRequestAdmin
from .disputes import DisputeAdmin
from .records import ArtistProfileAdmin, IdentityProofAdmin, MatchAdmin, TicketEventAdmin, WorkAdmin

__all__ = [
    "DECISIONS",
    "MODERATE_PERMISSION",
    "ArtistProfileAdmin",
    "Decision",
    "DisputeAdmin",
    "GroupAdmin",
    "IdentityProofAdmin",
    "MatchAdmin",
    "RemovalRequestAdmin",
    "TicketEventAdmin",
    "UserAdmin",
    "WorkAdmin",
]
