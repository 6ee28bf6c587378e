"""Alert service: webhook notification, retries, escalation timers, restart, corrections."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from alerts.consumer import AlertConsumer
from alerts.service import AlertService, acknowledge, alert_view, withdraw_code
from models.db import Alert
from models.db_review import AlertNotification, AlertState
from tests.alerts.conftest import AlertEnv
from tests.alerts.helpers import VT_FINDING, add_result, alert_delivery


def _new_alert(env: AlertEnv) -> tuple[int, str]:
    record_id = add_result(env.sessions, env.clinic_id, [VT_FINDING])
    delivery = alert_delivery(record_id, env.clinic_id, ["VT"])
    AlertConsumer(env.sessions, policy=env.policy, clock=env.clock).handle(delivery)
    assert delivery.acked
    with env.sessions() as session:
        alert_id = session.scalars(select(Alert.id).where(Alert.record_id == record_id)).one()
    return alert_id, record_id


def _kinds(env: AlertEnv) -> list[tuple[str, str, str]]:
    with env.sessions() as session:
        rows = session.execute(
            select(
                AlertNotification.kind, AlertNotification.audience, AlertNotification.status
            ).order_by(AlertNotification.id)
        ).all()
    return [tuple(r) for r in rows]


def test_new_alert_is_posted_to_the_clinic_webhook(env: AlertEnv) -> None:
    # Given a clinic with a webhook and a stored critical alert
    alert_id, record_id = _new_alert(env)
    # When the service sweeps (the consumer's kick does the same at once)
    stats = env.service.sweep()
    # Then the real local receiver got one signed JSON POST naming the critical value
    assert stats.sent == 1
    assert len(env.hook.requests) == 1
    headers, body, raw = env.hook.requests[0]
    assert body["alert_id"] == alert_id
    assert body["record_id"] == record_id
    assert body["kind"] == "initial"
    assert body["codes"] == ["VT"]
    assert body["findings"][0]["value"] == 182.0
    assert body["ack_url"].endswith(f"/v1/alerts/{alert_id}/ack")
    expected = "sha256=" + hmac.new(b"s3", raw, hashlib.sha256).hexdigest()
    assert headers["X-ECG-Signature"] == expected
    with env.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert alert.status == "notified"
        view = alert_view(session, alert, session.get(AlertState, alert_id))
    assert view["notified_at"] == env.clock.now
    # And a second sweep sends nothing new
    env.service.sweep()
    assert len(env.hook.requests) == 1


def test_redelivered_message_does_not_notify_twice(env: AlertEnv) -> None:
    record_id = add_result(env.sessions, env.clinic_id, [VT_FINDING])
    delivery = alert_delivery(record_id, env.clinic_id, ["VT"])
    consumer = AlertConsumer(env.sessions, policy=env.policy, clock=env.clock)
    consumer.handle(delivery)
    consumer.handle(delivery)  # broker redelivery, same message id
    env.service.sweep()
    assert len(env.hook.requests) == 1


def test_webhook_failure_is_retried_then_oncall_told(env: AlertEnv) -> None:
    # Given a webhook that answers 500 to every try (2 quick tries per attempt)
    env.hook.statuses = [500] * 100
    _new_alert(env)
    env.service.sweep()
    assert len(env.hook.requests) == 2
    assert ("initial", "clinic", "pending") in _kinds(env)
    # When the retries run out (3 attempts, 30 s apart)
    for _ in range(2):
        env.clock.advance(seconds=31)
        env.service.sweep()
    # Then the notification is failed and on-call got a delivery-failure message
    kinds = _kinds(env)
    assert ("initial", "clinic", "failed") in kinds
    assert ("failure", "oncall", "sent") in kinds
    assert "DELIVERY FAILED" in env.oncall.sent[-1][1].subject


def test_webhook_recovers_after_transient_error(env: AlertEnv) -> None:
    env.hook.statuses = [503]
    _new_alert(env)
    env.service.sweep()
    assert [b["kind"] for b in env.hook.bodies] == ["initial", "initial"]
    assert _kinds(env) == [("initial", "clinic", "sent")]


def test_unacknowledged_alert_escalates_after_timeout(env: AlertEnv) -> None:
    # Given a notified alert
    alert_id, _ = _new_alert(env)
    env.service.sweep()
    # When 9 minutes pass without acknowledgement: nothing happens
    env.clock.advance(minutes=9)
    assert env.service.sweep().escalated == 0
    # When the 10-minute timeout passes: reminder to the clinic, escalation to on-call
    env.clock.advance(minutes=1, seconds=5)
    stats = env.service.sweep()
    assert stats.escalated == 1
    assert [b["kind"] for b in env.hook.bodies] == ["initial", "reminder"]
    assert "ESCALATION" in env.oncall.sent[-1][1].subject
    # And it repeats every 10 minutes until acknowledged
    env.clock.advance(minutes=10, seconds=1)
    assert env.service.sweep().escalated == 1
    with env.sessions() as session, session.begin():
        assert acknowledge(
            session,
            clinic_id=env.clinic_id,
            alert_id=alert_id,
            received_by="Nurse Li",
            read_back="VT",
            now=env.clock.now,
        )
    env.clock.advance(minutes=30)
    assert env.service.sweep().escalated == 0
    with env.sessions() as session:
        state = session.get(AlertState, alert_id)
        alert = session.get(Alert, alert_id)
        assert state is not None
        assert state.escalations == 2
        assert alert is not None
        assert alert.status == "acked"


def test_escalation_timer_survives_a_restart(env: AlertEnv) -> None:
    # Given an alert notified by one service instance, which then goes away
    _new_alert(env)
    env.service.sweep()
    # When a new instance (a restarted process) sweeps after the timeout
    env.clock.advance(minutes=11)
    fresh = AlertService(env.sessions, env.policy, env.service.channels, clock=env.clock)
    # Then it escalates from the timer stored in the database
    assert fresh.sweep().escalated == 1
    assert env.hook.bodies[-1]["kind"] == "reminder"


def test_alert_without_state_is_adopted(env: AlertEnv) -> None:
    # Given an alert row written without timers (an older consumer)
    record_id = add_result(env.sessions, env.clinic_id, [VT_FINDING])
    with env.sessions() as session, session.begin():
        session.add(
            Alert(message_id="m-old", record_id=record_id, clinic_id=env.clinic_id, codes=["VT"])
        )
    # When the sweep runs, Then it is tracked and notified
    stats = env.service.sweep()
    assert stats.adopted == 1
    assert stats.sent == 1


def test_withdrawn_code_sends_a_correction_and_stops_escalation(env: AlertEnv) -> None:
    alert_id, record_id = _new_alert(env)
    env.service.sweep()
    with env.sessions() as session, session.begin():
        changed = withdraw_code(
            session, env.policy, record_id=record_id, code="VT", note="artefact", now=env.clock.now
        )
    assert changed == [alert_id]
    env.service.sweep()
    assert env.hook.bodies[-1]["kind"] == "correction"
    assert env.hook.bodies[-1]["withdrawn_codes"] == ["VT"]
    env.clock.advance(minutes=30)
    assert env.service.sweep().escalated == 0


@pytest.mark.db
def test_notify_escalate_ack_on_postgresql(pg_env: AlertEnv) -> None:
    env = pg_env
    alert_id, _ = _new_alert(env)
    assert env.service.sweep().sent == 1
    env.clock.advance(minutes=10, seconds=1)
    assert env.service.sweep().escalated == 1
    with env.sessions() as session, session.begin():
        assert acknowledge(
            session,
            clinic_id=env.clinic_id,
            alert_id=alert_id,
            received_by="Dr Wang",
            read_back="ventricular tachycardia 182",
            now=env.clock.now,
        )
    env.clock.advance(minutes=20)
    assert env.service.sweep().escalated == 0
    assert json.dumps(env.hook.bodies[0]["codes"]) == '["VT"]'


def test_redelivery_is_acked_but_other_integrity_errors_are_not(env: AlertEnv) -> None:
    """A duplicate message id is a redelivery (ack); a dangling record is not (raise)."""
    from sqlalchemy.exc import IntegrityError

    from review.consumer import ReviewConsumer
    from tests.alerts.helpers import FakeDelivery

    record_id = add_result(env.sessions, env.clinic_id, [VT_FINDING])
    for consumer in (
        AlertConsumer(env.sessions, policy=env.policy, clock=env.clock),
        ReviewConsumer(env.sessions),
    ):
        first = alert_delivery(record_id, env.clinic_id, ["VT"])
        consumer.handle(first)
        again = FakeDelivery(first.body, message_id=first.message_id)
        consumer.handle(again)
        assert first.acked
        assert again.acked  # stored once, the redelivery acked
        dangling = alert_delivery("no-such-record", env.clinic_id, ["VT"])
        with pytest.raises(IntegrityError):
            consumer.handle(dangling)
        assert not dangling.acked  # requeued by the consumer loop, never acked as stored
    with env.sessions() as session:
        assert session.scalars(select(Alert.record_id)).all() == [record_id]
