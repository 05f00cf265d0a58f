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

from .models import ProofMethod, ProofStatus, TicketEvent
from .workflow import Status

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


def _works_removed(p: Params) -> str:
    count = int(p["count"])
    names = list(p.get("names", []))
    more = max(0, count - len(names))
    return ngettext(
        "%(count)d work taken back to the portfolio: %(names)s",
        "%(count)d works taken back to the portfolio: %(names)s",
        count,
    ) % {"count": count, "names": _names(names, more)}


def _works_moved(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d work of this closed request moved to %(reference)s.",
        "%(count)d works of this closed request moved to %(reference)s.",
        count,
    ) % {"count": count, "reference": p["reference"]}


def _matches_decided(p: Params) -> str:
    # One plural per count: French agrees each with its own number ("1 confirmée, 2 exclues").
    confirmed, excluded, undecided = (int(p.get(k, 0)) for k in ("confirmed", "excluded", "undecided"))
    return ", ".join(
        (
            ngettext("%(count)d confirmed", "%(count)d confirmed", confirmed) % {"count": confirmed},
            ngettext("%(count)d excluded", "%(count)d excluded", excluded) % {"count": excluded},
            ngettext("%(count)d undecided", "%(count)d undecided", undecided) % {"count": undecided},
        )
    )


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


def _licences_extended(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d more copy of your licensed works found in %(datasets)s "
        "and granted under the same licence.",
        "%(count)d more copies of your licensed works found in %(datasets)s "
        "and granted under the same licence.",
        count,
    ) % {"count": count, "datasets": _names(p.get("datasets", []))}


def _works_held(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d work is held while a moderator settles an ownership conflict; the others were sent.",
        "%(count)d works are held while a moderator settles an ownership conflict; the others were sent.",
        count,
    ) % {"count": count}


def _works_released(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "The conflict was settled: %(count)d held work was approved and sent.",
        "The conflict was settled: %(count)d held works were approved and sent.",
        count,
    ) % {"count": count}


def _works_freed(p: Params) -> str:
    count, reference = int(p["count"]), str(p["reference"])
    if p.get("left") == Status.REJECTED:
        if p.get("approved"):
            return ngettext(
                "The other claim (%(reference)s) was rejected: %(count)d held work was approved and sent.",
                "The other claim (%(reference)s) was rejected: %(count)d held works were approved and sent.",
                count,
            ) % {"count": count, "reference": reference}
        return ngettext(
            "The other claim (%(reference)s) was rejected: %(count)d work is no longer held.",
            "The other claim (%(reference)s) was rejected: %(count)d works are no longer held.",
            count,
        ) % {"count": count, "reference": reference}
    if p.get("approved"):
        return ngettext(
            "The other claim (%(reference)s) was withdrawn: %(count)d held work was approved and sent.",
            "The other claim (%(reference)s) was withdrawn: %(count)d held works were approved and sent.",
            count,
        ) % {"count": count, "reference": reference}
    return ngettext(
        "The other claim (%(reference)s) was withdrawn: %(count)d work is no longer held.",
        "The other claim (%(reference)s) was withdrawn: %(count)d works are no longer held.",
        count,
    ) % {"count": count, "reference": reference}


def _works_dropped(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d work was not sent: a moderator decided that another artist owns it.",
        "%(count)d works were not sent: a moderator decided that another artist owns them.",
        count,
    ) % {"count": count}


def _sample_drawn(p: Params) -> str:
    size, total = int(p["size"]), int(p["total"])
    return ngettext(
        "Sample of %(size)d work of %(total)d drawn to check (seed %(seed)s).",
        "Sample of %(size)d works of %(total)d drawn to check (seed %(seed)s).",
        size,
    ) % {"size": size, "total": total, "seed": p["seed"]}


