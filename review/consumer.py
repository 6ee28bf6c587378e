"""Minimal review consumer: the reviewer worklist, one row per result needing a human.

Consumes ``ecg.review`` (``result.critical``, ``result.abnormal``,
``result.unanalysable``, ``result.revised``). Idempotent by message id
(``review_items.message_id`` is UNIQUE). Table ``review_items``: ``message_id``,
``record_id``, ``clinic_id``, ``severity``, ``urgency`` (0 critical, 1 unanalysable or
failed, or a re-analysis that revised a critical or signed result, 2 abnormal; lower is
more urgent), ``status`` (``open``), ``created_at``.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.messaging import Delivery, QueueKey
from models.db import ReviewItem, message_already_stored

__all__ = ["REVISED_URGENCY", "URGENCY", "ReviewConsumer"]

log = logging.getLogger(__name__)

#: Worklist urgency by result severity (0 = first).
URGENCY: dict[str, int] = {"critical": 0, "unanalysable": 1, "abnormal": 2}
#: A re-analysis that dropped a critical value or disagrees with a signed report.
REVISED_URGENCY = 1


class ReviewConsumer:
    """Adds worklist items; ack after commit."""

    queue: ClassVar[QueueKey] = "review"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.stored = 0

    def handle(self, delivery: Delivery) -> None:
        """Store the worklist item (or recognise the duplicate), then ack."""
        body = delivery.body
        try:
            severity = str(body["severity"])
            with self._sessions() as session, session.begin():
                session.add(
                    ReviewItem(
                        message_id=delivery.message_id,
                        record_id=str(body["record_id"]),
                        clinic_id=str(body["clinic_id"]),
                        severity=severity,
                        urgency=min(
                            URGENCY.get(severity, 2),
                            REVISED_URGENCY if delivery.routing_key == "result.revised" else 2,
                        ),
                    )
                )
            self.stored += 1
        except IntegrityError:
            if not message_already_stored(self._sessions, ReviewItem, delivery.message_id):
                raise  # not a redelivery: requeued, dead-lettered after the delivery limit
            log.info("review item for message %s already stored", delivery.message_id)
        except KeyError as exc:
            log.error("malformed review message %s: missing %s", delivery.message_id, exc)
            delivery.nack(requeue=False)
            return
        delivery.ack()
