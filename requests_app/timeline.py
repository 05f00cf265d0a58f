"""What a timeline row says, in the reader's language.

A row Removal Desk writes itself stores what happened as data in
`TicketEvent.params` ({"text": "works_added", "count": 12, "names": [...]}) and,
for the rows of older versions and for readers that want plain text, the English
sentence in `message`. `event_text` renders the row in the active language: the
artist's pages call it in the artist's language, the desk in the moderator's
(templates: `{% load timeline %}{{ event|event_text }}`). What a person wrote
has no "text" key and is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from .models import TicketEvent

# The fixed sentence of rows written before `params` existed; still translated when shown.
REMOVAL_CONFIRMED_MESSAGE = gettext_noop("Every data set maintainer confirmed the removal.")
# How many file names a "works added" row lists before "…".
NAMES_SHOWN = 10

Params = Mapping[str, Any]


def _names(values: Any, more: int = 0) -> str:
    names = ", ".join(str(v) for v in values)
    return names + ("…" if more else "")


def _works_added(p: Params) -> str:
    count = int(p["count"])
    names = list(p.get("names", []))
    more = max(0, count - len(names))
    return ngettext("%(count)d work added: %(names)s", "%(count)d works added: %(names)s", count) % {
        "count": count,
        "names": _names(names, more),
    }


def _matches_decided(p: Params) -> str:
    return _("%(confirmed)d confirmed, %(excluded)d excluded, %(undecided)d undecided") % {
        "confirmed": int(p.get("confirmed", 0)),
        "excluded": int(p.get("excluded", 0)),
        "undecided": int(p.get("undecided", 0)),
    }


def _removals_sent(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d removal sent to the maintainers of %(datasets)s.",
        "%(count)d removals sent to the maintainers of %(datasets)s.",
        count,
    ) % {"count": count, "datasets": _names(p.get("datasets", []))}


def _removals_confirmed(p: Params) -> str:
    return _(REMOVAL_CONFIRMED_MESSAGE)


def _copies_found(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d more copy of your works found in %(datasets)s and sent to the maintainers.",
        "%(count)d more copies of your works found in %(datasets)s and sent to the maintainers.",
        count,
    ) % {"count": count, "datasets": _names(p.get("datasets", []))}


RENDERERS: dict[str, Callable[[Params], str]] = {
    "works_added": _works_added,
    "matches_decided": _matches_decided,
    "removals_sent": _removals_sent,
    "removals_confirmed": _removals_confirmed,
    "copies_found": _copies_found,
}


def render(params: Params) -> str:
    """The sentence for `params` in the active language ("" when `params` names no known text)."""
    renderer = RENDERERS.get(str(params.get("text", "")))
    if renderer is None:
        return ""
    try:
        return renderer(params)
    except (KeyError, TypeError, ValueError):
        return ""


def render_english(params: Params) -> str:
    """What `message` stores beside `params`: the same sentence in English."""
    with translation.override(settings.LANGUAGE_CODE):
        return render(params)


def event_text(event: TicketEvent) -> str:
    """The row's text in the active language; rows without params fall back to their stored message."""
    text = render(event.params or {})
    if text:
        return text
    if event.actor_id is None and event.message == REMOVAL_CONFIRMED_MESSAGE:
        return _(REMOVAL_CONFIRMED_MESSAGE)
    return event.message
