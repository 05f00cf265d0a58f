"""An operator setting a partner up in the Django admin, one step a method: the partner and its
attestation, its domain, verified, its policy, a key shown once. The same forms in the same order
for the test that sends them through Django's test client (tests/partners/test_admin.py) and the
journey that sends them over HTTP to a live server (tests/e2e/test_partner_journey.py); each
brings its own client behind `AdminPages`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from partners.models import Partner, PartnerDomain

PARTNERS = "/admin/partners/partner/"
DOMAINS = "/admin/partners/partnerdomain/"
PARTNER_FORM = {
    "name": "Gallery",
    "slug": "gallery",
    "contact_email": "legal@gallery.example",
    "agreement_ref": "AG-2026-14",
    "agreement_date": "2026-11-30",
    "attestation_text": "We hold the written instruction of every creator we file for.",
    "domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0",
    "keys-TOTAL_FORMS": "0", "keys-INITIAL_FORMS": "0",
}  # fmt: skip
DOMAIN = "*.Gallery.Example"  # as an operator may type it: stored as gallery.example with its subdomains


class AdminPages(Protocol):
    """An operator's session in the admin, whatever client carries it."""

    def send(self, path: str, data: dict[str, Any]) -> str:
        """Post a form that is accepted (the admin redirects); the page it redirects to."""

    def read(self, path: str) -> str:
        """The page at `path`."""


class ClientPages:
    """AdminPages through Django's test client, logged in."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, path: str, data: dict[str, Any]) -> str:
        response = self.client.post(path, data, follow=True)
        assert response.redirect_chain and response.status_code == 200, response.content[:2000]
        return str(response.content.decode())

    def read(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return str(response.content.decode())


class BrowserPages:
    """AdminPages over HTTP: a tests.e2e.test_removal_flow.Browser logged in to a live server."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser

    def send(self, path: str, data: dict[str, Any]) -> str:
        response = self.browser.submit(path, data)
        assert response.history, response.text[:2000]  # redirected: not the form again, with errors
        return str(response.text)

    def read(self, path: str) -> str:
        return str(self.browser.page(path).text)


@dataclass
class PartnerSetUp:
    """The operator's steps, in the order `all_steps` takes them."""

    pages: AdminPages

    def add_partner(self) -> Partner:
        self.pages.send(f"{PARTNERS}add/", PARTNER_FORM)
        return Partner.objects.get(slug=PARTNER_FORM["slug"])

    def add_domain(self, partner: Partner) -> PartnerDomain:
        self.pages.send(f"{DOMAINS}add/", {"partner": partner.pk, "host": DOMAIN, "include_subdomains": ""})
        return PartnerDomain.objects.get(partner=partner)

    def verify_domain(self, domain: PartnerDomain) -> None:
        """Ticked in the domain list, as the operator finds it there."""
        assert f'name="_selected_action" value="{domain.pk}"' in self.pages.read(DOMAINS)
        self.pages.send(DOMAINS, {"action": "verify", "_selected_action": [domain.pk]})
        domain.refresh_from_db()

    def set_policy(self, partner: Partner, *, sample_size: int) -> None:
        self.pages.send(
            f"/admin/partners/filingpolicy/{partner.policy.pk}/change/",
            {"auto_approve_verified_hashed": "on", "sample_size": str(sample_size)},
        )

    def create_key(self, partner: Partner) -> str:
        """The raw key from the page that shows it, which the partner's page does not show again."""
        shown = self.pages.send(PARTNERS, {"action": "create_key", "_selected_action": [partner.pk]})
        key = re.search(rf"New partner key for {re.escape(partner.name)}: (rdp_\S+) \.", shown)
        assert key, shown[:3000]
        assert key.group(1) not in self.pages.read(f"{PARTNERS}{partner.pk}/change/")  # shown once
        return key.group(1)

    def all_steps(self, *, sample_size: int) -> tuple[Partner, str]:
        partner = self.add_partner()
        self.verify_domain(self.add_domain(partner))
        self.set_policy(partner, sample_size=sample_size)
        key = self.create_key(partner)
        partner.refresh_from_db()
        return partner, key
