"""Minimal alerts consumer: one ``alerts`` row per critical result message.

Consumes ``ecg.alerts`` (routing key ``result.critical``). Idempotent by message id
(``alerts.message_id`` is UNIQUE): a redelivered message is acknowledged without a
second row. Table ``alerts``: ``message_id``, ``record_id``, ``clinic_id``, ``codes``
(critical finding codes), ``status`` (``new``; notify/escalate/ack come later),
``created_at``.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.messaging import Delivery, QueueKey
from models.db import Alert

__all__ = ["AlertConsumer"]

log = logging.getLogger(__name__)


class AlertConsumer:
    """Stores an alert per critical result; ack after commit."""

    queue: ClassVar[QueueKey] = "alerts"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.stored = 0

    def handle(self, delivery: Delivery) -> None:
        """Store the alert (or recognise the duplicate), then ack."""
        body = delivery.body
        try:
            with self._sessions() as session, session.begin():
                session.add(
                    Alert(
                        message_id=delivery.message_id,
                        record_id=str(body["record_id"]),
                        clinic_id=str(body["clinic_id"]),
                        codes=list(body.get("codes") or []),
                    )
                )
            self.stored += 1
            log.warning("CRITICAL result for record %s: %s", body["record_id"], body.get("codes"))
        except IntegrityError:
            log.info("alert for message %s already stored", delivery.message_id)
        except KeyError as exc:
            log.error("malformed alert message %s: missing %s", delivery.message_id, exc)
            delivery.nack(requeue=False)
            return
        delivery.ack()
