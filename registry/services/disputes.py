"""Disputes (registry.models.disputes): filed, confirmed, answered, flagged when the clock runs
out, decided. Each function is one transaction that writes its DisputeMessage row.

The side that asked for the removal (an artist's request, a partner's filing) lives upstream:
registry tells it through `signals.dispute_changed`, sent inside the transaction so that its
audit rows (a ticket's timeline) commit or roll back with the change; emails go on commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from core import clock

from .. import dispute_checks as checks
from .. import dispute_mail, signals
from ..models import (
    DISPUTE_OPEN_STATES,
    Dataset,
    Dispute,
    DisputeAuthor,
    DisputeFiler,
    DisputeMessage,
    DisputeMessageKind,
    DisputeReason,
    DisputeState,
    Maintainer,
    Removal,
    RemovalState,
    url_key,
)
from .removals import RemovalQuery, removals_revoke

# A removal anyone can see as in force: delivered to its maintainer (or acknowledged). A pending
# one was not published yet; a revoked one is not in force.
DISPUTABLE_STATES = (RemovalState.DELIVERED, RemovalState.ACKNOWLEDGED)
_SIGNING_SALT = "registry.dispute-confirm"


class DisputeRefused(Exception):
    """A dispute step that cannot be done; the message says why, for a person.

    `code` is the API's error code, `status` its HTTP status, `field` the form field at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int = 400,
        field: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field
        self.details = details or {}


@dataclass(frozen=True)
class Evidence:
    statement: str
    links: list[str]


def evidence_clean(*, statement: str, links: list[str], what: str = "") -> Evidence:
    problem = checks.plain_text_problem(
        statement, what=what or _("The statement"), minimum=checks.STATEMENT_MIN_LENGTH
    )
    if problem:
        raise DisputeRefused(problem, code="invalid_statement", field="statement")
    problem = checks.links_problem(links)
    if problem:
        raise DisputeRefused(problem, code="invalid_links", field="links")
    return Evidence(statement=statement.strip(), links=list(dict.fromkeys(links)))


# --- which removal ------------------------------------------------------------------


def _not_disputable(removal: Removal) -> DisputeRefused:
    if removal.state == RemovalState.REVOKED:
        message = _(
            "Removal %(id)s was revoked already: the item may be used again, so there is nothing to dispute."
        )
    else:
        message = _(
            "Removal %(id)s is not published yet (its maintainer has not received it); dispute it once it is."
        )
    return DisputeRefused(
        message % {"id": removal.public_id},
        code="removal_not_disputable",
        status=409,
        field="removal",
        details={"removal": removal.public_id, "state": removal.state},
    )


def disputable_removal(*, ref: str, dataset: Dataset | None = None) -> Removal:
    """The removal `ref` names: its id (rm_...) or the address of the removed item.

    With `dataset`, only that data set's removals count (a maintainer names its own). Refused,
    with what to do: nothing found, not in force (pending or revoked), or an address removed from
    several data sets (then the message lists their ids, which name no one).
    """
    ref = ref.strip()
    is_id = re.fullmatch(r"rm_[A-Za-z0-9]{1,37}", ref) is not None
    if not is_id and (ref.startswith("rm_") or not ref or checks.link_problem(ref)):
        raise DisputeRefused(
            _("Name the removed item: its address (https://...) or the removal id (rm_...) you were given."),
            code="unknown_removal",
            field="removal",
        )
    removals = Removal.objects.select_related("dataset")
    if dataset is not None:
        removals = removals.filter(dataset=dataset)
    if is_id:
        found = list(removals.filter(public_id=ref))
    else:
        found = list(removals.filter(url_key=url_key(ref), url=ref))
    if not found:
        raise DisputeRefused(
            _("No removal %(ref)s exists%(where)s; check the id or the address.")
            % {"ref": ref, "where": _(" in this data set") if dataset else ""},
            code="unknown_removal",
            field="removal",
        )
    live = [r for r in found if r.state in DISPUTABLE_STATES]
    if not live:
        raise _not_disputable(found[0])
    if len(live) > 1:
        listed = ", ".join(f"{r.public_id} ({r.dataset.name})" for r in live[:20])
        raise DisputeRefused(
            _("This address is removed from several data sets: name the one you dispute by its id: %(ids)s.")
            % {"ids": listed},
            code="ambiguous_removal",
            field="removal",
            details={"removals": [r.public_id for r in live[:20]]},
        )
    return live[0]


# --- filing ---------------------------------------------------------------------------


def _message(
    dispute: Dispute,
    *,
    kind: str,
    author: str,
    body: str = "",
    links: list[str] | None = None,
    actor: User | None = None,
) -> DisputeMessage:
    return DisputeMessage.objects.create(
        dispute=dispute, kind=kind, author=author, body=body, links=links or [], actor=actor
    )


