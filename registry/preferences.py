"""What an artist lets AI do with a work, in the IETF AI preferences vocabulary.

The vocabulary (draft-ietf-aipref-vocab) has categories; two matter here: `train-ai` (training
AI models) and `search` (building a search index). Each is `allowed`, `disallowed` or `unknown`
(no statement), and it stays three-valued: "unknown" is not "allowed". When statements about the
same work conflict, "disallow wins" (`combine`).

An artist sees three choices (`Choice`), each a pair of preferences:

| choice        | train-ai   | search    |
| ------------- | ---------- | --------- |
| `remove`      | disallowed | unknown   |
| `search_only` | disallowed | allowed   |
| `licence`     | allowed    | unknown   |

A removal (registry.models.Removal) keeps meaning "disallowed for training": every reader of
today's feeds treats an entry as "remove this", so `remove` and `search_only` become removals
(their `search` field says which) and a `licence` becomes a licence grant (LicenceGrant), which
reaches maintainers through fields and a feed of its own, never as a removal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import models
from django.utils.translation import gettext, gettext_lazy


class Preference(models.TextChoices):
    ALLOWED = "allowed", gettext_lazy("Allowed")
    DISALLOWED = "disallowed", gettext_lazy("Not allowed")
    UNKNOWN = "unknown", gettext_lazy("No statement")


def combine(statements: Iterable[str]) -> str:
    """Statements about one category for one work, combined: any `disallowed` wins, then any
    `allowed`; none (or only `unknown`) is `unknown`."""
    seen = set(statements)
    unknown = seen - set(Preference.values)
    if unknown:
        raise ValueError(f"not a preference: {', '.join(sorted(unknown))}")
    if Preference.DISALLOWED in seen:
        return Preference.DISALLOWED
    if Preference.ALLOWED in seen:
        return Preference.ALLOWED
    return Preference.UNKNOWN


class Choice(models.TextChoices):
    REMOVE = "remove", gettext_lazy("Remove from AI training")
    LICENCE = "licence", gettext_lazy("Allow under a licence")
    SEARCH_ONLY = "search_only", gettext_lazy("Allow for search, not for training")


# (train-ai, search) of each choice: see the table above.
PREFERENCES: dict[str, tuple[str, str]] = {
    Choice.REMOVE: (Preference.DISALLOWED, Preference.UNKNOWN),
    Choice.SEARCH_ONLY: (Preference.DISALLOWED, Preference.ALLOWED),
    Choice.LICENCE: (Preference.ALLOWED, Preference.UNKNOWN),
}


def is_removal(choice: str) -> bool:
    """Whether the choice disallows training, i.e. is sent to maintainers as a removal."""
    return PREFERENCES[choice][0] == Preference.DISALLOWED


class Licence(models.TextChoices):
    CC0 = "cc0", "CC0 1.0"
    CC_BY = "cc-by", "CC BY 4.0"
    CC_BY_SA = "cc-by-sa", "CC BY-SA 4.0"
    CUSTOM = "custom", gettext_lazy("Another licence (its URL)")


LICENCE_URLS: dict[str, str] = {
    Licence.CC0: "https://creativecommons.org/publicdomain/zero/1.0/",
    Licence.CC_BY: "https://creativecommons.org/licenses/by/4.0/",
    Licence.CC_BY_SA: "https://creativecommons.org/licenses/by-sa/4.0/",
}
# Licences whose terms are attribution: a grant under them names whom to credit.
ATTRIBUTION_REQUIRED = {Licence.CC_BY, Licence.CC_BY_SA}

LICENCE_URL_MAX_LENGTH = 500
ATTRIBUTION_MAX_LENGTH = 300

# Markup a maintainer's page could render: tags, character references, and control characters
# (a line break is allowed: "Photo: A. Artist\nhttps://...").
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?]|&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);|[<>]")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def licence_url_problem(url: str) -> str:
    """What is wrong with a custom licence's URL ("" when nothing): an http(s) address of a page."""
    if not url.strip():
        return gettext("Give the address of the licence (https://...).")
    if len(url) > LICENCE_URL_MAX_LENGTH:
        return gettext("The licence address is at most %(n)d characters.") % {"n": LICENCE_URL_MAX_LENGTH}
    if url != url.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return gettext("The licence address holds spaces or control characters; paste it alone.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return gettext("The licence address is not a valid URL.")
    if parts.scheme.lower() not in ("http", "https"):
        return gettext("The licence address must start with http:// or https://.")
    if not parts.hostname:
        return gettext("The licence address names no host (https://example.com/licence).")
    if parts.username or parts.password:
        return gettext("The licence address must not hold a user name or password.")
    return ""


def attribution_problem(text: str) -> str:
    """What is wrong with attribution text ("" when nothing): plain text, no markup."""
    if len(text) > ATTRIBUTION_MAX_LENGTH:
        return gettext("The attribution is at most %(n)d characters.") % {"n": ATTRIBUTION_MAX_LENGTH}
    if _MARKUP.search(text):
        return gettext(
            "The attribution must be plain text: remove the markup (<, > and &...; entities), "
            "e.g. write “Photo: A. Artist” rather than “<b>A. Artist</b>”."
        )
    if _CONTROL.search(text):
        return gettext("The attribution holds control characters; type it as plain text.")
    return ""


@dataclass(frozen=True)
class Consent:
    """One work's choice, checked: for a licence, which one, its URL and the attribution."""

    choice: str = Choice.REMOVE
    licence: str = ""
    licence_url: str = ""
    attribution: str = ""

    @property
    def train_ai(self) -> str:
        return PREFERENCES[self.choice][0]

    @property
    def search(self) -> str:
        return PREFERENCES[self.choice][1]

    @property
    def is_removal(self) -> bool:
        return is_removal(self.choice)

    @property
    def choice_label(self) -> str:
        return str(Choice(self.choice).label)

    @property
    def licence_label(self) -> str:
        return str(Licence(self.licence).label) if self.licence in Licence.values else ""


class ConsentError(ValueError):
    """A choice that cannot be recorded, with the field at fault and a message a person can act on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def consent_clean(*, choice: str, licence: str = "", licence_url: str = "", attribution: str = "") -> Consent:
    """A choice as given (a form, a partner's row), checked and normalised; raises ConsentError.

    A Creative Commons licence gets its canonical URL (a URL sent with it is ignored); a custom
    licence needs an http(s) URL. Attribution is plain text, required for CC BY and CC BY-SA.
    A removal or search-only choice carries no licence: what was sent for one is dropped."""
    if choice not in Choice.values:
        raise ConsentError(
            "choice", gettext("Choose one of: %(values)s.") % {"values": ", ".join(Choice.values)}
        )
    if choice != Choice.LICENCE:
        return Consent(choice=choice)
    if licence not in Licence.values:
        raise ConsentError(
            "licence", gettext("Choose a licence: %(values)s.") % {"values": ", ".join(Licence.values)}
        )
    attribution = attribution.strip()
    problem = attribution_problem(attribution)
    if problem:
        raise ConsentError("attribution", problem)
    if licence in ATTRIBUTION_REQUIRED and not attribution:
        raise ConsentError(
            "attribution", gettext("This licence asks for credit: say how you want to be credited.")
        )
    if licence == Licence.CUSTOM:
        problem = licence_url_problem(licence_url)
        if problem:
            raise ConsentError("licence_url", problem)
        url = licence_url
    else:
        url = LICENCE_URLS[licence]
    return Consent(choice=choice, licence=licence, licence_url=url, attribution=attribution)
