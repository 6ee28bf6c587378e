"""Reviewer workflow: worklist, claim, confirm/override findings, sign; audited.

Every function takes the caller's open transaction and writes its audit row into it,
so a view or change and its audit entry commit together or not at all.

Clinical safety rules (no critical value missed):

* confirming a critical finding, upgrading a finding to critical, or adding a critical
  finding creates an alert when the record has none for that code
  (:func:`alerts.service.ensure_alerted`);
* overriding a critical finding to non-critical after an alert was sent queues a
  correction to the clinic (:func:`alerts.service.withdraw_code`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from alerts.service import AlertPolicy, ensure_alerted, withdraw_code
from models.db import Clinic, Record, Result, ReviewItem
from models.db_review import FindingDecision, Reviewer, ReviewWork
from models.errors import EcgError, InputError, NotFoundError
from review.audit import audit
from review.auth import Actor

__all__ = [
    "FINAL_SEVERITIES",
    "ForbiddenError",
    "ItemView",
    "ReviewConflictError",
    "WorkRow",
    "add_finding",
    "claim",
    "decide",
    "load_item",
    "release",
    "sign",
    "worklist",
]

#: Severities a reviewer may give a finding; "none" rejects it (not present).
FINAL_SEVERITIES: tuple[str, ...] = ("critical", "abnormal", "info", "none")
Decision = Literal["confirm", "override"]
_OPEN = ("open", "claimed")


class ReviewConflictError(EcgError):
    """The item is claimed by someone else, or already signed (HTTP 409)."""


class ForbiddenError(EcgError):
    """The reviewer may not do this (not the claimer, not an admin) (HTTP 403)."""


@dataclass(frozen=True)
class WorkRow:
    """One line of the worklist."""

    item_id: int
    record_id: str
    clinic: str
    clinic_ref: str | None
    severity: str
    urgency: int
    codes: list[str]
    created_at: datetime
    status: str
    claimed_by: str | None


@dataclass
class ItemView:
    """A worklist item with its record, result, decisions and claim."""

    item: ReviewItem
    record: Record
    clinic: Clinic
    result: dict[str, Any]
    findings: list[dict[str, Any]]
    decisions: dict[int, FindingDecision] = field(default_factory=dict)
    work: ReviewWork | None = None
    claimed_by: str | None = None

    @property
    def undecided(self) -> list[int]:
        """Indices of findings without a decision."""
        return [f["index"] for f in self.findings if f["index"] not in self.decisions]

    def finding(self, index: int) -> dict[str, Any] | None:
        """The finding with ``index`` (result order; reviewer-added ones from 1000)."""
        return next((f for f in self.findings if f["index"] == index), None)


def worklist(
    session: Session, actor: Actor, *, now: datetime, remote: str | None = None
) -> list[WorkRow]:
    """Open and claimed items: most urgent first (critical, unanalysable, abnormal), then oldest."""
    rows = session.execute(
        select(ReviewItem, Record, Clinic, Result, Reviewer.name)
        .join(Record, Record.id == ReviewItem.record_id)
        .join(Clinic, Clinic.id == ReviewItem.clinic_id)
        .outerjoin(Result, Result.record_id == ReviewItem.record_id)
        .outerjoin(ReviewWork, ReviewWork.item_id == ReviewItem.id)
        .outerjoin(Reviewer, Reviewer.id == ReviewWork.claimed_by)
        .where(ReviewItem.status.in_(_OPEN))
        .order_by(ReviewItem.urgency, ReviewItem.created_at, ReviewItem.id)
    ).all()
    out = []
    for item, record, clinic, result, claimer in rows:
        findings = (result.result_json if result else {}).get("findings", [])
        codes = [
            str(f.get("code")) for f in findings if f.get("severity") in ("critical", "abnormal")
        ]
        out.append(
            WorkRow(
                item_id=item.id,
                record_id=record.id,
                clinic=clinic.name,
                clinic_ref=record.clinic_ref,
                severity=item.severity,
                urgency=item.urgency,
                codes=codes,
                created_at=item.created_at,
                status=item.status,
                claimed_by=claimer,
            )
        )
    audit(session, actor, "view_worklist", now=now, after={"items": len(out)}, remote_addr=remote)
    return out


def load_item(session: Session, item_id: int) -> ItemView:
    """The item and everything shown about it (no audit: callers audit their view)."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFoundError(f"worklist item {item_id} not found")
    record = session.get(Record, item.record_id)
    clinic = session.get(Clinic, item.clinic_id)
    assert record is not None
    assert clinic is not None
    res = session.scalar(select(Result).where(Result.record_id == record.id))
    result = dict(res.result_json) if res else {}
    findings = [{**f, "index": i} for i, f in enumerate(result.get("findings", []))]
    decisions = {
        d.finding_index: d
        for d in session.scalars(select(FindingDecision).where(FindingDecision.item_id == item_id))
    }
    for index in sorted(i for i in decisions if i >= len(findings)):  # reviewer-added findings
        d = decisions[index]
        findings.append(
            {
                "index": index,
                "code": d.code,
                "severity": d.original_severity,
                "rule": "reviewer",
                "message": f"added by a reviewer: {d.reason}",
            }
        )
    work = session.get(ReviewWork, item_id)
    claimer = session.get(Reviewer, work.claimed_by) if work else None
    return ItemView(
        item, record, clinic, result, findings, decisions, work, claimer.name if claimer else None
    )


