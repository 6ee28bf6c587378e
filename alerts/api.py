"""Clinic alert API: ``GET /v1/alerts``, ``GET /v1/alerts/{id}``, ``POST /v1/alerts/{id}/ack``.

Mounted on the upload API app (same clinic API-key authentication and rate limit). A
clinic sees and acknowledges only its own alerts; any other id answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.readback import ReadBackError
from alerts.service import Clock, acknowledge, alert_view
from ingest.api.app import ClinicId
from models.db import Alert, utcnow
from models.db_review import AlertState
from models.errors import NotFoundError

__all__ = ["AckIn", "AlertOut", "make_alerts_router", "mount_alerts"]


class AckIn(BaseModel):
    """Acknowledgement of a critical value by the clinic."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    received_by: str = Field(
        min_length=2, max_length=200, description="Name (and role) of the person who received it."
    )
    read_back: str = Field(
        min_length=1,
        max_length=1000,
        description="The critical value(s) as repeated back by that person, e.g. 'VT 180/min'.",
    )


class AlertOut(BaseModel):
    """One alert with its notification and acknowledgement timeline."""

    id: int
    record_id: str
    clinic_ref: str | None
    patient_id: str | None
    codes: list[str]
    withdrawn_codes: list[str]
    status: str
    source: str | None
    created_at: datetime | None
    analysed_at: datetime | None
    notified_at: datetime | None
    ack_due_at: datetime | None
    escalations: int
    acked_at: datetime | None
    acked_by: str | None
    read_back: str | None
    already_acked: bool = False


def _out(session: Session, alert: Alert, **extra: bool) -> AlertOut:
    view = alert_view(session, alert, session.get(AlertState, alert.id))
    view.pop("clinic_id")
    return AlertOut(**view, **extra)


def make_alerts_router(
    sessions: sessionmaker[Session],
    *,
    clock: Clock = utcnow,
    on_change: Callable[[], None] | None = None,
) -> APIRouter:
    """Routes of the clinic alert API.

    Parameters
    ----------
    sessions : sessionmaker
        Database sessions.
    clock : callable
        Current UTC time.
    on_change : callable, optional
        Called after an acknowledgement is stored (wakes the alert loop).
    """
    router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

    @router.get("", response_model=list[AlertOut])
    def list_alerts(
        clinic: ClinicId,
        unacked: Annotated[bool, Query(description="Only alerts not yet acknowledged")] = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[AlertOut]:
        """The clinic's own alerts, newest first."""
        with sessions() as session:
            stmt = (
                select(Alert)
                .outerjoin(AlertState, AlertState.alert_id == Alert.id)
                .where(Alert.clinic_id == clinic)
            )
            if unacked:
                stmt = stmt.where(AlertState.acked_at.is_(None))
            rows = session.scalars(stmt.order_by(Alert.id.desc()).limit(limit)).all()
            return [_out(session, a) for a in rows]

    @router.get("/{alert_id}", response_model=AlertOut)
    def get_alert(alert_id: int, clinic: ClinicId) -> AlertOut:
        """One of the clinic's alerts (404 for any other clinic's)."""
        with sessions() as session:
            alert = session.get(Alert, alert_id)
            if alert is None or alert.clinic_id != clinic:
                raise NotFoundError(f"alert {alert_id} not found")
            return _out(session, alert)

    @router.post("/{alert_id}/ack", response_model=AlertOut)
    def ack_alert(alert_id: int, body: AckIn, clinic: ClinicId) -> AlertOut | JSONResponse:
        """Acknowledge receipt: who received it and their read-back of the critical value(s).

        422 ``read_back_mismatch`` when the read-back does not name every critical
        finding; a repeated acknowledgement returns the first one unchanged.
        """
        try:
            with sessions() as session, session.begin():
                recorded = acknowledge(
                    session,
                    clinic_id=clinic,
                    alert_id=alert_id,
                    received_by=body.received_by,
                    read_back=body.read_back,
                    now=clock(),
                )
                alert = session.get(Alert, alert_id)
                assert alert is not None
                session.flush()
                out = _out(session, alert, already_acked=not recorded)
        except ReadBackError as exc:
            return JSONResponse(
                status_code=422,
                content={"error": {"code": "read_back_mismatch", "message": str(exc)}},
            )
        if recorded and on_change is not None:
            on_change()
        return out

    return router


def mount_alerts(
    app: FastAPI, sessions: sessionmaker[Session], *, on_change: Callable[[], None] | None = None
) -> None:
    """Add the alert routes to the upload API app."""
    app.include_router(make_alerts_router(sessions, on_change=on_change))
