"""Domain requests: scope lines checked against the artist's verified domains, submitted without
works, approved into registry rules whose removals the timeline counts per data set."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from registry import services as registry_services
from registry.models import DomainOptOut, Removal
from requests_app import services
from requests_app.models import EventKind, IdentityProof, ProofMethod, ProofStatus, RequestScope
from requests_app.workflow import Status
from tests.helpers import verify_domain


def _proof(artist, method: str, target: str, **extra) -> IdentityProof:
    return IdentityProof.objects.create(
        artist=artist, method=method, target=target, status=ProofStatus.VERIFIED, **extra
    )


def test_each_line_is_checked_against_the_verified_domains(artist):
    verify_domain(artist, "artist.example")
    check = services.scope_lines_check(
        artist=artist,
        lines=["artist.example", "*.artist.example", "shop.artist.example/art/", "", "other.example", "a*b"],
    )
    assert [str(scope) for scope, _proof in check.accepted] == [
        "artist.example",
        "*.artist.example",
        "shop.artist.example/art/",
    ]
    assert len(check.errors) == 2
    assert "other.example is not one of your verified domains (artist.example)" in check.errors[0]
    assert "wildcard only at the start" in check.errors[1]


@pytest.mark.parametrize(
    ("method", "status", "expired"),
    [
        (ProofMethod.PROFILE_LINK, ProofStatus.VERIFIED, False),  # proves a profile, not a domain
        (ProofMethod.EMAIL, ProofStatus.VERIFIED, False),
        (ProofMethod.DNS_TXT, ProofStatus.PENDING, False),
        (ProofMethod.DNS_TXT, ProofStatus.FAILED, False),
        (ProofMethod.WELL_KNOWN, ProofStatus.VERIFIED, True),
    ],
)
def test_an_unverified_domain_is_refused_and_nothing_is_written(artist, method, status, expired):
    IdentityProof.objects.create(
        artist=artist,
        method=method,
        target="artist.example",
        status=status,
        expires_at=timezone.now() - timedelta(days=1) if expired else None,
    )
    with pytest.raises(services.ActionRefused, match=r"artist\.example is not one of your verified domains"):
        services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    assert not artist.requests.exists() and not RequestScope.objects.exists()


def test_a_proof_of_a_subdomain_does_not_cover_its_parent_or_siblings(artist):
    _proof(artist, ProofMethod.META_TAG, "www.artist.example")
    check = services.scope_lines_check(
        artist=artist, lines=["www.artist.example/p/", "*.artist.example", "shop.artist.example"]
    )
    assert [str(s) for s, _p in check.accepted] == ["www.artist.example/p/"]
    assert len(check.errors) == 2


def test_a_domain_request_is_submitted_and_approved_into_rules(artist, moderator, maintainer):
    verify_domain(artist, "artist.example")
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    registry_services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "1", "url": "https://artist.example/1.jpg"},
            {"external_id": "2", "url": "https://img.artist.example/2.jpg"},
            {"external_id": "3", "url": "https://elsewhere.example/3.jpg"},
        ],
    )
    ticket = services.domain_request_create(
        artist=artist, basis="copyright", lines=["*.artist.example", "*.artist.example"]
    )
    assert [str(s) for s in ticket.scopes.all()] == ["*.artist.example"]
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    assert set(Removal.objects.filter(source_ref=ticket.reference).values_list("external_id", flat=True)) == {
        "1",
        "2",
    }
    rule = DomainOptOut.objects.get(source_ref=ticket.reference)
    assert rule.include_subdomains and rule.reason == "copyright"
    row = ticket.events.filter(kind=EventKind.REMOVALS, params__text="domain_removals").get()
    assert row.params["scopes"] == [{"scope": "*.artist.example", "datasets": {"D (LAION-ish)": 2}}]
    assert "Everything under *.artist.example is opted out: 2 registered items removed" in row.message
    # Items imported after approval join the same request.
    registry_services.items_upsert(
        dataset=dataset, rows=[{"external_id": "4", "url": "https://artist.example/4"}]
    )
    assert Removal.objects.filter(source_ref=ticket.reference).count() == 3


def test_approval_is_refused_when_the_proof_lapsed_since(artist, moderator):
    proof = _proof(artist, ProofMethod.DNS_TXT, "artist.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    IdentityProof.objects.filter(pk=proof.pk).update(status=ProofStatus.EXPIRED)
    with pytest.raises(services.ActionRefused, match=r"proof of artist\.example is no longer verified"):
        services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED and not DomainOptOut.objects.exists()


def test_a_draft_domain_requests_lines_are_replaced_when_all_check_out(artist, other_artist):
    verify_domain(artist, "artist.example")
    verify_domain(artist, "studio.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    services.request_scopes_set(
        ticket=ticket,
        actor=artist.user,
        lines=["*.artist.example", "studio.example/art/", "*.artist.example"],
    )
    rows = list(ticket.scopes.order_by("pk"))
    assert [str(services.scope_of(row)) for row in rows] == ["*.artist.example", "studio.example/art/"]
    assert {row.proof.target for row in rows} == {"artist.example", "studio.example"}
    [changed] = ticket.events.filter(params__text="scopes_set", params__old__isnull=False)
    assert changed.params["old"] == ["artist.example"]
    assert changed.params["lines"] == ["*.artist.example", "studio.example/art/"]
    assert changed.actor == artist.user

    # A line outside the verified domains refuses the whole change: the lines stay as they were.
    with pytest.raises(services.ActionRefused, match=r"stranger\.example is not one of your verified"):
        services.request_scopes_set(
            ticket=ticket, actor=artist.user, lines=["artist.example", "stranger.example"]
        )
    with pytest.raises(services.ActionRefused, match="Write at least one domain"):
        services.request_scopes_set(ticket=ticket, actor=artist.user, lines=["", "  "])
    assert RequestScope.objects.filter(request=ticket).count() == 2
    # The same lines again change nothing and write no row.
    events = ticket.events.count()
    services.request_scopes_set(
        ticket=ticket, actor=artist.user, lines=["*.artist.example", "studio.example/art/"]
    )
    assert ticket.events.count() == events
    # Another artist cannot change them, even naming their own verified domain.
    verify_domain(other_artist, "grace.example")
    with pytest.raises(services.ActionRefused):
        services.request_scopes_set(ticket=ticket, actor=other_artist.user, lines=["grace.example"])
    assert RequestScope.objects.filter(request=ticket).count() == 2


def test_the_lines_are_checked_against_the_proofs_as_they_are_now(artist):
    verify_domain(artist, "artist.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    IdentityProof.objects.filter(artist=artist).update(expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(services.ActionRefused, match=r"artist\.example is not one of your verified domains"):
        services.request_scopes_set(ticket=ticket, actor=artist.user, lines=["artist.example/art/"])
    assert [str(services.scope_of(row)) for row in ticket.scopes.all()] == ["artist.example"]


def test_only_a_draft_domain_request_changes_its_lines(artist):
    verify_domain(artist, "artist.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    with pytest.raises(services.ActionRefused, match="only while it is a draft"):
        services.request_scopes_set(ticket=ticket, actor=artist.user, lines=["*.artist.example"])
    works_request = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="not a domain request"):
        services.request_scopes_set(ticket=works_request, actor=artist.user, lines=["artist.example"])
    assert not works_request.scopes.exists()
    assert [str(services.scope_of(row)) for row in ticket.scopes.all()] == ["artist.example"]
