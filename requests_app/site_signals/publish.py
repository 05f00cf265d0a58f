"""What an artist publishes on a verified domain so that crawlers honour their choice unasked.

The other direction of this package's readers: from a preference (the IETF AI preferences
vocabulary, categories `train-ai` and `search`, each allowed, disallowed or unknown) and the part
of the site it covers (the whole host, or a path prefix), the exact text of

- robots.txt lines: a group disallowing the crawlers known to collect AI training data
  (agents.AI_TRAINING_AGENTS), and for every crawler the usage lines of the IETF aipref drafts
  (`Content-Usage: train-ai=n`) and of Cloudflare's Content Signals (`Content-Signal: ai-train=no`);
- the HTTP response headers (`Content-Usage`, TDMRep's `tdm-reservation`) for servers that can
  send them with the images;
- /.well-known/tdmrep.json (W3C TDMRep: `[{"location": ..., "tdm-reservation": 1}]`);
- ai.txt (the robots-like file Spawning's tools read).

Each text is read back by this package's own parsers as reserving exactly that scope (tests do
it, and parse robots.txt with Python's urllib.robotparser and tdmrep.json with a JSON schema of
the TDMRep report), so what an artist pastes is what the site-signals page will find.

"Unknown" is written as nothing: a statement is only made for a category the artist decided.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from django.utils.translation import gettext as _

from ._text import MAX_PATH_CHARS, prefix_of, valid_path
from .agents import AI_TRAINING_AGENTS

# Crawlers in AI_TRAINING_AGENTS that also feed a search engine's answers: left out of the
# Disallow group when the artist allows search, since blocking them would take the works out of
# search as well. (Their Content-Usage/Content-Signal lines still say train-ai=n.)
SEARCH_TOO = frozenset({"PerplexityBot", "YouBot", "Amazonbot"})


class PublishRefused(ValueError):
    """The path cannot be written into these files; the message says why."""


@dataclass(frozen=True)
class Preference:
    """True: allowed, False: disallowed, None: unknown (no statement)."""

    train_ai: bool | None
    search: bool | None = None

    @property
    def content_usage(self) -> str:
        """The aipref usage expression: "train-ai=n, search=y"."""
        parts = [(name, value) for name, value in (("train-ai", self.train_ai), ("search", self.search))]
        return ", ".join(f"{name}={'y' if value else 'n'}" for name, value in parts if value is not None)

    @property
    def content_signal(self) -> str:
        """Cloudflare's Content Signals: "search=yes, ai-train=no"."""
        parts = [("search", self.search), ("ai-train", self.train_ai)]
        return ", ".join(f"{name}={'yes' if value else 'no'}" for name, value in parts if value is not None)


# The choices the page offers, by key: what a removal means, and its alternatives.
PREFERENCES: dict[str, Preference] = {
    "reserve": Preference(train_ai=False),
    "search-only": Preference(train_ai=False, search=True),
    "allow": Preference(train_ai=True),
}


@dataclass(frozen=True)
class Snippets:
    robots_txt: str
    headers: str
    tdmrep_json: str
    ai_txt: str


def _fits(path: str) -> None:
    if len(path) > MAX_PATH_CHARS:
        raise PublishRefused(
            _("The path is %(length)d characters long; at most %(limit)d.")
            % {"length": len(path), "limit": MAX_PATH_CHARS}
        )


def checked_path(path: str) -> str:
    """The path prefix the texts cover ("/" for the whole host), or PublishRefused."""
    path = path.strip() or "/"
    _fits(path)
    if not valid_path(path) or not path.startswith("/") or prefix_of(path) != path:
        raise PublishRefused(
            _(
                "The path must start with / and be a plain folder prefix such as /portfolio/ "
                "(no spaces, control characters, * or $)."
            )
        )
    try:
        # RFC 9309 compares paths as octets, percent-encoded: write them so ("/é/" -> "/%C3%A9/").
        path = "".join(quote(c) if ord(c) > 0x7F else c for c in path)
    except UnicodeEncodeError:  # a lone surrogate: no character at all
        raise PublishRefused(_("The path holds text that is not valid Unicode.")) from None
    _fits(path)  # again: percent-encoding lengthens it
    return path


def snippets(preference: Preference, *, path: str = "/") -> Snippets:
    path = checked_path(path)
    return Snippets(
        robots_txt=robots_txt(preference, path=path),
        headers=headers(preference),
        tdmrep_json=tdmrep_json(preference, path=path),
        ai_txt=ai_txt(preference, path=path),
    )


def robots_txt(preference: Preference, *, path: str = "/") -> str:
    scoped = "" if path == "/" else f"{path} "
    lines = ["# AI training preferences (IETF aipref vocabulary; Cloudflare Content Signals)"]
    if preference.train_ai is False:
        agents = [a for a in AI_TRAINING_AGENTS if not (preference.search and a in SEARCH_TOO)]
        lines += [f"User-agent: {agent}" for agent in agents]
        lines += [f"Disallow: {path}", ""]
    lines.append("User-agent: *")
    if preference.content_usage:
        lines.append(f"Content-Usage: {scoped}{preference.content_usage}")
    if preference.content_signal:
        lines.append(f"Content-Signal: {scoped}{preference.content_signal}")
    lines.append("Allow: /")
    return "\n".join(lines) + "\n"


def headers(preference: Preference) -> str:
    """Response headers for the images themselves (TDMRep's header is 1 reserved, 0 not)."""
    lines = []
    if preference.content_usage:
        lines.append(f"Content-Usage: {preference.content_usage}")
    if preference.train_ai is not None:
        lines.append(f"tdm-reservation: {0 if preference.train_ai else 1}")
    return "\n".join(lines) + "\n"


def tdmrep_json(preference: Preference, *, path: str = "/") -> str:
    location = "/*" if path == "/" else f"{path}*"
    rules = (
        []
        if preference.train_ai is None
        else [{"location": location, "tdm-reservation": 0 if preference.train_ai else 1}]
    )
    return json.dumps(rules, indent=2) + "\n"


def ai_txt(preference: Preference, *, path: str = "/") -> str:
    lines = ["# AI training preferences", "User-Agent: *"]
    if preference.train_ai is False:
        lines.append(f"Disallow: {path}")
    elif preference.train_ai:
        lines.append(f"Allow: {path}")
    return "\n".join(lines) + "\n"
