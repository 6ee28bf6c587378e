"""What a notification says: e-mail text and the webhook JSON body of one alert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.channels import Message
from alerts.readback import code_label
from models.db import Alert, Clinic, Record
from models.db_review import AlertState, as_utc

__all__ = ["KIND_TITLES", "build_message"]

#: Subject prefix per notification kind.
KIND_TITLES: dict[str, str] = {
    "initial": "CRITICAL ECG value",
    "reminder": "REMINDER: unacknowledged CRITICAL ECG value",
    "escalation": "ESCALATION: critical ECG value not acknowledged",
    "correction": "CORRECTION of a critical ECG value",
    "failure": "DELIVERY FAILED: critical ECG value could not be sent",
}


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.isoformat(timespec="seconds") if value else None


def build_message(
    *,
    kind: str,
    audience: str,
    alert: Alert,
    state: AlertState,
    record: Record,
    clinic: Clinic,
    findings: list[dict[str, Any]],
    public_url: str | None,
    note: str | None = None,
) -> Message:
    """Compose one notification of ``alert``.

    Parameters
    ----------
    kind : {"initial", "reminder", "escalation", "correction", "failure"}
        Why it is sent.
    audience : {"clinic", "oncall"}
        The sending clinic or the centre's on-call cardiologist.
    alert, state, record, clinic
        The alert, its timers, its record and the owning clinic.
    findings : list of dict
        The critical findings of the stored result (code, message, value, threshold,
        onset/offset in s, leads).
    public_url : str or None
        Base URL of the API for the acknowledgement link.
    note : str or None
        Free text (the correction reason, the delivery error).

    Returns
    -------
    Message
        Subject, text and JSON payload.
    """
    withdrawn = list(state.withdrawn_codes or [])
    active = [c for c in alert.codes if c not in withdrawn]
    ack_path = f"/v1/alerts/{alert.id}/ack"
    ack_url = f"{public_url.rstrip('/')}{ack_path}" if public_url else ack_path
    shown = [f for f in findings if f.get("code") in set(alert.codes)]
    payload: dict[str, Any] = {
        "type": "ecg.critical_value",
        "kind": kind,
        "audience": audience,
        "alert_id": alert.id,
        "record_id": record.id,
        "clinic_id": clinic.id,
        "clinic_ref": record.clinic_ref,
        "patient_id": record.patient_id,
        "codes": active,
        "withdrawn_codes": withdrawn,
        "findings": [
            {
                k: f.get(k)
                for k in ("code", "message", "value", "threshold", "onset_s", "offset_s", "leads")
            }
            for f in shown
        ],
        "analysed_at": _iso(state.analysed_at),
        "alerted_at": _iso(alert.created_at),
        "ack_due_at": _iso(state.due_at),
        "escalations": state.escalations,
        "acked_at": _iso(state.acked_at),
        "ack_url": ack_url,
        "note": note,
    }
    subject = (
        f"{KIND_TITLES.get(kind, kind)}: {', '.join(active) or 'withdrawn'} "
        f"(record {record.clinic_ref or record.id})"
    )
    lines = [
        f"{KIND_TITLES.get(kind, kind)} for {clinic.name}",
        f"Record: {record.id}  clinic ref: {record.clinic_ref or '-'}  "
        f"patient: {record.patient_id or '-'}",
        f"Analysed: {payload['analysed_at']}",
        "Critical findings: " + (", ".join(code_label(c) for c in active) or "none (withdrawn)"),
    ]
    for f in shown:
        if f.get("code") in active and f.get("message"):
            lines.append(f"  - {f['code']}: {f['message']}")
    if withdrawn:
        lines.append("Withdrawn by the reviewing cardiologist: " + ", ".join(withdrawn))
    if note:
        lines.append(f"Note: {note}")
    if kind != "correction" and state.acked_at is None and active:
        lines.append(
            f"Acknowledge now: POST {ack_url} with received_by and a read-back of the value(s)."
        )
    return Message(subject=subject, text="\n".join(lines), payload=payload)