def _sample_reviewed(p: Params) -> str:
    checked, doubtful = len(p.get("checked", [])), len(p.get("doubtful", []))
    return _("Sample (seed %(seed)s) reviewed: %(checked)d checked, %(doubtful)d doubtful.") % {
        "seed": p["seed"],
        "checked": checked,
        "doubtful": doubtful,
    }


def _joined(sentence: str, typed: Any) -> str:
    """A sentence Removal Desk wrote, followed by what a person typed (kept as typed)."""
    typed = str(typed or "").strip()
    return f"{sentence} {typed}" if typed else sentence


def _method(code: Any) -> str:
    return str(ProofMethod(code).label) if code in ProofMethod.values else str(code)


def _status(code: Any) -> str:
    return str(Status(code).label).lower() if code in Status.values else str(code)


def _conflict_found(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d image also claimed by %(artist)s in %(reference)s: held from approval until a "
        "moderator resolves it.",
        "%(count)d images also claimed by %(artist)s in %(reference)s: held from approval until a "
        "moderator resolves it.",
        count,
    ) % {"count": count, "artist": p["artist"], "reference": p["reference"]}


def _partner_conflict_found(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d registered copy of these works was removed already for the partner %(partner)s "
        "(filing %(filing)s), which filed it for a creator of its own: check who owns it.",
        "%(count)d registered copies of these works were removed already for the partner %(partner)s "
        "(filing %(filing)s), which filed them for a creator of its own: check who owns them.",
        count,
    ) % {"count": count, "partner": p["partner"], "filing": p["filing"]}


def _partner_conflict_resolved(p: Params) -> str:
    verdicts = {
        "artist": _(
            "Conflict with the partner %(partner)s (filing %(filing)s) resolved: this artist owns the works."
        ),
        "partner": _(
            "Conflict with the partner %(partner)s (filing %(filing)s) resolved: the works belong to the "
            "partner's creator."
        ),
        "both": _("Conflict with the partner %(partner)s (filing %(filing)s) resolved: not a conflict."),
    }
    sentence = verdicts[str(p["verdict"])] % {"partner": p["partner"], "filing": p["filing"]}
    return _joined(sentence, p.get("note"))


def _partner_conflict_withdrawn(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "The partner %(partner)s's filing %(filing)s was revoked: its conflict with %(count)d work of "
        "this request holds nothing any more.",
        "The partner %(partner)s's filing %(filing)s was revoked: its conflict with %(count)d works of "
        "this request holds nothing any more.",
        count,
    ) % {"count": count, "partner": p["partner"], "filing": p["filing"]}


def _conflict_resolved(p: Params) -> str:
    verdicts = {
        "none": _("Conflict resolved: not a conflict with %(reference)s."),
        "owner": _("Conflict resolved: this artist owns the works also claimed in %(reference)s."),
        "other": _("Conflict resolved: the works belong to the artist of %(reference)s."),
    }
    sentence = verdicts[str(p["verdict"])] % {"reference": p["reference"]}
    return _joined(sentence, p.get("note"))


def _sla_escalated(p: Params) -> str:
    hours = int(p["hours"])
    return ngettext(
        "Overdue by %(hours)d hour in %(status)s; priority raised to high.",
        "Overdue by %(hours)d hours in %(status)s; priority raised to high.",
        hours,
    ) % {"hours": hours, "status": _status(p["status"])}


def _proof_document_uploaded(p: Params) -> str:
    return _("Document uploaded for review: %(description)s") % {"description": p["description"]}


def _proof_verified(p: Params) -> str:
    return _("Proof verified: %(method)s for %(target)s.") % {
        "method": _method(p["method"]),
        "target": p["target"],
    }


def _proof_deleted(p: Params) -> str:
    return _("Proof deleted by the artist: %(method)s for %(target)s (%(status)s).") % {
        "method": _method(p["method"]),
        "target": p["target"],
        "status": str(ProofStatus(p["status"]).label).lower() if p["status"] in ProofStatus.values else "",
    }


