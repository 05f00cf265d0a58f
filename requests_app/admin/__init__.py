"""The moderators' admin, by area: the queue (queue.py) and its filters (filters.py), the desk
where one request is judged (desk.py), what can be decided (decisions.py), and read-only views
of the records around requests (records.py). Importing the package registers them all."""

from .decisions import DECISIONS, MODERATE_PERMISSION, Decision
from .desk import RemovalRequestAdmin
from .records import ArtistProfileAdmin, IdentityProofAdmin, MatchAdmin, TicketEventAdmin, WorkAdmin

__all__ = [
    "DECISIONS",
    "MODERATE_PERMISSION",
    "ArtistProfileAdmin",
    "Decision",
    "IdentityProofAdmin",
    "MatchAdmin",
    "RemovalRequestAdmin",
    "TicketEventAdmin",
    "WorkAdmin",
]