def _mine(view: ItemView, actor: Actor) -> None:
    if view.work is None or view.work.claimed_by != actor.reviewer_id:
        who = f"claimed by {view.claimed_by}" if view.claimed_by else "not claimed"
        raise ForbiddenError(f"item {view.item.id} is {who}: claim it before changing it")
    if view.work.signed_at is not None:
        raise ReviewConflictError(f"item {view.item.id} is signed; signed reports are final")


def claim(
    session: Session, actor: Actor, item_id: int, *, now: datetime, remote: str | None = None
) -> None:
    """Claim an open item for ``actor``; one reviewer per item.

    Raises
    ------
    ReviewConflictError
        Another reviewer holds it, or it is signed.
    """
    taken = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item_id, ReviewItem.status == "open")
        .values(status="claimed")
    )
    if int(getattr(taken, "rowcount", 0) or 0) != 1:
        view = load_item(session, item_id)
        if (
            view.work is not None
            and view.work.claimed_by == actor.reviewer_id
            and view.item.status == "claimed"
        ):
            return  # already mine: claiming twice is harmless
        raise ReviewConflictError(
            f"item {item_id} is {view.item.status}"
            + (f" by {view.claimed_by}" if view.claimed_by else "")
        )
    item = session.get(ReviewItem, item_id)
    assert item is not None
    old = session.get(ReviewWork, item_id)
    if old is not None:  # released earlier by someone else
        session.delete(old)
        session.flush()
    session.add(ReviewWork(item_id=item_id, claimed_by=actor.reviewer_id, claimed_at=now))
    audit(
        session,
        actor,
        "claim",
        now=now,
        record_id=item.record_id,
        item_id=item_id,
        before={"status": "open"},
        after={"status": "claimed", "by": actor.name},
        remote_addr=remote,
    )


def release(
    session: Session, actor: Actor, item_id: int, *, now: datetime, remote: str | None = None
) -> None:
    """Give a claimed, unsigned item back to the worklist (the claimer or an admin)."""
    view = load_item(session, item_id)
    if view.work is None or view.item.status != "claimed":
        raise ReviewConflictError(f"item {item_id} is {view.item.status}, not claimed")
    if view.work.claimed_by != actor.reviewer_id and not actor.is_admin:
        raise ForbiddenError(f"item {item_id} is claimed by {view.claimed_by}")
    if view.work.signed_at is not None:
        raise ReviewConflictError(f"item {item_id} is signed")
    view.item.status = "open"
    session.delete(view.work)
    audit(
        session,
        actor,
        "release",
        now=now,
        record_id=view.record.id,
        item_id=item_id,
        before={"status": "claimed", "by": view.claimed_by},
        after={"status": "open"},
        remote_addr=remote,
    )


