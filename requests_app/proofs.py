"""Checkers for identity proofs: does the token sit where the artist said it would?

Each checker takes a proof and returns a CheckResult; none changes state
(services.proof_check records the result). They talk to the outside world:
DNS through dnspython (the nameserver from settings.PROOF_DNS_NAMESERVER,
else the system resolver), HTTP only through core.outbound.get, which
refuses private addresses and never follows redirects.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

from core import outbound

from .models import IdentityProof, ProofMethod

TOKEN_PREFIX = "rdv-"  # noqa: S105  (a visible prefix, not a secret)
TXT_PREFIX = "removal-desk-verification="
META_NAME = "removal-desk-verification"
WELL_KNOWN_PATH = "/.well-known/removal-desk.txt"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str  # for the artist: what was found, or what to fix
    evidence: dict[str, Any] = field(default_factory=dict)
    # The check could not be made (the DNS resolver was unreachable or failed): it says nothing
    # about the proof, so the proof's status and failure count stay as they were.
    inconclusive: bool = False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_hex(16)


# --- targets ------------------------------------------------------------------


def normalize_domain(text: str) -> str:
    """A host name the artist controls: "Example.com", "https://example.com/x" -> "example.com".

    A port is kept (it only ever appears in tests and development); IP
    addresses are refused: a domain proof for an address proves nothing
    about a name.
    """
    raw = text.strip().lower()
    if not raw:
        raise ValueError(_("Enter a domain name, such as example.com."))
    parts = urlsplit(raw if "//" in raw else "//" + raw)
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(_("The port in this address is not valid.")) from None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise ValueError(_("Enter a domain name, not an IP address."))
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(_not_a_domain(text)) from None
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(_not_a_domain(text))
    return f"{host}:{port}" if port else host


def _not_a_domain(text: str) -> str:
    return _("%(text)s is not a valid domain name.") % {"text": repr(text.strip())}


def normalize_profile_url(text: str) -> str:
    url = text.strip()
    parts = urlsplit(url)
    allowed = ("https",) if settings.PROOF_FETCH_SCHEME == "https" else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise ValueError(_("Enter the full address of your profile page, starting with https://."))
    if len(url) > 500:
        raise ValueError(_("This address is too long."))
    return url


def normalize_site(text: str) -> str:
    """The target of a DNS, file or meta tag proof: a domain, or a URL with nothing after the host.

    A URL with a path ("https://www.instagram.com/nora") names one page, not a domain the artist
    controls: taking its host would start a proof for the whole of instagram.com.
    """
    raw = text.strip()
    parts = urlsplit(raw if "//" in raw else "//" + raw)
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(
            _(
                "%(text)s looks like a profile page, not a domain: use the profile link-back method "
                "for it, or enter just a domain you control, such as example.com."
            )
            % {"text": repr(raw)}
        )
    return normalize_domain(raw)


def normalize_target(method: str, text: str) -> str:
    if method == ProofMethod.PROFILE_LINK:
        return normalize_profile_url(text)
    return normalize_site(text)


def domain_of(proof: IdentityProof) -> str:
    """The host name a domain proof covers (no port), or "" for other methods."""
    if proof.method not in (ProofMethod.DNS_TXT, ProofMethod.WELL_KNOWN, ProofMethod.META_TAG):
        return ""
    return proof.target.split(":", 1)[0]


def well_known_url(proof: IdentityProof) -> str:
    return f"{settings.PROOF_FETCH_SCHEME}://{proof.target}{WELL_KNOWN_PATH}"


def home_url(proof: IdentityProof) -> str:
    return f"{settings.PROOF_FETCH_SCHEME}://{proof.target}/"


# --- the checks ---------------------------------------------------------------


def check(proof: IdentityProof) -> CheckResult:
    checkers: dict[str, Callable[[IdentityProof], CheckResult]] = {
        ProofMethod.DNS_TXT: check_dns_txt,
        ProofMethod.WELL_KNOWN: check_well_known,
        ProofMethod.META_TAG: check_meta_tag,
        ProofMethod.PROFILE_LINK: check_profile_link,
    }
    checker = checkers.get(proof.method)
    if checker is None:
        return CheckResult(False, _("This kind of proof is not checked automatically."))
    return checker(proof)


def _resolver() -> dns.resolver.Resolver:
    nameserver = settings.PROOF_DNS_NAMESERVER
    resolver = dns.resolver.Resolver(configure=not nameserver)
    if nameserver:
        host, _sep, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        resolver.nameservers = [host or nameserver]
        resolver.port = int(port) if port else 53
    resolver.timeout = resolver.lifetime = float(settings.PROOF_CHECK_TIMEOUT_SECONDS)
    return resolver


def _unreachable(name: str, why: str) -> CheckResult:
    return CheckResult(
        False,
        _(
            "We could not reach the DNS resolver to look up %(name)s (%(why)s). This says nothing about "
            "your record; try again later."
        )
        % {"name": name, "why": why},
        {"name": name, "resolver_error": why},
        inconclusive=True,
    )


def _resolver_sees_public_dns(resolver: dns.resolver.Resolver, name: str) -> bool:
    """After an NXDOMAIN: does the resolver know the name's top-level domain, or at least the root?

    A resolver cut off from the internet (a captive or offline network, a sandbox) may answer
    NXDOMAIN for every name; a name does not exist only if its parent zones do.
    """
    tld = name.rstrip(".").rsplit(".", 1)[-1] + "."
    for zone, kind in ((tld, "SOA"), (".", "NS")):
        try:
            resolver.resolve(zone, kind, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            continue
        except dns.exception.DNSException:
            return False
        return True
    return False


def check_dns_txt(proof: IdentityProof) -> CheckResult:
    name = domain_of(proof)
    expected = TXT_PREFIX + proof.token
    resolver = _resolver()
    try:
        answer = resolver.resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        if not _resolver_sees_public_dns(resolver, name):
            return _unreachable(name, _("it says that not even the top-level domain exists"))
        return CheckResult(
            False,
            _("The domain %(name)s does not exist in DNS. Check its spelling.") % {"name": name},
            {"name": name},
        )
    except dns.exception.Timeout:
        return _unreachable(name, _("no answer in time"))
    except dns.resolver.NoNameservers:
        return _unreachable(name, _("it failed to answer: SERVFAIL or refused"))
    except dns.exception.DNSException as exc:
        return _unreachable(name, exc.__class__.__name__)
    records = []
    for rdata in answer.rrset or []:
        records.append(b"".join(rdata.strings).decode("utf-8", "replace"))
    evidence = {"name": name, "records": records[:20]}
    if expected in records:
        return CheckResult(True, _("Found the TXT record on %(name)s.") % {"name": name}, evidence)
    if not records:
        return CheckResult(
            False,
            _("%(name)s has no TXT records yet. DNS changes can take an hour.") % {"name": name},
            evidence,
        )
    return CheckResult(
        False,
        _("%(name)s has TXT records, but none is %(expected)s. Check for a typo or old token.")
        % {"name": name, "expected": expected},
        evidence,
    )


def _fetch(url: str) -> tuple[outbound.OutboundResponse | None, str]:
    try:
        response = outbound.get(
            url, timeout=settings.PROOF_CHECK_TIMEOUT_SECONDS, max_bytes=settings.PROOF_FETCH_MAX_BYTES
        )
    except outbound.OutboundRefused as exc:
        return None, _("We cannot fetch %(url)s: %(error)s") % {"url": url, "error": exc}
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        return None, _("%(url)s did not answer within %(seconds)s seconds.") % {
            "url": url,
            "seconds": settings.PROOF_CHECK_TIMEOUT_SECONDS,
        }
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return None, _("We could not connect to %(url)s (%(error)s).") % {
            "url": url,
            "error": exc.__class__.__name__,
        }
    if 300 <= response.status < 400:
        where = response.headers.get("location") or _("another address")
        return None, _(
            "%(url)s redirects to %(where)s; we do not follow redirects. Put it at %(url)s itself."
        ) % {
            "url": url,
            "where": where,
        }
    if response.status != 200:
        return None, _("%(url)s answered with HTTP %(status)s, not 200.") % {
            "url": url,
            "status": response.status,
        }
    return response, ""


def _charset(response: outbound.OutboundResponse) -> str:
    match = re.search(r"charset=([\w-]+)", response.headers.get("content-type", ""))
    return match.group(1) if match else "utf-8"


def _text(response: outbound.OutboundResponse) -> str:
    try:
        return response.body.decode(_charset(response), "replace")
    except LookupError:
        return response.body.decode("utf-8", "replace")


def check_well_known(proof: IdentityProof) -> CheckResult:
    url = well_known_url(proof)
    response, error = _fetch(url)
    if response is None:
        return CheckResult(False, error, {"url": url})
    lines = [line.strip() for line in _text(response).splitlines()]
    evidence = {"url": url, "status": response.status, "bytes": len(response.body)}
    if proof.token in lines:
        return CheckResult(True, _("Found the token in %(url)s.") % {"url": url}, evidence)
    return CheckResult(
        False, _("%(url)s does not contain the token on a line of its own.") % {"url": url}, evidence
    )


class _PageReader(HTMLParser):
    """Collects a page's visible text and its meta tags; script and style are not text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.meta: list[tuple[str, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        elif tag == "meta":
            values = {k.lower(): (v or "") for k, v in attrs}
            name = values.get("name") or values.get("property") or ""
            self.meta.append((name.lower(), values.get("content", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def _read_page(response: outbound.OutboundResponse) -> _PageReader:
    reader = _PageReader()
    reader.feed(_text(response))
    reader.close()
    return reader


def check_meta_tag(proof: IdentityProof) -> CheckResult:
    url = home_url(proof)
    response, error = _fetch(url)
    if response is None:
        return CheckResult(False, error, {"url": url})
    page = _read_page(response)
    contents = [content.strip() for name, content in page.meta if name == META_NAME]
    evidence = {"url": url, "status": response.status, "meta_found": len(contents)}
    if proof.token in contents:
        return CheckResult(True, _("Found the meta tag on %(url)s.") % {"url": url}, evidence)
    if contents:
        return CheckResult(
            False,
            _("%(url)s has a %(meta)s meta tag, but with another token.") % {"url": url, "meta": META_NAME},
            evidence,
        )
    return CheckResult(
        False,
        _("%(url)s has no %(meta)s meta tag in the page we received.") % {"url": url, "meta": META_NAME},
        evidence,
    )


def check_profile_link(proof: IdentityProof) -> CheckResult:
    """The token in the profile's text (its bio)."""
    return profile_token_check(proof.target, proof.token)


def profile_token_check(url: str, token: str) -> CheckResult:
    """Whether `token` is in the text of the profile page at `url` (an identity proof's, or a
    partner's creator claiming their account). Meta descriptions count too: many profile pages
    render the bio with JavaScript and carry it, server-side, only in og:description."""
    response, error = _fetch(url)
    if response is None:
        return CheckResult(False, error, {"url": url})
    page = _read_page(response)
    text = " ".join(page.text)
    in_text = token in text
    in_meta = any(token in content for name, content in page.meta if "description" in name)
    evidence = {"url": url, "status": response.status, "where": "text" if in_text else "meta description"}
    if in_text or in_meta:
        return CheckResult(True, _("Found the token on %(url)s.") % {"url": url}, evidence)
    return CheckResult(
        False,
        _("The token is not in the text of %(url)s. Save your bio, and check that the page is public.")
        % {"url": url},
        {"url": url, "status": response.status},
    )
