"""Clinic alert API over HTTP: own clinic only, read-back required, idempotent ack."""

from __future__ import annotations

from sqlalchemy import select

from models.db_review import AlertState
from tests.alerts.helpers import VT_FINDING
from tests.review.webenv import WebEnv


def _alert(web: WebEnv) -> int:
    web.item([VT_FINDING], "critical", alert=True)
    web.service.sweep()
    return int(web.hook.bodies[-1]["alert_id"])


def test_clinic_lists_and_reads_only_its_own_alerts(web: WebEnv) -> None:
    alert_id = _alert(web)
    with web.client(key=web.clinic_key) as own, web.client(key=web.other_key) as other:
        listed = own.get("/v1/alerts").json()
        assert [a["id"] for a in listed] == [alert_id]
        assert listed[0]["codes"] == ["VT"]
        assert listed[0]["notified_at"] is not None
        assert other.get("/v1/alerts").json() == []
        assert own.get(f"/v1/alerts/{alert_id}").status_code == 200
        assert other.get(f"/v1/alerts/{alert_id}").status_code == 404
        assert own.get("/v1/alerts/999999").status_code == 404
    with web.client() as anonymous:
        assert anonymous.get("/v1/alerts").status_code == 401


def test_ack_by_own_clinic_only(web: WebEnv) -> None:
    alert_id = _alert(web)
    body = {"received_by": "Nurse Chen (ward 3)", "read_back": "VT, 182 per minute"}
    with web.client(key=web.other_key) as other:
        # Given another clinic, When it tries to acknowledge, Then 404 and nothing changes
        assert other.post(f"/v1/alerts/{alert_id}/ack", json=body).status_code == 404
    with web.sessions() as session:
        state = session.get(AlertState, alert_id)
        assert state is not None
        assert state.acked_at is None
    with web.client(key=web.clinic_key) as own:
        resp = own.post(f"/v1/alerts/{alert_id}/ack", json=body)
        assert resp.status_code == 200
        out = resp.json()
        assert out["status"] == "acked"
        assert out["acked_by"] == "Nurse Chen (ward 3)"
        assert out["read_back"] == "VT, 182 per minute"
        assert out["already_acked"] is False
        # a repeated ack keeps the first one
        again = own.post(
            f"/v1/alerts/{alert_id}/ack", json={"received_by": "Someone else", "read_back": "VT"}
        ).json()
        assert again["already_acked"] is True
        assert again["acked_by"] == "Nurse Chen (ward 3)"
        assert own.get("/v1/alerts", params={"unacked": True}).json() == []


def test_ack_requires_a_matching_read_back(web: WebEnv) -> None:
    alert_id = _alert(web)
    with web.client(key=web.clinic_key) as own:
        wrong = own.post(
            f"/v1/alerts/{alert_id}/ack", json={"received_by": "Dr Liu", "read_back": "AF"}
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["code"] == "read_back_mismatch"
        assert "VT" in wrong.json()["error"]["message"]
        missing = own.post(f"/v1/alerts/{alert_id}/ack", json={"received_by": "Dr Liu"})
        assert missing.status_code == 422
        nobody = own.post(f"/v1/alerts/{alert_id}/ack", json={"received_by": "", "read_back": "VT"})
        assert nobody.status_code == 422
        assert own.get(f"/v1/alerts/{alert_id}").json()["acked_at"] is None
        chinese = own.post(
            f"/v1/alerts/{alert_id}/ack",
            json={"received_by": "刘医生", "read_back": "室速 182次/分"},
        )
        assert chinese.status_code == 200
    with web.sessions() as session:
        acked = session.scalars(select(AlertState.acked_by)).one()
    assert acked == "刘医生"
