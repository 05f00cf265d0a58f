"""Every state change on the upstream side (moved to _ticket.py; split by topic next)."""

from ._ticket import *  # noqa: F403
from ._ticket import IdentityProof as IdentityProof
from ._ticket import _event as _event