def _changed(dispute: Dispute, what: str, message: DisputeMessage) -> None:
    signals.dispute_changed.send(sender=Dispute, dispute=dispute, what=what, message=message)


def _locked_removal(removal: Removal) -> Removal:
    # Serialises the filings on one removal (the duplicate check below then sees the first) and
    # a decision with a revocation of the same removal (either sees the other's result).
    return (
        Removal.objects.select_for_update(of=("self",))
        .select_related("dataset__maintainer")
        .get(pk=removal.pk)
    )


def _open(dispute: Dispute, *, now: datetime) -> None:
    dispute.state = DisputeState.OPEN
    dispute.opened_at = now
    dispute.response_due_at = now + timedelta(days=settings.DISPUTE_RESPONSE_DAYS)
    dispute.save(update_fields=["state", "opened_at", "response_due_at"])
    message = _message(dispute, kind=DisputeMessageKind.OPENED, author=DisputeAuthor.SYSTEM)
    _changed(dispute, "opened", message)
    dispute_mail.opened(dispute)


@transaction.atomic
def dispute_file(
    *,
    removal: Removal,
    reason: str,
    statement: str,
    links: list[str],
    maintainer: Maintainer | None = None,
    email: str = "",
    language: str = "",
    evidence: UploadedFile | None = None,
) -> Dispute:
    """File a dispute about `removal`: by a maintainer of its data set (open at once), or by a
    public disputant whose `email` must still be confirmed (dispute_confirm_link_send mails the link).
    """
    if reason not in DisputeReason.values:
        raise DisputeRefused(_("Choose one of the reasons offered."), code="invalid_reason", field="reason")
    clean = evidence_clean(statement=statement, links=links)
    removal = _locked_removal(removal)
    if removal.state not in DISPUTABLE_STATES:
        raise _not_disputable(removal)
    if maintainer is not None and removal.dataset.maintainer_id != maintainer.pk:
        raise DisputeRefused(_("No such removal in your data sets."), code="unknown_removal", field="removal")
    email = email.strip().lower()
    party = Dispute.objects.filter(removal=removal).exclude(state=DisputeState.EXPIRED)
    party = party.filter(maintainer=maintainer) if maintainer is not None else party.filter(email=email)
    earlier = party.first()
    if earlier is not None:
        raise DisputeRefused(
            _("You disputed removal %(removal)s already (%(dispute)s); it is decided once, for both sides.")
            % {"removal": removal.public_id, "dispute": earlier.public_id},
            code="dispute_exists",
            status=409,
            field="removal",
            details={"dispute": earlier.public_id},
        )
    if maintainer is None:
        if not email:
            raise DisputeRefused(_("Give an email address."), code="invalid_email", field="email")
        held = Dispute.objects.filter(
            email=email, state__in=(DisputeState.UNCONFIRMED, *DISPUTE_OPEN_STATES)
        ).count()
        if held >= settings.DISPUTE_OPEN_PER_EMAIL:
            raise DisputeRefused(
                _(
                    "This address has %(n)d disputes open already; wait for their decisions before filing more."  # noqa: E501
                )
                % {"n": held},
                code="too_many_open",
                status=429,
                field="email",
            )
    dispute = Dispute(
        removal=removal,
        source_ref=removal.source_ref,
        filer=DisputeFiler.MAINTAINER if maintainer else DisputeFiler.PUBLIC,
        maintainer=maintainer,
        email=email if maintainer is None else "",
        language=language[:10],
        reason=reason,
        statement=clean.statement,
        links=clean.links,
        state=DisputeState.UNCONFIRMED if maintainer is None else DisputeState.OPEN,
    )
    if evidence is not None:
        head = evidence.read(16)
        evidence.seek(0)
        problem = checks.evidence_problem(size=evidence.size or 0, head=head)
        if problem:
            raise DisputeRefused(problem, code="invalid_evidence", field="evidence")
        # A name of ours: the sender's file name is kept apart, as text, for the desk to show.
        dispute.evidence_name = (evidence.name or "")[:200]
        dispute.evidence.save(f"{dispute.public_id}.{checks.evidence_kind(head)}", evidence, save=False)
    dispute.save()
    _message(
        dispute,
        kind=DisputeMessageKind.FILED,
        author=DisputeAuthor.DISPUTANT,
        body=clean.statement,
        links=clean.links,
    )
    if maintainer is not None:
        _open(dispute, now=clock.now())
    return dispute


def dispute_confirm_token(dispute: Dispute) -> str:
    """The signed link's token: the dispute, its address and when it was issued (clock time, so
    that a test moving the clock moves the link's age too)."""
    payload = {"d": dispute.public_id, "e": dispute.email, "t": int(clock.now().timestamp())}
    return signing.dumps(payload, salt=_SIGNING_SALT)


