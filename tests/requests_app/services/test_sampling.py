"""requests_app.services.sampling: a seeded random sample of a big request's works, recorded on the
internal timeline with its size, seed, works and moderator, reproducible from that row."""

from __future__ import annotations

import pytest

from registry import services as registry_services
from requests_app import selectors, services
from requests_app.models import EventKind, TicketEvent
from requests_app.services.sampling import sample_ids
from tests.helpers import big_request


@pytest.fixture
def big(artist, maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="Alpha")
    return big_request(artist, [dataset], works=120, per_work=1)


def test_a_sample_is_recorded_and_reproducible(big, moderator, second_moderator):
    drawn = services.request_sample_draw(ticket=big, moderator=moderator, size=20)
    assert drawn.kind == EventKind.SAMPLE and not drawn.is_public and drawn.actor == moderator
    params = drawn.params
    ids = params["works"]
    assert params["size"] == 20 == len(set(ids)) and params["total"] == 120
    assert set(ids) <= set(big.works.values_list("pk", flat=True)) and ids == sorted(ids)
    # Anyone can redo it from the row: same works, same seed, same sample.
    again = services.request_sample_draw(ticket=big, moderator=second_moderator, size=20, seed=params["seed"])
    assert again.params["works"] == ids
    assert sample_ids(list(big.works.values_list("pk", flat=True)), size=20, seed=params["seed"]) == ids
    other_seed = services.request_sample_draw(
        ticket=big, moderator=moderator, size=20, seed=(params["seed"] + 1) % 2**31
    )
    assert other_seed.params["works"] != ids
    assert selectors.latest_sample(big) == other_seed
    assert "Sample of 20 works of 120" in other_seed.message


def test_sizes_and_seeds_are_checked(big, moderator, settings):
    settings.DESK_SAMPLE_MAX = 100
    for size in (0, 101):
        with pytest.raises(services.ActionRefused, match="from 1 to 100"):
            services.request_sample_draw(ticket=big, moderator=moderator, size=size)
    with pytest.raises(services.ActionRefused, match="whole number"):
        services.request_sample_draw(ticket=big, moderator=moderator, size=5, seed=2**31)
    assert not TicketEvent.objects.filter(kind=EventKind.SAMPLE).exists()
    settings.DESK_SAMPLE_MAX = 500
    everything = services.request_sample_draw(ticket=big, moderator=moderator, size=500)
    assert everything.params["size"] == 120  # a sample larger than the request is all of it


def test_a_review_keeps_what_was_checked_and_doubted(big, moderator, artist, other_artist, maintainer):
    drawn = services.request_sample_draw(ticket=big, moderator=moderator, size=10, seed=7)
    ids = drawn.params["works"]
    review = services.request_sample_review(
        ticket=big, moderator=moderator, sample=drawn, checked=ids[:8], doubtful=ids[8:]
    )
    assert review.params == {
        "text": "sample_reviewed",
        "sample": drawn.pk,
        "seed": 7,
        "checked": ids[:8],
        "doubtful": ids[8:],
    }
    assert "8 checked, 2 doubtful" in review.message
    assert selectors.latest_sample(big) == drawn  # a review is not a new sample
    outside = big.works.exclude(pk__in=ids).first().pk
    with pytest.raises(services.ActionRefused, match="only works of the sample"):
        services.request_sample_review(
            ticket=big, moderator=moderator, sample=drawn, checked=[outside], doubtful=[]
        )
    with pytest.raises(services.ActionRefused, match="not both"):
        services.request_sample_review(
            ticket=big, moderator=moderator, sample=drawn, checked=ids[:1], doubtful=ids[:1]
        )
    with pytest.raises(services.ActionRefused, match="at least one"):
        services.request_sample_review(ticket=big, moderator=moderator, sample=drawn, checked=[], doubtful=[])
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="z", name="Z")
    elsewhere = big_request(other_artist, [dataset], works=3, per_work=1)
    with pytest.raises(services.ActionRefused, match="not one of this request"):
        services.request_sample_review(
            ticket=elsewhere, moderator=moderator, sample=drawn, checked=ids[:1], doubtful=[]
        )
    assert TicketEvent.objects.filter(params__text="sample_reviewed").count() == 1
