"""Reviewer page: auth on every URL, worklist order, claim, decisions, sign, audit, alerts."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from models.db import Alert
from models.db_review import AlertNotification, AlertState, AuditEntry, FindingDecision
from review.web import COOKIE
from tests.alerts.helpers import TACHY_FINDING, VT_FINDING
from tests.review.webenv import CSRF_RE, WebEnv

UNANALYSABLE: list[dict[str, object]] = []


def _routes(web: WebEnv) -> list[tuple[str, str]]:
    from fastapi.routing import APIRoute

    from alerts.api import make_alerts_router  # noqa: F401  (same app as the fixture)
    from review.web import make_review_router

    router = make_review_router(web.sessions, web.blobs, policy=web.policy)
    out = []
    for route in router.routes:
        assert isinstance(route, APIRoute)
        path = route.path.replace("{item_id}", "1").replace("{index}", "0")
        for method in route.methods:
            out.append((method, path))
    return out


def _audit(web: WebEnv) -> list[AuditEntry]:
    with web.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_every_review_url_requires_a_reviewer(web: WebEnv) -> None:
    # Given an item with patient data on the worklist
    web.item([VT_FINDING], "critical")
    routes = [(m, p) for m, p in _routes(web) if not p.startswith("/review/login")]
    assert len(routes) >= 9
    with web.client() as anon, web.client() as forged:
        forged.headers["Authorization"] = "Bearer rvw_not-a-real-token"
        forged.cookies.set(COOKIE, "forged-session")
        for client in (anon, forged):
            for method, path in routes:
                # When called without a valid reviewer
                resp = client.request(method, path, data={"decision": "confirm", "conclusion": "x"})
                # Then 401 (or a redirect to the login page for browsers), no patient data
                assert resp.status_code in (401, 303), (method, path, resp.status_code)
                assert "P-001" not in resp.text
                if resp.status_code == 303:
                    assert resp.headers["location"] == "/review/login"
    with web.client() as browser:
        resp = browser.get("/review/", headers={"Accept": "text/html"})
        assert resp.status_code == 303
        assert browser.get("/review/login").status_code == 200


def test_cookie_login_and_csrf(web: WebEnv) -> None:
    item_id, _ = web.item([VT_FINDING], "critical")
    with web.client() as browser:
        # Wrong token: 401 and an audited failure
        bad = browser.post("/review/login", data={"name": "alice", "token": "nope"})
        assert bad.status_code == 401
        assert _audit(web)[-1].action == "login_failed"
        # Right token: a session cookie, the worklist, CSRF-protected forms
        ok = browser.post("/review/login", data={"name": "alice", "token": web.tokens["alice"]})
        assert ok.status_code == 303
        assert "httponly" in ok.headers["set-cookie"].lower()
        page = browser.get("/review/")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        csrf = CSRF_RE.search(page.text)
        assert csrf is not None
        assert browser.post(f"/review/items/{item_id}/claim").status_code == 403
        assert (
            browser.post(f"/review/items/{item_id}/claim", data={"csrf": csrf.group(1)}).status_code
            == 303
        )
        out = browser.post("/review/logout", data={"csrf": csrf.group(1)})
        assert out.status_code == 303
        assert browser.get("/review/items/1").status_code == 401


def test_worklist_is_most_urgent_first_then_oldest(web: WebEnv) -> None:
    # Given items arriving in mixed order
    abnormal_old, _ = web.item([TACHY_FINDING], "abnormal")
    critical_1, _ = web.item([VT_FINDING], "critical")
    unanalysable, _ = web.item([], "unanalysable")
    abnormal_new, _ = web.item([TACHY_FINDING], "abnormal")
    critical_2, _ = web.item([VT_FINDING], "critical")
    # When the worklist is shown
    with web.client("alice") as alice:
        html = alice.get("/review/").text
    order = [int(i) for i in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]
    # Then critical (oldest first), then unanalysable, then abnormal (oldest first)
    assert order == [critical_1, critical_2, unanalysable, abnormal_old, abnormal_new]


def test_no_two_reviewers_on_one_item(web: WebEnv) -> None:
    item_id, _ = web.item([VT_FINDING], "critical")
    with web.client("alice") as alice, web.client("bob") as bob:
        assert alice.post(f"/review/items/{item_id}/claim").status_code == 303
        conflict = bob.post(f"/review/items/{item_id}/claim")
        assert conflict.status_code == 409
        assert "alice" in conflict.text
        # bob cannot decide on alice's item; alice claiming again is harmless
        assert (
            bob.post(
                f"/review/items/{item_id}/findings/0", data={"decision": "confirm"}
            ).status_code
            == 403
        )
        assert alice.post(f"/review/items/{item_id}/claim").status_code == 303
        # after a release bob may take it
        assert alice.post(f"/review/items/{item_id}/release").status_code == 303
        assert bob.post(f"/review/items/{item_id}/claim").status_code == 303


def test_override_requires_a_reason(web: WebEnv) -> None:
    item_id, _ = web.item([TACHY_FINDING], "abnormal")
    with web.client("alice") as alice:
        alice.post(f"/review/items/{item_id}/claim")
        url = f"/review/items/{item_id}/findings/0"
        no_reason = alice.post(url, data={"decision": "override", "severity": "none"})
        assert no_reason.status_code == 422
        assert "reason" in no_reason.text
        blank = alice.post(url, data={"decision": "override", "severity": "none", "reason": "  "})
        assert blank.status_code == 422
        ok = alice.post(
            url, data={"decision": "override", "severity": "none", "reason": "motion artefact"}
        )
        assert ok.status_code == 303
    with web.sessions() as session:
        d = session.scalars(select(FindingDecision)).one()
    assert (d.decision, d.final_severity, d.reason) == ("override", "none", "motion artefact")


def test_every_view_and_change_is_audited(web: WebEnv) -> None:
    item_id, record_id = web.item([TACHY_FINDING], "abnormal")
    with web.client("alice") as alice, web.client("admin") as admin:
        assert alice.get("/review/").status_code == 200
        assert alice.get(f"/review/items/{item_id}").status_code == 200
        svg = alice.get(f"/review/items/{item_id}/trace.svg", params={"start_s": 5})
        assert svg.status_code == 200
        assert alice.post(f"/review/items/{item_id}/claim").status_code == 303
        assert (
            alice.post(
                f"/review/items/{item_id}/findings/0", data={"decision": "confirm"}
            ).status_code
            == 303
        )
        # signing needs a conclusion
        assert (
            alice.post(f"/review/items/{item_id}/sign", data={"conclusion": ""}).status_code == 422
        )
        assert (
            alice.post(
                f"/review/items/{item_id}/sign", data={"conclusion": "Sinus tachycardia."}
            ).status_code
            == 303
        )
        # signed is final
        again = alice.post(f"/review/items/{item_id}/findings/0", data={"decision": "confirm"})
        assert again.status_code == 409
        assert alice.get("/review/audit").status_code == 403
        trail = admin.get("/review/audit", params={"record_id": record_id})
        assert trail.status_code == 200
    rows = _audit(web)
    actions = [r.action for r in rows]
    assert actions == [
        "view_worklist",
        "view_item",
        "view_trace",
        "claim",
        "confirm",
        "sign",
        "view_audit",
    ]
    assert all(r.actor == "alice" and r.reviewer_id is not None for r in rows[:-1])
    assert all(r.record_id == record_id for r in rows[1:])
    confirm = rows[4]
    assert confirm.before == {
        "finding": 0,
        "code": "SINUS_TACHY",
        "decision": None,
        "severity": "abnormal",
    }
    assert confirm.after is not None
    assert confirm.after["severity"] == "abnormal"
    assert rows[5].after is not None
    assert rows[5].after["status"] == "signed"
    assert "SINUS_TACHY" in trail.text
    assert "alice" in trail.text


def test_sign_needs_every_finding_decided(web: WebEnv) -> None:
    item_id, _ = web.item([TACHY_FINDING, VT_FINDING], "critical")
    with web.client("alice") as alice:
        alice.post(f"/review/items/{item_id}/claim")
        alice.post(f"/review/items/{item_id}/findings/0", data={"decision": "confirm"})
        resp = alice.post(f"/review/items/{item_id}/sign", data={"conclusion": "VT."})
        assert resp.status_code == 422
        assert "#1" in resp.text


def test_confirming_an_unalerted_critical_creates_an_alert(web: WebEnv) -> None:
    # Given a critical item whose automatic alert never arrived
    item_id, record_id = web.item([VT_FINDING], "critical")
    with web.client("alice") as alice:
        alice.post(f"/review/items/{item_id}/claim")
        # When the cardiologist confirms the critical finding
        assert (
            alice.post(
                f"/review/items/{item_id}/findings/0", data={"decision": "confirm"}
            ).status_code
            == 303
        )
    # Then an alert exists and is delivered to the clinic's webhook
    with web.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.record_id == record_id)).one()
        state = session.get(AlertState, alert.id)
        assert state is not None
        assert state.source == "review"
    web.service.sweep()
    assert [b["codes"] for b in web.hook.bodies] == [["VT"]]
    # And confirming again creates no second alert
    with web.client("alice") as alice:
        alice.post(f"/review/items/{item_id}/findings/0", data={"decision": "confirm"})
    with web.sessions() as session:
        assert len(session.scalars(select(Alert)).all()) == 1


def test_adding_a_missed_critical_finding_alerts(web: WebEnv) -> None:
    item_id, record_id = web.item([], "unanalysable")
    with web.client("alice") as alice:
        alice.post(f"/review/items/{item_id}/claim")
        resp = alice.post(
            f"/review/items/{item_id}/findings",
            data={"code": "VF", "severity": "critical", "note": "coarse VF visible in both leads"},
        )
        assert resp.status_code == 303
        assert (
            alice.post(f"/review/items/{item_id}/sign", data={"conclusion": "VF."}).status_code
            == 303
        )
    with web.sessions() as session:
        assert session.scalars(select(Alert.codes).where(Alert.record_id == record_id)).one() == [
            "VF"
        ]


def test_override_after_alert_sends_a_correction(web: WebEnv) -> None:
    # Given a critical result whose alert reached the clinic
    item_id, record_id = web.item([VT_FINDING], "critical", alert=True)
    web.service.sweep()
    assert [b["kind"] for b in web.hook.bodies] == ["initial"]
    # When the cardiologist overrides VT to abnormal with a reason
    with web.client("alice") as alice:
        alice.post(f"/review/items/{item_id}/claim")
        resp = alice.post(
            f"/review/items/{item_id}/findings/0",
            data={"decision": "override", "severity": "abnormal", "reason": "artefact from tremor"},
        )
        assert resp.status_code == 303
    web.service.sweep()
    # Then the clinic receives a correction naming the withdrawn value and the reason
    correction = web.hook.bodies[-1]
    assert correction["kind"] == "correction"
    assert correction["withdrawn_codes"] == ["VT"]
    assert "artefact from tremor" in correction["note"]
    with web.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.record_id == record_id)).one()
        assert alert.status == "withdrawn"
        pending = session.scalars(
            select(AlertNotification).where(AlertNotification.status == "pending")
        ).all()
        assert pending == []


def test_trace_is_drawn_at_paper_scale(web: WebEnv) -> None:
    item_id, _ = web.item([VT_FINDING], "critical")
    with web.client("bob") as bob:
        resp = bob.get(f"/review/items/{item_id}/trace.svg", params={"start_s": 0, "window_s": 10})
    assert resp.headers["content-type"].startswith("image/svg+xml")
    width = re.search(r'<svg[^>]*width="([\d.]+)pt"', resp.text)
    height = re.search(r'<svg[^>]*height="([\d.]+)pt"', resp.text)
    assert width is not None
    assert height is not None
    # 10 s at 25 mm/s = 250 mm; 2 leads x 3 mV x 10 mm/mV = 60 mm (1 pt = 25.4/72 mm)
    assert float(width.group(1)) * 25.4 / 72 == pytest.approx(250.0, abs=0.5)
    assert float(height.group(1)) * 25.4 / 72 == pytest.approx(60.0, abs=0.5)


@pytest.mark.db
def test_review_flow_on_postgresql(pg_web: WebEnv) -> None:
    web = pg_web
    item_id, record_id = web.item([VT_FINDING], "critical")
    with web.client("alice") as alice, web.client("bob") as bob:
        assert alice.post(f"/review/items/{item_id}/claim").status_code == 303
        assert bob.post(f"/review/items/{item_id}/claim").status_code == 409
        assert (
            alice.post(
                f"/review/items/{item_id}/findings/0", data={"decision": "confirm"}
            ).status_code
            == 303
        )
        assert (
            alice.post(f"/review/items/{item_id}/sign", data={"conclusion": "VT."}).status_code
            == 303
        )
    web.service.sweep()
    assert web.hook.bodies[0]["record_id"] == record_id
    with httpx.Client(base_url=web.url, headers={"X-API-Key": web.clinic_key}) as clinic:
        alert_id = web.hook.bodies[0]["alert_id"]
        ack = clinic.post(
            f"/v1/alerts/{alert_id}/ack", json={"received_by": "Dr Z", "read_back": "VT"}
        )
        assert ack.status_code == 200
    assert [r.action for r in _audit(web)] == ["claim", "confirm", "sign"]