def _proof_lapsed(p: Params) -> str:
    sentence = _("Proof lapsed: %(method)s for %(target)s.") % {
        "method": _method(p["method"]),
        "target": p["target"],
    }
    # A fixed reason ("not renewed") is an English msgid and translates; a check's finding was
    # written in the artist's language when it was made and is shown as it was written.
    reason = str(p.get("reason") or "")
    return _joined(sentence, _(reason) if reason else "")


def _proof_document_reviewed(p: Params) -> str:
    if p.get("accepted"):
        sentence = _("Document accepted: %(description)s.")
    else:
        sentence = _("Document not accepted: %(description)s.")
    return _joined(sentence % {"description": p["description"]}, p.get("note"))


def canned_text(key: str) -> str:
    """A canned question of settings.MODERATION_CANNED_RESPONSES in the active language ("" if unknown)."""
    for canned_key, _title, text in settings.MODERATION_CANNED_RESPONSES:
        if canned_key == key:
            return _(text)
    return ""


def _needs_info(p: Params) -> str:
    parts = [canned_text(str(p.get("canned", ""))), str(p.get("note") or "").strip()]
    return "\n\n".join(part for part in parts if part)


def _assignment(p: Params) -> str:
    old, new = str(p.get("old") or ""), str(p.get("new") or "")
    if new and old:
        return _("Reassigned from %(old)s to %(new)s.") % {"old": old, "new": new}
    if new:
        return _("Assigned to %(new)s.") % {"new": new}
    return _("Unassigned (was %(old)s).") % {"old": old}


def _scopes_set(p: Params) -> str:
    lines = list(p.get("lines", []))
    return ngettext(
        "Domain scope (%(count)d line): %(lines)s", "Domain scope (%(count)d lines): %(lines)s", len(lines)
    ) % {"count": len(lines), "lines": _names(lines)}


def _domain_removals(p: Params) -> str:
    """What approving a domain request covered: per scope line, the items removed in each data set."""
    parts = []
    for row in p.get("scopes", []):
        counts = dict(row.get("datasets", {}))
        total = sum(int(n) for n in counts.values())
        where = ", ".join(f"{name}: {int(n):,}" for name, n in sorted(counts.items()))
        if p.get("choice") == "licence":  # a licensing rule (domain choices): grants, not removals
            parts.append(
                ngettext(
                    "Everything under %(scope)s is allowed for AI training under your licence: "
                    "%(count)d registered item licensed%(where)s.",
                    "Everything under %(scope)s is allowed for AI training under your licence: "
                    "%(count)d registered items licensed%(where)s.",
                    total,
                )
                % {"scope": row["scope"], "count": total, "where": f" ({where})" if where else ""}
            )
            continue
        parts.append(
            ngettext(
                "Everything under %(scope)s is opted out: %(count)d registered item removed%(where)s.",
                "Everything under %(scope)s is opted out: %(count)d registered items removed%(where)s.",
                total,
            )
            % {"scope": row["scope"], "count": total, "where": f" ({where})" if where else ""}
        )
    return " ".join(parts)


def _licences_recorded(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "Request complete: %(count)d licence grant stands, sent to the maintainers, who may train on "
        "that copy under your licence and credit you as you asked.",
        "Request complete: %(count)d licence grants stand, sent to the maintainers, who may train on "
        "these copies under your licence and credit you as you asked.",
        count,
    ) % {"count": count}


def _licences_sent(p: Params) -> str:
    count = int(p["count"])
    return ngettext(
        "%(count)d licence grant sent: maintainers may train on these copies under your licence.",
        "%(count)d licence grants sent: maintainers may train on these copies under your licence.",
        count,
    ) % {"count": count}


def _choice_label(value: Any, licence: Any = "") -> str:
    from registry.preferences import Choice, Licence

    label = str(Choice(value).label) if value in Choice.values else str(value)
    if value == Choice.LICENCE and licence in Licence.values:
        return f"{label} ({Licence(licence).label})"
    return label


