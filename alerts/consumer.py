"""Minimal alerts consumer: one ``alerts`` row per critical result message.

Consumes ``ecg.alerts`` (routing key ``result.critical``). Idempotent by message id
(``alerts.message_id`` is UNIQUE): a redelivered message is acknowledged without a
second row. Table ``alerts``: ``message_id``, ``record_id``, ``clinic_id``, ``codes``
(critical finding codes), ``status`` (``new``, then ``notified``, ``escalated``,
``acked`` or ``withdrawn`` as :mod:`alerts.service` moves it), ``created_at``.

In the same transaction the alert's timers and first notifications are stored
(:func:`alerts.service.open_alert`); ``on_stored`` then wakes the sender so the clinic
is notified at once (the periodic sweep is the backstop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alerts.service import AlertPolicy, open_alert
from ingest.messaging import Delivery, QueueKey
from models.db import Alert, message_already_stored, utcnow

__all__ = ["AlertConsumer"]

log = logging.getLogger(__name__)


class AlertConsumer:
    """Stores an alert per critical result; ack after commit."""

    queue: ClassVar[QueueKey] = "alerts"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        policy: AlertPolicy | None = None,
        on_stored: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._policy = policy or AlertPolicy()
        self._on_stored = on_stored
        self._clock = clock
        self.stored = 0

    def handle(self, delivery: Delivery) -> None:
        """Store the alert (or recognise the duplicate), then ack."""
        body = delivery.body
        try:
            with self._sessions() as session, session.begin():
                alert = Alert(
                    created_at=self._clock(),
                    message_id=delivery.message_id,
                    record_id=str(body["record_id"]),
                    clinic_id=str(body["clinic_id"]),
                    codes=list(body.get("codes") or []),
                )
                session.add(alert)
                session.flush()
                open_alert(session, alert, self._policy, now=self._clock())
            self.stored += 1
            log.warning("CRITICAL result for record %s: %s", body["record_id"], body.get("codes"))
        except IntegrityError:
            if not message_already_stored(self._sessions, Alert, delivery.message_id):
                raise  # not a redelivery: requeued, dead-lettered after the delivery limit
            log.info("alert for message %s already stored", delivery.message_id)
        except KeyError as exc:
            log.error("malformed alert message %s: missing %s", delivery.message_id, exc)
            delivery.nack(requeue=False)
            return
        delivery.ack()
        if self._on_stored is not None:
            self._on_stored()
