"""The page "What your site already says": the owner only, a clear refusal for a domain that is
not verified, the files as read, and the link that opens a domain request with their scope."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from django.urls import reverse

from requests_app.models import IdentityProof, ProofMethod, ProofStatus, SiteSignals
from requests_app.views.site_signals import LINK_MAX_CHARS, domain_request_url
from tests.helpers import french_client, logged_in, messages_of

DOMAIN_REQUEST_PATH = "/requests/new/domain/"  # the domain request page's address

ROBOTS = b"User-agent: *\nDisallow: /\n\nUser-agent: Google-Extended\nDisallow: /art/\nAllow: /art/free/\n"


def page(proof):
    return reverse("site_signals", args=[proof.pk])


def test_the_owner_reads_their_site_and_gets_a_domain_request_link(artist, verified_site):
    proof, site = verified_site
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, ROBOTS)
    site.pages["/.well-known/tdmrep.json"] = (200, {"Content-Type": "application/json"}, b"{}")
    client = logged_in(artist.user)
    before = client.get(page(proof))
    assert before.status_code == 200 and "never" in before.content.decode()
    assert "Read my site" in before.content.decode()
    response = client.post(reverse("site_signals_fetch", args=[proof.pk]))
    assert response.status_code == 302 and response["Location"] == page(proof)
    shown = client.get(page(proof))
    html = shown.content.decode()
    assert messages_of(shown) == ["We read your site again; here is what it says."]
    assert "localhost/art/" in html and "found" in html and "not found" in html and "malformed" in html
    assert "robots.txt line 2: rules for every crawler (User-agent: *) are about crawling" in html
    assert "robots.txt line 6: /art/free/ is allowed again" in html
    assert "tdmrep.json line 1: the file must be a JSON array of rules" in html
    link = shown.context["domain_request_url"]
    assert shown.context["carried"] == 1
    parts = urlsplit(link)
    assert parts.path == DOMAIN_REQUEST_PATH and parse_qs(parts.query) == {"scope": ["localhost/art/"]}
    assert link.replace("&", "&amp;") in html
    # the proof's own page leads here
    assert page(proof) in client.get(reverse("identity_proof", args=[proof.pk])).content.decode()


def test_another_artist_and_anonymous_visitors_see_nothing(artist, other_artist, verified_site):
    proof, _site = verified_site
    other = logged_in(other_artist.user)
    assert other.get(page(proof)).status_code == 404
    assert other.post(reverse("site_signals_fetch", args=[proof.pk])).status_code == 404
    anonymous = Client().get(page(proof))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert Client().post(reverse("site_signals_fetch", args=[proof.pk])).status_code == 302
    assert not SiteSignals.objects.exists()


def test_a_domain_that_is_not_verified_gets_a_clear_refusal(artist, site, signals_settings):
    proof = IdentityProof.objects.create(
        artist=artist, method=ProofMethod.DNS_TXT, target=site.domain, status=ProofStatus.PENDING
    )
    client = logged_in(artist.user)
    response = client.get(page(proof))
    assert response.status_code == 403
    html = response.content.decode()
    assert f"{site.domain} is not verified (this proof is pending)" in html and "Read my site" not in html
    refused = client.post(reverse("site_signals_fetch", args=[proof.pk]))
    assert refused.status_code == 403 and site.hits == [] and not SiteSignals.objects.exists()
    assert page(proof) not in client.get(reverse("identity_proof", args=[proof.pk])).content.decode()


def test_a_refused_read_is_said_on_the_page(artist, verified_site, signals_settings):
    signals_settings.SITE_SIGNALS_MIN_SECONDS = 60
    proof, _site = verified_site
    client = logged_in(artist.user)
    client.post(reverse("site_signals_fetch", args=[proof.pk]))
    again = client.post(reverse("site_signals_fetch", args=[proof.pk]), follow=True)
    assert any("wait 60 seconds" in m for m in messages_of(again))


def test_nothing_reserved_offers_no_scope(artist, verified_site):
    proof, site = verified_site
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n")
    client = logged_in(artist.user)
    client.post(reverse("site_signals_fetch", args=[proof.pk]))
    html = client.get(page(proof)).content.decode()
    assert "Nothing in these files reserves AI training" in html and DOMAIN_REQUEST_PATH not in html


def test_the_page_in_french(artist, verified_site):
    proof, site = verified_site
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: CCBot\nDisallow: /\n")
    client = french_client(artist)
    client.post(reverse("site_signals_fetch", args=[proof.pk]))
    html = client.get(page(proof)).content.decode()
    assert "Ce que votre site dit déjà" in html
    assert "En faire le périmètre d\u2019une demande de domaine" in html
    assert "trouvé" in html and "introuvable" in html


def test_domain_request_url():
    assert domain_request_url([]) == (DOMAIN_REQUEST_PATH, 0)
    assert domain_request_url(["a.example", "a.example/x y/"]) == (
        f"{DOMAIN_REQUEST_PATH}?scope=a.example&scope=a.example%2Fx+y%2F",
        2,
    )
    long_lines = [f"a.example/{'p' * 900}/{n}/" for n in range(100)]
    link, carried = domain_request_url(long_lines)
    assert len(link) <= LINK_MAX_CHARS and carried == 8
    assert parse_qs(urlsplit(link).query)["scope"] == long_lines[:8]


def test_a_site_that_reserves_hundreds_of_places(artist, verified_site):
    proof, site = verified_site
    rules = "".join(f"Disallow: /series/{n}/\n" for n in range(150))
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, f"User-agent: GPTBot\n{rules}".encode())
    client = logged_in(artist.user)
    client.post(reverse("site_signals_fetch", args=[proof.pk]))
    record = SiteSignals.objects.get()
    assert (len(record.scope), record.scope_total) == (100, 150)
    assert record.files["robots"]["more_scope"] == 0  # 150 fit in a file's record; 100 in the link
    response = client.get(page(proof))
    html = response.content.decode()
    assert "These files reserve 150 places; the link below carries the first 100." in html
    assert "a domain request for the whole of localhost may serve you better" in html
    assert response.context["carried"] == 100


def publish_page(proof, **query):
    return reverse("site_signals_publish", args=[proof.pk]) + ("?" + urlencode(query) if query else "")


def test_what_the_publish_page_writes_is_what_the_site_is_then_read_to_say(artist, verified_site):
    proof, site = verified_site
    client = logged_in(artist.user)
    shown = client.get(publish_page(proof, preference="search-only", path="/portfolio/"))
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "Content-Usage: /portfolio/ train-ai=n, search=y" in html and "tdm-reservation" in html
    files = {}
    for name, address in (
        ("robots.txt", "/robots.txt"),
        ("ai.txt", "/ai.txt"),
        ("tdmrep.json", "/.well-known/tdmrep.json"),
    ):
        download = client.get(
            publish_page(proof, preference="search-only", path="/portfolio/", download=name)
        )
        assert (
            download.status_code == 200
            and download["Content-Disposition"] == f'attachment; filename="{name}"'
        )
        files[name] = download.content
        site.pages[address] = (200, {"Content-Type": download["Content-Type"]}, download.content)
    assert files["robots.txt"].decode() in html.replace("&#x27;", "'")
    # The site publishes them; the real fetch reads each as reserving exactly /portfolio/.
    client.post(reverse("site_signals_fetch", args=[proof.pk]))
    record = SiteSignals.objects.get()
    host = site.domain.split(":", 1)[0]  # scopes name hosts without their port
    assert record.scope == [f"{host}/portfolio/"]
    assert {key: [line["scope"] for line in data["scope"]] for key, data in record.files.items()} == {
        key: [f"{host}/portfolio/"] for key in ("robots", "ai_txt", "tdmrep")
    }
    assert publish_page(proof) in client.get(reverse("identity_proof", args=[proof.pk])).content.decode()


def test_the_publish_page_refuses_what_it_cannot_write_and_other_people(
    artist, other_artist, verified_site, site
):
    proof, _site = verified_site
    client = logged_in(artist.user)
    bad = client.get(publish_page(proof, path="/a\nDisallow: /", download="robots.txt"))
    assert bad.status_code == 400 and "Content-Disposition" not in bad
    assert "The path must start with / and be a plain folder prefix" in bad.content.decode()
    # Bytes that are not UTF-8 arrive as U+FFFD (Django's decoding): written, percent-encoded.
    mangled = client.get(reverse("site_signals_publish", args=[proof.pk]) + "?path=/%ED%A0%80/")
    assert mangled.status_code == 200
    assert "Disallow: /%EF%BF%BD%EF%BF%BD%EF%BF%BD/" in mangled.content.decode()
    # A path too long is refused and shown back whole, so the artist can shorten what they typed.
    long_path = "/portfolio/" + "a" * 1500 + "/"
    too_long = client.get(publish_page(proof, path=long_path))
    assert too_long.status_code == 400 and f'value="{long_path}"' in too_long.content.decode()
    # An unknown choice is the default one, not an error.
    assert "train-ai=n" in client.get(publish_page(proof, preference="<script>")).content.decode()
    assert logged_in(other_artist.user).get(publish_page(proof)).status_code == 404
    anonymous = Client().get(publish_page(proof))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    pending = IdentityProof.objects.create(
        artist=artist, method=ProofMethod.DNS_TXT, target="pending.example", status=ProofStatus.PENDING
    )
    refused = client.get(publish_page(pending, download="robots.txt"))
    assert refused.status_code == 403 and "is not verified" in refused.content.decode()


def test_the_publish_page_in_french(artist, verified_site):
    proof, _site = verified_site
    html = french_client(artist).get(publish_page(proof)).content.decode()
    assert "Ce qu\u2019il faut publier sur votre site" in html
    assert "Réserver à l\u2019écart de l\u2019entraînement" in html
