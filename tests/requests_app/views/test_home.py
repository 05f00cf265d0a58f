"""The public home page."""

from __future__ import annotations

from django.urls import reverse

from registry import services as registry_services
from registry.models import Removal, RemovalState


def test_it_explains_and_invites_to_sign_up(client, db):
    response = client.get(reverse("home"))
    content = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in content
    assert 'name="viewport"' in content
    assert 'href="#main"' in content
    assert "perceptual hash" in content
    assert f'href="{reverse("signup")}"' in content
    assert f'href="{reverse("login")}"' in content
    assert "No data set is registered yet." in content


def test_it_lists_the_data_sets_and_live_totals(client, maintainer):
    big = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="big", name="Big Set")
    registry_services.dataset_create(maintainer=maintainer.maintainer, slug="small", name="Small Set")
    registry_services.items_upsert(
        dataset=big,
        rows=[{"external_id": str(i), "url": f"https://img.example/{i}.jpg"} for i in range(3)],
    )
    removals = registry_services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[registry_services.RemovalEntry(dataset=big, item=item) for item in big.items.all()],
    )
    registry_services.removals_acknowledge(dataset=big, ids=[removals[0].public_id])
    assert Removal.objects.filter(state=RemovalState.ACKNOWLEDGED).count() == 1

    content = client.get(reverse("home")).content.decode()

    assert "Big Set" in content and "Small Set" in content and "LAION-ish" in content
    assert '<td class="num">3</td>' in content
    assert '<dd data-figure="recorded">3</dd>' in content
    assert '<dd data-figure="acknowledged">1</dd>' in content


def test_it_offers_the_artist_their_requests_when_logged_in(client, artist):
    client.force_login(artist.user)
    content = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("request_new")}"' in content
    assert "Log out" in content


def test_it_caches_the_figures_so_a_visit_does_not_count_millions_of_items(
    client, maintainer, django_assert_num_queries
):
    from registry import services as registry_services

    registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="Counted once")
    assert "Counted once" in client.get("/").content.decode()
    with django_assert_num_queries(0):
        assert "Counted once" in client.get("/").content.decode()
