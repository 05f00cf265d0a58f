"""What an uploaded file says about AI training (registry.provenance), read from real files: C2PA
manifests signed here with c2pa-python (a test CA and signer made by tests.helpers), and IPTC
plus:DataMining in an XMP packet written by Pillow; then kept through a real upload and shown to
moderators, while the stored work carries none of it."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from registry.hashing import sanitize
from registry.provenance import read_embedded
from requests_app import services
from tests.helpers import c2pa_signed, logged_in, photo_bytes

NOT_ALLOWED = {
    "cawg.ai_training": {"use": "notAllowed"},
    "cawg.ai_generative_training": {"use": "notAllowed"},
}
PLUS = "http://ns.useplus.org/ldf/vocab/"


def jpeg(**save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), (180, 40, 40)).save(out, "JPEG", **save)
    return out.getvalue()


def xmp(value: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
        f'plus:DataMining="{value}"/></rdf:RDF></x:xmpmeta>'
    ).encode()


def test_a_signed_c2pa_assertion_is_read_with_its_signer_and_trust():
    said = read_embedded(c2pa_signed(jpeg(), "image/jpeg", NOT_ALLOWED), "JPEG")
    assert said["train_ai"] == "disallowed"
    c2pa = said["c2pa"]
    assert c2pa["entries"] == {
        "cawg.ai_training": {"use": "notAllowed"},
        "cawg.ai_generative_training": {"use": "notAllowed"},
    }
    assert c2pa["signed_by"] == "Test signer" and c2pa["train_ai"] == "disallowed"
    # Our test CA is in no trust list: the manifest is read and said to be untrusted.
    assert "signingCredential.untrusted" in c2pa["problems"]


def test_allowed_constrained_and_png():
    png = photo_bytes("coffee.png")
    allowed = read_embedded(c2pa_signed(png, "image/png", {"cawg.ai_training": {"use": "allowed"}}), "PNG")
    assert allowed["train_ai"] == "allowed"
    constrained = {
        "cawg.ai_training": {"use": "constrained", "constraint_info": "licence needed: mail me"},
        "cawg.ai_inference": {"use": "allowed"},
    }
    said = read_embedded(c2pa_signed(png, "image/png", constrained), "PNG")
    assert said["train_ai"] == "unknown"  # a constraint is neither a yes nor a no
    assert said["c2pa"]["entries"]["cawg.ai_training"]["constraint"] == "licence needed: mail me"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PLUS + "DMI-PROHIBITED-AIMLTRAINING", "disallowed"),
        (PLUS + "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING", "disallowed"),
        (PLUS + "DMI-ALLOWED", "allowed"),
        (PLUS + "DMI-UNSPECIFIED", "unknown"),
    ],
)
def test_iptc_plus_data_mining(value, expected):
    said = read_embedded(jpeg(xmp=xmp(value)), "JPEG")
    assert said == {"iptc": {"data_mining": value, "train_ai": expected}, "train_ai": expected}


def test_disallow_wins_when_the_file_says_both():
    signed = c2pa_signed(
        jpeg(xmp=xmp(PLUS + "DMI-PROHIBITED")), "image/jpeg", {"cawg.ai_training": {"use": "allowed"}}
    )
    said = read_embedded(signed, "JPEG")
    assert said["c2pa"]["train_ai"] == "allowed" and said["iptc"]["train_ai"] == "disallowed"
    assert said["train_ai"] == "disallowed"


def test_a_file_that_says_nothing_says_nothing():
    assert read_embedded(jpeg(), "JPEG") == {} and read_embedded(photo_bytes("coffee.png"), "PNG") == {}


def test_a_damaged_manifest_is_recorded_as_unreadable_and_the_image_still_goes_through():
    signed = bytearray(c2pa_signed(jpeg(), "image/jpeg", NOT_ALLOWED))
    at = signed.find(b"cawg.training-mining")
    signed[at : at + 200] = b"\xff" * 200  # inside the manifest's boxes
    clean = sanitize(bytes(signed), max_pixels=10_000_000)
    assert clean.embedded["train_ai"] == "unknown"
    assert clean.embedded["c2pa"]["error"].startswith("the C2PA manifest could not be read: ")
    assert b"c2pa" not in clean.content


def test_hostile_xmp_and_many_entries_stay_bounded():
    # An entity bomb is text to a scan: nothing is expanded.
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + xmp("&b;\x00<script>")
    )
    assert read_embedded(jpeg(xmp=bomb), "JPEG") == {}  # no value outside markup: nothing said
    odd = read_embedded(jpeg(xmp=xmp("DMI-\x00PROHIBITED\u202e")), "JPEG")
    assert odd["iptc"]["data_mining"] == "DMI-PROHIBITED"  # control characters dropped, then read
    entries = {f"cawg.custom_{i}": {"use": "allowed"} for i in range(100)} | NOT_ALLOWED
    many = read_embedded(c2pa_signed(jpeg(), "image/jpeg", entries), "JPEG")
    assert len(many["c2pa"]["entries"]) <= 16


@pytest.mark.django_db
def test_an_upload_keeps_what_the_file_said_strips_it_and_shows_it_to_moderators(client, artist, moderator):
    ticket = services.request_create(artist=artist, basis="copyright")
    signed = c2pa_signed(photo_bytes("chelsea.png", "JPEG"), "image/jpeg", NOT_ALLOWED)
    client.force_login(artist.user)
    response = client.post(
        reverse("request_upload", args=[ticket.reference]),
        {"works": [SimpleUploadedFile("cat.jpg", signed, content_type="image/jpeg")]},
        follow=True,
    )
    assert response.status_code == 200
    [work] = ticket.works.all()
    assert work.embedded_signals["train_ai"] == "disallowed"
    assert work.embedded_signals["c2pa"]["signed_by"] == "Test signer"
    with work.file.open("rb") as stored:
        assert b"c2pa" not in stored.read()  # the manifest went with the rest of the metadata
    page = logged_in(moderator).get(reverse("admin:requests_app_removalrequest_change", args=[ticket.pk]))
    html = page.content.decode()
    assert "file says: AI training disallowed" in html
    assert "signed by Test signer" in html and "cawg.ai_training notAllowed" in html