def dispute_confirm_link_send(*, dispute: Dispute, link: str) -> None:
    dispute_mail.confirm_link(dispute, link=link)


@transaction.atomic
def dispute_confirm(*, token: str) -> Dispute:
    """Open the dispute a signed link names (the disputant reads the address they gave).

    Opening it twice changes nothing. A link older than DISPUTE_CONFIRM_HOURS, or altered, is refused.
    """
    expired = DisputeRefused(_("This link has expired; file the dispute again."), code="link_expired")
    try:
        data = signing.loads(token[:1000], salt=_SIGNING_SALT)
    except signing.BadSignature:
        raise DisputeRefused(
            _("This link is not valid; copy it whole from the email, or file the dispute again."),
            code="link_invalid",
        ) from None
    issued = data.get("t") if isinstance(data, dict) else None
    if not isinstance(issued, int):
        raise DisputeRefused(_("This link is not valid; file the dispute again."), code="link_invalid")
    if clock.now().timestamp() - issued > settings.DISPUTE_CONFIRM_HOURS * 3600:
        raise expired
    dispute = Dispute.objects.select_for_update().filter(public_id=data.get("d"), email=data.get("e")).first()
    if dispute is None:
        raise DisputeRefused(_("This dispute no longer exists; file it again."), code="link_invalid")
    if dispute.state != DisputeState.UNCONFIRMED:
        if dispute.state == DisputeState.EXPIRED:
            raise expired
        return dispute
    removal = _locked_removal(dispute.removal)
    if removal.state not in DISPUTABLE_STATES:
        raise _not_disputable(removal)
    _open(dispute, now=clock.now())
    return dispute


# --- the exchange ---------------------------------------------------------------------


def _locked(dispute: Dispute) -> Dispute:
    # A moderator deciding while the requester answers (or two moderators at once): the second
    # waits for the first, then sees its result.
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("removal__dataset", "maintainer")
        .get(pk=dispute.pk)
    )


@transaction.atomic
def dispute_answer(*, dispute: Dispute, body: str, links: list[str], actor: User | None) -> DisputeMessage:
    """The side that asked for the removal answers (the caller checked that `actor` is it)."""
    clean = evidence_clean(statement=body, links=links, what=_("The answer"))
    dispute = _locked(dispute)
    now = clock.now()
    if dispute.state not in (DisputeState.OPEN, DisputeState.ANSWERED):
        raise DisputeRefused(
            _("This dispute is %(state)s: it takes no answer now.")
            % {"state": str(dispute.get_state_display()).lower()},
            code="dispute_closed",
            status=409,
        )
    if dispute.response_due_at is not None and now > dispute.response_due_at:
        raise DisputeRefused(
            _("The time to answer ended on %(when)s UTC; a moderator decides with what is on file.")
            % {"when": dispute.response_due_at.strftime("%Y-%m-%d %H:%M")},
            code="answer_too_late",
            status=409,
        )
    dispute.state = DisputeState.ANSWERED
    dispute.answered_at = now
    dispute.save(update_fields=["state", "answered_at"])
    message = _message(
        dispute,
        kind=DisputeMessageKind.ANSWER,
        author=DisputeAuthor.REQUESTER,
        body=clean.statement,
        links=clean.links,
        actor=actor,
    )
    _changed(dispute, "answered", message)
    dispute_mail.answered(dispute)
    return message


@transaction.atomic
def dispute_note(*, dispute: Dispute, moderator: User, body: str) -> DisputeMessage:
    """A moderator's note: for the desk only, never sent to either side."""
    problem = checks.plain_text_problem(body, what=_("The note"))
    if problem:
        raise DisputeRefused(problem, code="invalid_note", field="note")
    dispute = _locked(dispute)
    return _message(
        dispute,
        kind=DisputeMessageKind.NOTE,
        author=DisputeAuthor.MODERATOR,
        body=body.strip(),
        actor=moderator,
    )


UPHOLD = "uphold"
REVOKE = "revoke"


