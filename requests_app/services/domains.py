"""Domain requests: an artist who proved a domain asks for everything under it to be removed.

A scope line is `example.com` (that host), `*.example.com` (with its subdomains) or
`example.com/portfolio/` (under a path prefix); each must lie within a domain the artist
verified by DNS TXT, a well-known file or a meta tag (a profile link or an email proves no
domain). Approval (moderation.request_approve) records a registry rule per line, each under the
request's choice (remove, search only, or a licence: registry.services.domains).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.hosts import Scope, ScopeError, normalise_host, parse_scope
from registry.preferences import ConsentError, consent_clean

from ..models import (
    ArtistProfile,
    EventKind,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    RequestScope,
)
from ..proofs import domain_of
from ..workflow import Status
from ._ticket import ActionRefused, _event, _locked, _owned
from .submission import request_create

DOMAIN_METHODS = (ProofMethod.DNS_TXT, ProofMethod.WELL_KNOWN, ProofMethod.META_TAG)
MAX_SCOPE_LINES = 50


def verified_domain_proofs(artist: ArtistProfile) -> list[IdentityProof]:
    """The artist's verified, unexpired domain proofs (DNS TXT, well-known file, meta tag)."""
    now = timezone.now()
    return list(
        IdentityProof.objects.filter(artist=artist, method__in=DOMAIN_METHODS, status=ProofStatus.VERIFIED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("target", "pk")
    )


def _proof_domain(proof: IdentityProof) -> str:
    return normalise_host(domain_of(proof))


def proof_covering(scope: Scope, proofs: Iterable[IdentityProof]) -> IdentityProof | None:
    """The proof whose domain holds the scope's host (itself or a subdomain of it), if any.

    `*.example.com` needs `example.com` itself proved: a proof of `www.example.com` does not
    speak for its siblings.
    """
    for proof in proofs:
        domain = _proof_domain(proof)
        if domain and (scope.host == domain or scope.host.endswith("." + domain)):
            return proof
    return None


@dataclass
class ScopeCheck:
    accepted: list[tuple[Scope, IdentityProof]]
    errors: list[str]


def scope_lines_check(*, artist: ArtistProfile, lines: Sequence[str]) -> ScopeCheck:
    """Read scope lines (blank ones skipped) and check each against the artist's verified domains."""
    proofs = verified_domain_proofs(artist)
    check = ScopeCheck(accepted=[], errors=[])
    written = [line.strip() for line in lines if line.strip()]
    if len(written) > MAX_SCOPE_LINES:
        check.errors.append(_("Give at most %(limit)d scope lines.") % {"limit": MAX_SCOPE_LINES})
        return check
    seen: set[Scope] = set()
    verified = ", ".join(_proof_domain(p) for p in proofs) or _("none yet")
    for number, line in enumerate(written, start=1):
        try:
            scope = parse_scope(line)
        except ScopeError as exc:
            check.errors.append(
                _("Line %(number)d (%(line)s): %(problem)s")
                % {"number": number, "line": line[:100], "problem": str(exc)}
            )
            continue
        proof = proof_covering(scope, proofs)
        if proof is None:
            check.errors.append(
                _(
                    "Line %(number)d: %(host)s is not one of your verified domains (%(verified)s). "
                    "Prove it on your identity page with a DNS record, a file or a meta tag first."
                )
                % {"number": number, "host": scope.host, "verified": verified}
            )
            continue
        if scope not in seen:
            seen.add(scope)
            check.accepted.append((scope, proof))
    if not written:
        check.errors.append(_("Write at least one domain, such as example.com or *.example.com."))
    return check


def scope_of(row: RequestScope) -> Scope:
    return Scope(host=row.host, include_subdomains=row.include_subdomains, path_prefix=row.path_prefix)


@transaction.atomic
def domain_request_create(
    *,
    artist: ArtistProfile,
    basis: str,
    lines: Sequence[str],
    description: str = "",
    choice: str = "",
    licence: str = "",
    licence_url: str = "",
    attribution: str = "",
) -> RemovalRequest:
    """A draft request whose scope is these lines, under `choice` (and its licence), checked as a
    work's choice is; no choice: the portfolio's default. Refused whole (nothing written) if any
    line is, or the choice is, with the field at fault."""
    consent = None
    if choice:
        try:
            consent = consent_clean(
                choice=choice, licence=licence, licence_url=licence_url, attribution=attribution
            )
        except ConsentError as exc:
            raise ActionRefused(exc.message, field=exc.field) from None
    check = scope_lines_check(artist=artist, lines=lines)
    if check.errors:
        raise ActionRefused(" ".join(check.errors), field="scope")
    ticket = request_create(artist=artist, basis=basis, description=description)
    if consent is not None and consent != ticket.consent():
        ticket.choice, ticket.licence = consent.choice, consent.licence
        ticket.licence_url, ticket.attribution = consent.licence_url, consent.attribution
        ticket.save(update_fields=["choice", "licence", "licence_url", "attribution"])
    _scopes_write(ticket, check.accepted)
    _event(
        ticket,
        kind=EventKind.WORKS,
        actor=artist.user,
        params={"text": "scopes_set", "lines": [str(scope) for scope, _proof in check.accepted]},
    )
    return ticket


def _scopes_write(ticket: RemovalRequest, accepted: Sequence[tuple[Scope, IdentityProof]]) -> None:
    RequestScope.objects.bulk_create(
        RequestScope(
            request=ticket,
            host=scope.host,
            include_subdomains=scope.include_subdomains,
            path_prefix=scope.path_prefix,
            proof=proof,
        )
        for scope, proof in accepted
    )


@transaction.atomic
def request_scopes_set(*, ticket: RemovalRequest, actor: User, lines: Sequence[str]) -> RemovalRequest:
    """Replace a draft domain request's scope lines, each checked again against the artist's
    verified domains now; refused whole (the old lines kept) if any line is. Once submitted, the
    moderators decide on the lines as sent, so only a draft changes."""
    ticket = _locked(ticket)
    _owned(ticket, actor)
    if ticket.status != Status.DRAFT:
        raise ActionRefused(
            _("%(reference)s is %(status)s; its domains can be changed only while it is a draft.")
            % {
                "reference": ticket.reference or _("This request"),
                "status": str(ticket.get_status_display()).lower(),
            }
        )
    old = [str(scope_of(row)) for row in ticket.scopes.order_by("pk")]
    if not old:
        raise ActionRefused(
            _("This request is not a domain request; start one from “A whole domain: remove or licence”.")
        )
    check = scope_lines_check(artist=ticket.artist, lines=lines)
    if check.errors:
        raise ActionRefused(" ".join(check.errors), field="scope")
    new = [str(scope) for scope, _proof in check.accepted]
    if new == old:
        return ticket
    ticket.scopes.all().delete()
    _scopes_write(ticket, check.accepted)
    _event(ticket, kind=EventKind.WORKS, actor=actor, params={"text": "scopes_set", "lines": new, "old": old})
    return ticket


def scopes_still_proved(ticket: RemovalRequest) -> list[Scope]:
    """The ticket's scopes, each still within a verified domain of its artist; raises ActionRefused
    naming the first that is not (a proof lapsed or was deleted since the line was accepted)."""
    rows = list(ticket.scopes.all())
    if not rows:
        return []
    proofs = verified_domain_proofs(ticket.artist)
    scopes = []
    for row in rows:
        scope = scope_of(row)
        if proof_covering(scope, proofs) is None:
            raise ActionRefused(
                _("%(reference)s: the proof of %(host)s is no longer verified; ask the artist to renew it.")
                % {"reference": ticket.reference, "host": scope.host}
            )
        scopes.append(scope)
    return scopes
