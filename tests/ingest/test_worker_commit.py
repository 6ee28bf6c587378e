"""The worker acks an ``IntegrityError`` as a duplicate only when the inbox has the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ingest.inproc_queue import InprocBroker
from ingest.worker import Worker
from models.db import InboxEntry, ReviewItem
from models.settings import Settings
from tests.alerts.helpers import FakeDelivery, sqlite_sessions


def test_only_a_real_redelivery_is_acked_as_processed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECG_BLOB_URL", str(tmp_path / "blobs"))
    sessions = sqlite_sessions(tmp_path)
    worker = Worker(Settings(_env_file=None), sessions, InprocBroker(), use_processes=False)
    done = FakeDelivery({"record_id": "r1"}, message_id="m-1")
    worker._commit_final(done, "r1", lambda _s: None)
    again = FakeDelivery({"record_id": "r1"}, message_id="m-1")
    worker._commit_final(again, "r1", lambda _s: None)  # inbox UNIQUE: a redelivery
    assert done.acked
    assert again.acked

    def dangling(session: Session) -> None:  # a foreign key to no record
        session.execute(
            insert(ReviewItem).values(
                message_id="x", record_id="nope", clinic_id="nope", severity="critical", urgency=0
            )
        )

    failed = FakeDelivery({"record_id": "r2"}, message_id="m-2")
    with pytest.raises(IntegrityError):
        worker._commit_final(failed, "r2", dangling)
    assert not failed.acked  # _process_safely requeues it; it is never acked as done
    with sessions() as s:
        assert s.scalars(select(InboxEntry.message_id)).all() == ["m-1"]
