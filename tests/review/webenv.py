"""A running API + reviewer page over a real socket, with clinics, reviewers and items."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from alerts.api import mount_alerts
from alerts.channels import Channels, EmailChannel, LogChannel, WebhookChannel
from alerts.consumer import AlertConsumer
from alerts.service import AlertPolicy, AlertService
from ingest.api import create_app
from ingest.blobstore import BlobStore
from models.db import Record, Result, ReviewItem
from models.db_review import ClinicNotifySettings
from models.settings import Settings
from review.auth import create_reviewer
from review.consumer import ReviewConsumer
from review.web import mount_review
from tests.alerts.helpers import (
    VT_FINDING,
    FakeDelivery,
    WebhookReceiver,
    add_clinic,
    add_result,
    alert_delivery,
    serve_app,
    store_record_files,
)

SAMPLES = Path(__file__).resolve().parents[2] / "sample_records"
CSRF_RE = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class WebEnv:
    url: str
    sessions: sessionmaker[Session]
    blobs: BlobStore
    clinic_id: str
    clinic_key: str
    other_id: str
    other_key: str
    tokens: dict[str, str]
    hook: WebhookReceiver
    service: AlertService
    files: list[dict[str, Any]]
    policy: AlertPolicy

    def client(self, who: str | None = None, *, key: str | None = None) -> httpx.Client:
        headers = {}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        if key is not None:
            headers["X-API-Key"] = key
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def item(
        self, findings: list[dict[str, Any]], severity: str, *, alert: bool = False
    ) -> tuple[int, str]:
        """A record with a stored result (real signal: vfdb418) on the worklist."""
        record_id = add_result(
            self.sessions,
            self.clinic_id,
            findings,
            severity=severity,
            files=self.files,
            primary_file="vfdb418_360-480s.hea",
            result_extra={"fs_hz": 250.0, "duration_s": 120.0, "leads": ["ECG1", "ECG2"]},
        )
        delivery = FakeDelivery(
            {"record_id": record_id, "clinic_id": self.clinic_id, "severity": severity, "codes": []}
        )
        ReviewConsumer(self.sessions).handle(delivery)
        if alert:
            codes = [f["code"] for f in findings if f["severity"] == "critical"]
            AlertConsumer(self.sessions, policy=self.policy).handle(
                alert_delivery(record_id, self.clinic_id, codes)
            )
        from sqlalchemy import select

        from models.db import ReviewItem

        with self.sessions() as session:
            item_id = session.scalars(
                select(ReviewItem.id).where(ReviewItem.record_id == record_id)
            ).one()
        return item_id, record_id

    def record(
        self,
        sample: str,
        *,
        recording_type: str = "resting",
        clinic_id: str | None = None,
        patient_id: str | None = "P-001",
        created_at: datetime | None = None,
    ) -> str:
        """A done record of ``sample_records/<sample>.hea`` + ``.dat`` (no result yet)."""
        files = store_record_files(
            self.blobs, [SAMPLES / f"{sample}.hea", SAMPLES / f"{sample}.dat"]
        )
        with self.sessions() as session, session.begin():
            rec = Record(
                clinic_id=clinic_id or self.clinic_id,
                content_sha256=uuid.uuid4().hex * 2,
                status="done",
                source_format="wfdb",
                primary_file=f"{sample}.hea",
                files=files,
                total_bytes=1,
                recording_type=recording_type,
                patient_id=patient_id,
                clinic_ref=f"REF-{sample}",
                attempts=1,
                **({"created_at": created_at} if created_at is not None else {}),
            )
            session.add(rec)
            session.flush()
            return rec.id

    def result_item(
        self, record_id: str, result: dict[str, Any], *, severity: str | None = None
    ) -> int:
        """Store ``result`` (AnalysisResult JSON) for the record and put it on the worklist."""
        result = {**result, "record_id": record_id}
        if severity is None:
            sev = {f.get("severity") for f in result.get("findings", [])}
            severity = "critical" if "critical" in sev else "abnormal"
        with self.sessions() as session, session.begin():
            clinic_id = session.get(Record, record_id).clinic_id  # type: ignore[union-attr]
            session.add(
                Result(
                    record_id=record_id,
                    result_json=result,
                    severity=severity,
                    analysis_version=str(result.get("analysis_version", "t")),
                )
            )
        ReviewConsumer(self.sessions).handle(
            FakeDelivery(
                {"record_id": record_id, "clinic_id": clinic_id, "severity": severity, "codes": []}
            )
        )
        from sqlalchemy import select

        with self.sessions() as session:
            return int(
                session.scalars(
                    select(ReviewItem.id).where(ReviewItem.record_id == record_id)
                ).one()
            )


@contextmanager
def start_web(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[WebEnv]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", rate_limit_per_min=100_000)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    blobs = BlobStore(str(tmp_path / "blobs"))
    files = store_record_files(
        blobs, [SAMPLES / "vfdb418_360-480s.hea", SAMPLES / "vfdb418_360-480s.dat"]
    )
    clinic_id, key = add_clinic(sessions, "Clinic A")
    other_id, other_key = add_clinic(sessions, "Clinic B")
    tokens = {}
    with sessions() as session, session.begin():
        for name, admin in (("alice", False), ("bob", False), ("admin", True)):
            tokens[name] = create_reviewer(session, name, admin=admin)[1]
    policy = AlertPolicy(ack_timeout_min=10, retry_s=1, max_attempts=2)
    channels = Channels(
        webhook=WebhookChannel(timeout_s=5, tries=1, sleep=lambda _s: None),
        email=EmailChannel(host=None),
        log=LogChannel(),
    )
    service = AlertService(sessions, policy, channels)
    app = create_app(settings, sessions, blobs)
    mount_alerts(app, sessions)
    mount_review(app, sessions, blobs, policy=policy)
    with WebhookReceiver() as hook, serve_app(app) as url:
        with sessions() as session, session.begin():
            session.add(
                ClinicNotifySettings(
                    clinic_id=clinic_id, channels=["webhook"], webhook_url=hook.url
                )
            )
        yield WebEnv(
            url,
            sessions,
            blobs,
            clinic_id,
            key,
            other_id,
            other_key,
            tokens,
            hook,
            service,
            files,
            policy,
        )


__all__ = ["CSRF_RE", "VT_FINDING", "WebEnv", "start_web"]
