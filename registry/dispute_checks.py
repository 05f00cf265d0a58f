"""What a dispute's parts must be (the statement, its links, an evidence file), checked in one place.

Each `*_problem` returns "" when the value is fine, or a sentence (in the active language) that
says what to change. The public page, the artist's answer, the desk and the API all call these,
so a value refused in one place is refused everywhere, with the same words.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.text import text_problem

STATEMENT_MIN_LENGTH = 20
STATEMENT_MAX_LENGTH = 5000
DECISION_MAX_LENGTH = 400  # it leads the removal's revoked_reason (500), after "Dispute dp_...: "
MAX_LINKS = 10
LINK_MAX_LENGTH = 2000
# Tags, comments and entities: evidence is plain text (it is shown to moderators, mailed, and
# answered by the API); a lone "<" or "&" in prose ("a < b", "A & B") is fine: a browser reads
# "< b" as text, so only "<" directly followed by a letter, "/", "!" or "?" counts as a tag.
_MARKUP = re.compile(r"</?[A-Za-z!?]|&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")
# Control characters other than tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What an evidence file may be, by its first bytes (the name and the browser's type are not trusted).
EVIDENCE_SIGNATURES: dict[bytes, str] = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
}


def plain_text_problem(text: str, *, what: str, minimum: int = 1, maximum: int = STATEMENT_MAX_LENGTH) -> str:
    """`what` names the field in the message ("The statement", "The answer", "The reason")."""
    problem = text_problem(text)
    if problem:
        return _("%(what)s %(problem)s; remove it.") % {"what": what, "problem": problem}
    if len(text.strip()) < minimum:
        if minimum <= 1:
            return _("%(what)s is empty; say in a few words what happened.") % {"what": what}
        return _("%(what)s is too short: write at least %(n)d characters so a moderator can act on it.") % {
            "what": what,
            "n": minimum,
        }
    if len(text) > maximum:
        return _("%(what)s is at most %(n)d characters; shorten it or put the rest in a linked page.") % {
            "what": what,
            "n": maximum,
        }
    if _MARKUP.search(text):
        return _(
            "%(what)s must be plain text: remove the markup (tags such as <b> or <a>, and &...; "
            "entities); put addresses in the links field."
        ) % {"what": what}
    if _CONTROL.search(text):
        return _("%(what)s holds control characters; type it as plain text.") % {"what": what}
    return ""


def link_problem(url: str) -> str:
    if text_problem(url):
        return _("A link holds a character text may not hold; paste the address again.")
    if len(url) > LINK_MAX_LENGTH:
        return _("A link is at most %(n)d characters.") % {"n": LINK_MAX_LENGTH}
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return _("A link holds spaces or control characters; put one address per line.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return _("%(url)s is not a valid address.") % {"url": url[:100]}
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return _("Links must be web addresses starting with http:// or https:// (%(url)s is not).") % {
            "url": url[:100]
        }
    if parts.username or parts.password:
        return _("A link must not hold a user name or password.")
    return ""


def links_problem(links: list[str]) -> str:
    if len(links) > MAX_LINKS:
        return _("Give at most %(n)d links.") % {"n": MAX_LINKS}
    for url in links:
        problem = link_problem(url)
        if problem:
            return problem
    return ""


def links_from_lines(text: str) -> list[str]:
    """The links a form's text area holds: one per line, blank lines ignored, duplicates once."""
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def evidence_kind(head: bytes) -> str:
    """pdf, png or jpg from a file's first bytes; "" when it is none of them."""
    for signature, kind in EVIDENCE_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return ""


def evidence_problem(*, size: int, head: bytes) -> str:
    limit = settings.DISPUTE_EVIDENCE_MAX_BYTES
    if size > limit:
        return _("The file is larger than %(mb)d MB; send a smaller one or a link to it.") % {
            "mb": max(1, limit // (1024 * 1024))
        }
    if size == 0:
        return _("The file is empty.")
    if not evidence_kind(head):
        return _("The file must be a PDF, PNG or JPEG document.")
    return ""
