"""The upstream side: artists, their proofs and works, and removal requests (tickets).

One module per subject: `identity` (artists, proofs, site signals), `requests` (tickets, their
scope lines and timeline), `works` (works, uploads, matches), `conflicts` (ownership conflicts).
"""

from __future__ import annotations

# Re-exported: every model and choice of the app is read as requests_app.models.<Name>.
from .conflicts import (  # noqa: F401
    ConflictResolution,
    PartnerConflict,
    PartnerConflictResolution,
    RequestConflict,
)
from .identity import (  # noqa: F401
    AUTOMATIC_METHODS,
    DOMAIN_METHODS,
    ArtistProfile,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    SiteSignals,
    VerificationLevel,
)
from .requests import (  # noqa: F401
    PUBLIC_EVENT_KINDS,
    ConsentFields,
    EventKind,
    Priority,
    RemovalRequest,
    RequestScope,
    TicketEvent,
)
from .works import (  # noqa: F401
    HashState,
    Match,
    MatchConfidence,
    MatchState,
    PortfolioUpload,
    UploadState,
    Work,
    WorkDecision,
)
