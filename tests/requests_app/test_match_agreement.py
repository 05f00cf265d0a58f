"""What a suggestion says to the artist, on the public search and at the desk: which hashes
agreed, how close each is, how sure; never "identical" on one hash's word."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from requests_app import services
from requests_app.models import Match
from tests.helpers import hashes_row, image_bytes, logged_in, photo, photo_bytes


def register(dataset, external_id, image, *, only_phash=False):
    h = compute_hashes(image_bytes(image, "JPEG", quality=80), max_pixels=10**8)
    row = {
        "external_id": external_id,
        "url": f"https://img.example/{external_id}.jpg",
        "phash": code_to_hex(h.phash),
    }
    if not only_phash:
        row |= {"dhash": code_to_hex(h.dhash), "pdq": pdq_to_hex(h.pdq)}
    assert not registry_services.items_upsert(dataset=dataset, rows=[row]).rejected


def test_the_artist_sees_which_hashes_agreed_how_close_and_how_sure(artist, maintainer, moderator):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="Demo Set")
    cat = photo("chelsea.png").convert("RGB")
    register(dataset, "resized", cat.resize((cat.width // 2, cat.height // 2)))
    register(dataset, "mirrored", cat.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))]
    ).works
    assert services.work_hash_and_match(work_id=work.pk) == "done"
    matches = {m.item.external_id: m for m in Match.objects.select_related("item")}
    assert set(matches) == {"resized", "mirrored"}
    resized, mirrored = matches["resized"], matches["mirrored"]
    assert {s["hash"] for s in resized.signals} == {"phash", "dhash", "pdq"}
    assert resized.confidence == "high" and resized.view == "original"
    assert (mirrored.algorithm, mirrored.view, mirrored.confidence) == ("phash-turned", "mirrored", "high")

    client = logged_in(artist.user)
    content = client.get(reverse("request_detail", args=[ticket.reference])).content.decode()
    assert "Distance 0 means identical" not in content
    assert resized.agreement in content and mirrored.agreement in content
    assert "PDQ" in resized.agreement and "of 256 bits differ" in resized.agreement  # half size: PDQ moves
    for s in resized.signals:
        name = {"phash": "pHash", "dhash": "dHash", "pdq": "PDQ"}[s["hash"]]
        assert f"{name} {s['distance']} of {s['bits']} bits differ" in content
    assert content.count("Very likely the same picture") == 2
    assert "the copy is mirrored" in content

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    french = client.get(reverse("request_detail", args=[ticket.reference])).content.decode()
    assert "Concordance" in french and "Très probablement la même image" in french
    assert "la copie est en miroir" in french
    s = resized.signals[0]
    name = {"phash": "pHash", "dhash": "dHash", "pdq": "PDQ"}[s["hash"]]
    assert f"{name} : {s['distance']} bits sur {s['bits']} diffèrent" in french

    desk = logged_in(moderator).get(reverse("admin:requests_app_removalrequest_change", args=[ticket.pk]))
    assert desk.status_code == 200
    text = desk.content.decode()
    assert "Agreement" in text and "Very likely the same picture" in text and "found by phash-turned" in text
    assert resized.agreement in text


def test_identical_only_when_every_hash_compared_says_so_and_one_hash_says_low_confidence(artist, maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="Demo Set")
    h = compute_hashes(photo_bytes("coffee.png"), max_pixels=10**8)
    registry_services.items_upsert(
        dataset=dataset,
        rows=[hashes_row("same", h, url="https://img.example/same.png")],
    )
    register(dataset, "phash-only", photo("coffee.png").convert("RGB").resize((200, 133)), only_phash=True)
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("coffee.png", photo_bytes("coffee.png"))]
    ).works
    services.work_hash_and_match(work_id=work.pk)
    matches = {m.item.external_id: m for m in Match.objects.select_related("item")}
    assert matches["same"].agreement == "identical by every hash compared (pHash, dHash, PDQ)"
    only = matches["phash-only"]
    assert only.confidence == "low" and [s["hash"] for s in only.signals] == ["phash"]
    content = logged_in(artist.user).get(reverse("request_detail", args=[ticket.reference])).content.decode()
    assert "Possibly the same picture: only one hash could be compared" in content
    assert "identical by every hash compared (pHash, dHash, PDQ)" in content


def test_the_public_search_says_which_hashes_agreed(client, maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="Demo Set")
    cat = photo("chelsea.png").convert("RGB")
    register(
        dataset, "turned", cat.resize((cat.width // 2, cat.height // 2)).transpose(Image.Transpose.ROTATE_90)
    )
    response = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))}
    )
    content = response.content.decode()
    assert "img.example/turned.jpg" in content
    assert "Very likely the same picture" in content and "of 256 bits differ" in content
    assert "Distance 0 means identical" not in content