def decide(
    session: Session,
    actor: Actor,
    item_id: int,
    index: int,
    *,
    decision: Decision,
    severity: str | None,
    reason: str | None,
    policy: AlertPolicy,
    now: datetime,
    remote: str | None = None,
) -> bool:
    """Confirm a finding as reported, or override its severity (a reason is required).

    Returns
    -------
    bool
        True when alerts changed (a new alert or a correction is to be sent).

    Raises
    ------
    InputError
        Unknown finding, bad severity, or an override without a reason.
    """
    view = load_item(session, item_id)
    _mine(view, actor)
    finding = view.finding(index)
    if finding is None:
        raise InputError(f"item {item_id} has no finding #{index} (it has {len(view.findings)})")
    original = str(finding.get("severity"))
    reason = (reason or "").strip()
    if decision == "confirm":
        final = original
    elif decision == "override":
        if severity not in FINAL_SEVERITIES:
            raise InputError(
                f"override severity {severity!r}: choose one of {list(FINAL_SEVERITIES)}"
            )
        if len(reason) < 3:
            raise InputError("an override needs a reason (at least 3 characters)")
        final = severity
    else:
        raise InputError(f"decision {decision!r}: choose 'confirm' or 'override'")
    previous = view.decisions.get(index)
    before_final = previous.final_severity if previous else original
    before = (
        {
            "decision": previous.decision,
            "severity": previous.final_severity,
            "reason": previous.reason,
        }
        if previous
        else {"decision": None, "severity": original}
    )
    if previous is None:
        previous = FindingDecision(
            item_id=item_id,
            finding_index=index,
            code=str(finding.get("code")),
            original_severity=original,
        )
        session.add(previous)
    previous.decision = decision
    previous.final_severity = final
    previous.reason = reason or None
    previous.reviewer_id = actor.reviewer_id
    previous.decided_at = now
    code = str(finding.get("code"))
    changed = _alert_effects(session, view, code, before_final, final, reason, actor, policy, now)
    audit(
        session,
        actor,
        decision,
        now=now,
        record_id=view.record.id,
        item_id=item_id,
        before={"finding": index, "code": code, **before},
        after={
            "finding": index,
            "code": code,
            "decision": decision,
            "severity": final,
            "reason": reason or None,
            "alerts_changed": changed,
        },
        remote_addr=remote,
    )
    return changed


def _alert_effects(
    session: Session,
    view: ItemView,
    code: str,
    before: str,
    final: str,
    reason: str,
    actor: Actor,
    policy: AlertPolicy,
    now: datetime,
) -> bool:
    if final == "critical":
        alert = ensure_alerted(
            session,
            policy,
            record_id=view.record.id,
            clinic_id=view.record.clinic_id,
            codes=[code],
            now=now,
        )
        return alert is not None
    if before == "critical":
        note = f"{code} withdrawn by cardiologist {actor.name}: {reason}"
        return bool(
            withdraw_code(session, policy, record_id=view.record.id, code=code, note=note, now=now)
        )
    return False


def add_finding(
    session: Session,
    actor: Actor,
    item_id: int,
    *,
    code: str,
    severity: str,
    note: str,
    policy: AlertPolicy,
    now: datetime,
    remote: str | None = None,
) -> bool:
    """Add a finding the analyser missed (e.g. VF on an 'unanalysable' trace).

    Returns
    -------
    bool
        True when a new alert was created (a critical finding).
    """
    view = load_item(session, item_id)
    _mine(view, actor)
    code = code.strip().upper()
    if not code or severity not in FINAL_SEVERITIES[:3] or len(note.strip()) < 3:
        raise InputError(
            "a new finding needs a code, a severity (critical/abnormal/info) and a note"
        )
    index = max([*view.decisions.keys(), 999]) + 1
    session.add(
        FindingDecision(
            item_id=item_id,
            finding_index=index,
            code=code,
            original_severity=severity,
            decision="confirm",
            final_severity=severity,
            reason=note.strip(),
            reviewer_id=actor.reviewer_id,
            decided_at=now,
        )
    )
    changed = False
    if severity == "critical":
        changed = (
            ensure_alerted(
                session,
                policy,
                record_id=view.record.id,
                clinic_id=view.record.clinic_id,
                codes=[code],
                now=now,
            )
            is not None
        )
    audit(
        session,
        actor,
        "add_finding",
        now=now,
        record_id=view.record.id,
        item_id=item_id,
        before=None,
        after={"code": code, "severity": severity, "note": note.strip(), "alerts_changed": changed},
        remote_addr=remote,
    )
    return changed


def sign(
    session: Session,
    actor: Actor,
    item_id: int,
    *,
    conclusion: str,
    now: datetime,
    remote: str | None = None,
) -> None:
    """Sign the report (final): every finding decided, a conclusion written.

    Raises
    ------
    InputError
        Findings still undecided, or no conclusion.
    """
    view = load_item(session, item_id)
    _mine(view, actor)
    if view.undecided:
        raise InputError(
            f"decide every finding before signing: #{', #'.join(map(str, view.undecided))} open"
        )
    if len(conclusion.strip()) < 3:
        raise InputError("write a conclusion before signing")
    assert view.work is not None
    view.work.signed_at = now
    view.work.conclusion = conclusion.strip()
    view.item.status = "signed"
    audit(
        session,
        actor,
        "sign",
        now=now,
        record_id=view.record.id,
        item_id=item_id,
        before={"status": "claimed"},
        after={
            "status": "signed",
            "conclusion": conclusion.strip(),
            "findings": [
                {"code": d.code, "decision": d.decision, "severity": d.final_severity}
                for _i, d in sorted(view.decisions.items())
            ],
        },
        remote_addr=remote,
    )
