"""The prior ECG named by a result's ``comparison`` block, under the clinic rule.

The worker only compares with an earlier ECG of the same clinic and patient
(``ingest.worker._find_prior``); the review page checks it again when it shows the
prior: a prior record of another clinic, of another patient, or that no longer exists is
never shown (only that it is unavailable). Callers audit the view of a prior they show
(``view_prior``, ``view_prior_trace``) in the transaction that loaded it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Record, Result, ReviewItem
from review.workflow import ItemView

__all__ = ["PriorState", "PriorView", "load_prior"]

#: ``none``: the result has no comparison block (Holter, older result); ``no_prior``: it
#: was compared and there was no prior ECG; ``unavailable``: the named prior is not of
#: this clinic and patient, or is gone; ``ok``: shown.
PriorState = Literal["none", "no_prior", "unavailable", "ok"]


@dataclass(frozen=True)
class PriorView:
    """A prior ECG the reviewer of the current item may see."""

    record: Record
    result: dict[str, Any]
    item_id: int | None  # its most recent worklist item, if it had one


def load_prior(session: Session, view: ItemView) -> tuple[PriorState, PriorView | None]:
    """The prior ECG of ``view``'s result, if the clinic rule allows showing it."""
    comparison = view.result.get("comparison")
    if not isinstance(comparison, dict):
        return "none", None
    prior_id = comparison.get("prior_record_id")
    if not prior_id:
        return "no_prior", None
    record = session.get(Record, str(prior_id)[:32])
    if (
        record is None
        or record.id == view.record.id
        or record.clinic_id != view.record.clinic_id
        or (record.patient_id or None) != (view.record.patient_id or None)
    ):
        return "unavailable", None
    res = session.scalar(select(Result.result_json).where(Result.record_id == record.id))
    item_id = session.scalar(
        select(ReviewItem.id)
        .where(ReviewItem.record_id == record.id, ReviewItem.clinic_id == record.clinic_id)
        .order_by(ReviewItem.id.desc())
        .limit(1)
    )
    return "ok", PriorView(record, dict(res) if isinstance(res, dict) else {}, item_id)
