"""requests_app.summary: a big request's figures on the desk, exact on a built request, in a
bounded number of queries whatever its size."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services as registry_services
from requests_app import summary
from requests_app.models import HashState, Match, MatchConfidence, MatchState, RequestConflict, Work
from tests.helpers import big_request, verify_domain


def _build(artist, maintainer):
    org = maintainer.maintainer
    a = registry_services.dataset_create(maintainer=org, slug="a", name="Alpha")
    b = registry_services.dataset_create(maintainer=org, slug="b", name="Beta")
    ticket = big_request(artist, [a, b], works=60, per_work=4, submit=False)
    works = list(ticket.works.order_by("pk"))
    # Hash quality: 3 failed, 2 pending, PDQ quality set by hand on all.
    Work.objects.filter(pk__in=[w.pk for w in works[:3]]).update(hash_state=HashState.FAILED)
    Work.objects.filter(pk__in=[w.pk for w in works[3:5]]).update(hash_state=HashState.PENDING)
    Work.objects.filter(request=ticket).update(pdq_quality=None)
    Work.objects.filter(pk__in=[w.pk for w in works[:10]]).update(pdq_quality=30)
    Work.objects.filter(pk__in=[w.pk for w in works[10:25]]).update(pdq_quality=90)
    matches = Match.objects.filter(work__request=ticket)
    # States: of 240 matches, 20 excluded and 10 suggested (all in Alpha); 5 medium-confidence in Beta.
    alpha = list(matches.filter(item__dataset=a).order_by("pk").values_list("pk", flat=True))
    beta = list(matches.filter(item__dataset=b).order_by("pk").values_list("pk", flat=True))
    Match.objects.filter(pk__in=alpha[:20]).update(state=MatchState.EXCLUDED)
    Match.objects.filter(pk__in=alpha[20:30]).update(state=MatchState.SUGGESTED)
    Match.objects.filter(pk__in=beta[:5]).update(confidence=MatchConfidence.MEDIUM)
    # URLs: the artist verified img.example; 6 claimed copies in Beta move elsewhere, 4 to hosts
    # that only look like it, 2 to subdomains (which count).
    urls = {
        beta[5]: "https://elsewhere.example/x.jpg",
        beta[6]: "https://img.example.evil.example/x.jpg",
        beta[7]: "https://evil.example/img.example/x.jpg",
        beta[8]: "http://notimg.example/x.jpg",
        beta[9]: "https://cdn.img.example/x.jpg",
        beta[10]: "https://WWW.IMG.EXAMPLE:8443/x.jpg",
    }
    for match_id, url in urls.items():
        item = Match.objects.get(pk=match_id).item
        item.url = url
        item.save(update_fields=["url"])
    verify_domain(artist, "img.example")
    return ticket, a, b, works


def test_the_figures_are_exact(artist, maintainer):
    ticket, _a, _b, _works = _build(artist, maintainer)
    figures = summary.for_request(ticket)
    assert (figures.works, figures.hashed, figures.failed, figures.pending) == (60, 55, 3, 2)
    assert [count for _label, count in figures.pdq] == [35, 10, 15]
    alpha, beta = figures.datasets
    assert (alpha.name, alpha.maintainer, alpha.matches, alpha.works) == ("Alpha", "LAION-ish", 120, 60)
    assert alpha.by_state == {MatchState.EXCLUDED: 20, MatchState.SUGGESTED: 10, MatchState.CONFIRMED: 90}
    assert beta.by_state == {MatchState.CONFIRMED: 120}
    assert beta.by_confidence == {MatchConfidence.HIGH: 115, MatchConfidence.MEDIUM: 5}
    assert dict(beta.states())[str(MatchState.APPROVED.label)] == 0
    assert figures.matches == 240 and figures.claimed == 210
    # 4 of the 6 moved URLs are off the domain: everything else is under img.example.
    assert figures.matches_on_domain == 236 and figures.claimed_on_domain == 206
    assert figures.claimed_share == 206 * 100 // 210 and figures.domains == ["img.example"]
    assert figures.conflicts == [] and figures.held == 0


def test_conflicts_list_the_works_they_touch(artist, other_artist, maintainer):
    ticket, a, _b, works = _build(artist, maintainer)
    RequestConflict.objects.create(
        first=ticket,
        second=big_request(other_artist, [a], works=2, per_work=1, submit=False),
        pairs=[
            {"work": works[7].pk, "other_work": 1, "kind": "sha256", "distance": 0},
            {"work": works[8].pk, "other_work": 2, "kind": "phash", "distance": 3},
        ],
    )
    # A draft conflicts with nobody: the other side must be claiming.
    other = RequestConflict.objects.get().second
    other.status = "submitted"
    other.save(update_fields=["status"])
    [touch] = summary.for_request(ticket).conflicts
    assert touch.works == 2 and touch.names == [works[7].original_name, works[8].original_name]
    assert touch.other == other and touch.conflict.is_open


def test_it_costs_the_same_queries_at_any_size(artist, maintainer):
    ticket, a, b, _works = _build(artist, maintainer)
    small = big_request(artist, [a, b], works=3, per_work=1, submit=False)
    with CaptureQueriesContext(connection) as big_queries:
        summary.for_request(ticket)
    with CaptureQueriesContext(connection) as small_queries:
        summary.for_request(small)
    assert len(big_queries) == len(small_queries) <= 8


def test_a_request_is_big_above_the_setting(artist, maintainer, settings):
    a = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="Alpha")
    ticket = big_request(artist, [a], works=5, per_work=1, submit=False)
    settings.DESK_BIG_REQUEST_WORKS = 5
    assert not summary.is_big(ticket)
    settings.DESK_BIG_REQUEST_WORKS = 4
    assert summary.is_big(ticket)