@transaction.atomic
def dispute_decide(*, dispute: Dispute, moderator: User, outcome: str, reason: str) -> Dispute:
    """Uphold the removal (it stays) or revoke it (registry's revocation writer: removal.revoked
    to its maintainer's endpoints, the revocations feed), with the moderator's reason.

    Revoking waits for the counter-notice period unless the requester answered: they are owed
    the chance to answer. Upholding may be done at any time. A removal revoked meanwhile (its
    requester lifted it) cannot be upheld; revoking then closes the dispute without a second
    revocation. Other open disputes of the same removal are closed with it when it is revoked.
    """
    if outcome not in (UPHOLD, REVOKE):
        raise DisputeRefused(_("Choose uphold or revoke."), code="invalid_outcome", field="outcome")
    problem = checks.plain_text_problem(reason, what=_("The reason"), maximum=checks.DECISION_MAX_LENGTH)
    if problem:
        raise DisputeRefused(problem, code="invalid_reason", field="reason")
    reason = reason.strip()
    dispute = _locked(dispute)
    if dispute.state not in DISPUTE_OPEN_STATES:
        raise DisputeRefused(
            _("%(id)s is %(state)s; only open disputes are decided.")
            % {"id": dispute.public_id, "state": str(dispute.get_state_display()).lower()},
            code="dispute_closed",
            status=409,
        )
    removal = _locked_removal(dispute.removal)
    now = clock.now()
    if outcome == UPHOLD and removal.state == RemovalState.REVOKED:
        raise DisputeRefused(
            _(
                "Removal %(id)s was revoked meanwhile (%(why)s): it cannot be upheld. Decide to revoke to close the dispute."  # noqa: E501
            )
            % {"id": removal.public_id, "why": removal.revoked_reason},
            code="removal_revoked",
            status=409,
        )
    if (
        outcome == REVOKE
        and dispute.state == DisputeState.OPEN
        and dispute.response_due_at is not None
        and now < dispute.response_due_at
        and removal.state != RemovalState.REVOKED
    ):
        raise DisputeRefused(
            _("The requester has until %(when)s UTC to answer; revoke after that, or once they answered.")
            % {"when": dispute.response_due_at.strftime("%Y-%m-%d %H:%M")},
            code="answer_pending",
            status=409,
        )
    if outcome == REVOKE and removal.state != RemovalState.REVOKED:
        removals_revoke(
            removals=RemovalQuery.of_ids([removal.pk]), why=f"Dispute {dispute.public_id}: {reason}"
        )
    closing = [dispute]
    if outcome == REVOKE:
        others = Dispute.objects.select_for_update(of=("self",)).filter(
            removal=removal, state__in=DISPUTE_OPEN_STATES
        )
        closing += list(others.exclude(pk=dispute.pk).select_related("removal__dataset", "maintainer"))
    for each in closing:
        each.state = DisputeState.UPHELD if outcome == UPHOLD else DisputeState.REVOKED
        each.decided_at = now
        each.decided_by = moderator
        each.decision_reason = reason
        each.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
        message = _message(
            each,
            kind=DisputeMessageKind.DECISION,
            author=DisputeAuthor.MODERATOR,
            body=reason,
            actor=moderator,
        )
        _changed(each, "decided", message)
        dispute_mail.decided(each)
    return dispute


# --- the clock ------------------------------------------------------------------------


def _delete_on_commit(storage: Storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


SWEEP_BATCH = 200


def disputes_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat's sweep: disputes whose answer time ran out go to the desk's queue (`due`), and
    unconfirmed ones older than DISPUTE_CONFIRM_HOURS expire. Safe to run twice or concurrently:
    each batch takes its rows with SKIP LOCKED and re-checks them under the lock."""
    now = now or clock.now()
    done = {"due": 0, "expired": 0}
    while True:
        with transaction.atomic():
            rows = list(
                Dispute.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(state=DisputeState.OPEN, response_due_at__lte=now)
                .select_related("removal__dataset", "maintainer")[:SWEEP_BATCH]
            )
            for dispute in rows:
                dispute.state = DisputeState.DUE
                dispute.flagged_at = now
                dispute.save(update_fields=["state", "flagged_at"])
                message = _message(dispute, kind=DisputeMessageKind.DUE, author=DisputeAuthor.SYSTEM)
                _changed(dispute, "due", message)
        done["due"] += len(rows)
        if len(rows) < SWEEP_BATCH:
            break
    stale = now - timedelta(hours=settings.DISPUTE_CONFIRM_HOURS)
    while True:
        with transaction.atomic():
            rows = list(
                Dispute.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                    state=DisputeState.UNCONFIRMED, created_at__lte=stale
                )[:SWEEP_BATCH]
            )
            for dispute in rows:
                dispute.state = DisputeState.EXPIRED
                # Nobody proved the address: a document it sent is not kept (deleted at commit).
                if dispute.evidence:
                    _delete_on_commit(dispute.evidence.storage, dispute.evidence.name or "")
                    dispute.evidence = ""
                dispute.save(update_fields=["state", "evidence"])
                _message(dispute, kind=DisputeMessageKind.EXPIRED, author=DisputeAuthor.SYSTEM)
        done["expired"] += len(rows)
        if len(rows) < SWEEP_BATCH:
            break
    return done