def _choice_changed(p: Params) -> str:
    """An artist changed a work's choice (or the request's default): what it was, what it is,
    and what the maintainers were sent for it."""
    old = _choice_label(p.get("old"), p.get("old_licence", ""))
    new = _choice_label(p.get("new"), p.get("new_licence", ""))
    name = p.get("name")
    if name:
        sentence = _("Choice for %(name)s changed from “%(old)s” to “%(new)s”.") % {
            "name": name,
            "old": old,
            "new": new,
        }
    else:
        sentence = _("Default choice of this request changed from “%(old)s” to “%(new)s”.") % {
            "old": old,
            "new": new,
        }
    parts = [sentence]
    revoked, removed, granted = (int(p.get(k, 0)) for k in ("revoked", "removed", "granted"))
    if revoked:
        parts.append(
            ngettext(
                "%(count)d earlier statement revoked at the maintainers.",
                "%(count)d earlier statements revoked at the maintainers.",
                revoked,
            )
            % {"count": revoked}
        )
    if removed:
        parts.append(
            ngettext("%(count)d removal sent.", "%(count)d removals sent.", removed) % {"count": removed}
        )
    if granted:
        parts.append(
            ngettext("%(count)d licence grant sent.", "%(count)d licence grants sent.", granted)
            % {"count": granted}
        )
    return " ".join(parts)


def _account_deleted(p: Params) -> str:
    return _("The artist deleted their account.")


def _dispute(p: Params) -> str:
    """A dispute about one of the request's removals (registry's Dispute), step by step."""
    ids = {"dispute": p["dispute"], "removal": p["removal"]}
    step = p["step"]
    if step == "opened":
        return _(
            "Dispute %(dispute)s filed against removal %(removal)s; answers are taken until %(due)s (UTC)."
        ) % {**ids, "due": p["due"]}
    if step == "answered":
        return _("The artist answered dispute %(dispute)s about removal %(removal)s.") % ids
    if step == "due":
        return _("The time to answer dispute %(dispute)s about removal %(removal)s ran out.") % ids
    if p.get("outcome") == "revoked":
        return _joined(
            _("Dispute %(dispute)s decided: removal %(removal)s is revoked.") % ids, p.get("reason")
        )
    return _joined(_("Dispute %(dispute)s decided: removal %(removal)s stays.") % ids, p.get("reason"))


RENDERERS: dict[str, Callable[[Params], str]] = {
    "dispute": _dispute,
    "works_added": _works_added,
    "works_removed": _works_removed,
    "works_moved": _works_moved,
    "matches_decided": _matches_decided,
    "removals_sent": _removals_sent,
    "removals_confirmed": _removals_confirmed,
    "copies_found": _copies_found,
    "licences_extended": _licences_extended,
    "conflict_found": _conflict_found,
    "partner_conflict_found": _partner_conflict_found,
    "partner_conflict_resolved": _partner_conflict_resolved,
    "partner_conflict_withdrawn": _partner_conflict_withdrawn,
    "conflict_resolved": _conflict_resolved,
    "sla_escalated": _sla_escalated,
    "proof_document_uploaded": _proof_document_uploaded,
    "proof_verified": _proof_verified,
    "proof_deleted": _proof_deleted,
    "proof_lapsed": _proof_lapsed,
    "proof_document_reviewed": _proof_document_reviewed,
    "needs_info": _needs_info,
    "assignment": _assignment,
    "account_deleted": _account_deleted,
    "scopes_set": _scopes_set,
    "domain_removals": _domain_removals,
    "works_held": _works_held,
    "works_released": _works_released,
    "works_freed": _works_freed,
    "works_dropped": _works_dropped,
    "sample_drawn": _sample_drawn,
    "sample_reviewed": _sample_reviewed,
    "licences_sent": _licences_sent,
    "licences_recorded": _licences_recorded,
    "choice_changed": _choice_changed,
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
