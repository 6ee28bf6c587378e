"""Reviewer web page (server-rendered, no JavaScript, no external assets) under ``/review``.

Routes (every one but the login form needs a reviewer; browsers without a session are
sent to ``/review/login``, other clients get 401):

* ``GET /review/`` worklist, most urgent first; ``POST /review/items/{id}/claim|release``
* ``GET /review/items/{id}`` item page with the ECG viewer; ``GET .../trace.svg``;
  resting ECGs: measurements and the prior ECG (``GET .../prior.svg``); Holter: the
  summary and the HR trend (``GET .../hr_trend.svg``)
* ``POST /review/items/{id}/findings/{n}`` confirm or override (reason required)
* ``POST /review/items/{id}/findings`` add a missed finding; ``POST .../sign``
* ``GET /review/audit`` audit trail (admins)
* ``GET|POST /review/login``, ``POST /review/logout``

Every view and change writes its audit row in the same transaction.
"""

# No `from __future__ import annotations`: FastAPI must resolve the closure-local
# `Current` dependency alias in the route signatures at definition time.

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker

from alerts.service import AlertPolicy
from ingest.blobstore import BlobStore
from models.db import utcnow
from models.errors import AuthError, EcgError, InputError, NotFoundError
from review import workflow as wf
from review.audit import audit, audit_rows
from review.auth import Actor, login, logout, resolve_bearer, resolve_session
from review.holter_trend import (
    FIG_H_PX,
    FIG_W_PX,
    hr_trend,
    image_map,
    render_trend_svg,
    trend_spans,
)
from review.panels import comparison_rows, holter_rows, measurement_panel
from review.prior import PriorState, PriorView, load_prior
from review.trace import load_record, render_svg, window_for

__all__ = ["COOKIE", "make_review_router", "mount_review"]

COOKIE = "ecg_review"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}


class LoginRequiredError(Exception):
    """No valid reviewer session or token (answered by the handler in :func:`mount_review`)."""


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def make_review_router(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    *,
    policy: AlertPolicy,
    session_h: float = 12.0,
    clock: Callable[[], datetime] = utcnow,
    on_alert_change: Callable[[], None] | None = None,
) -> APIRouter:
    """Routes of the reviewer page.

    Parameters
    ----------
    sessions : sessionmaker
        Database sessions.
    blobs : BlobStore
        Where the uploaded recordings are (for the viewer).
    policy : AlertPolicy
        Alert timing for alerts raised by reviewers.
    session_h : float
        Login lifetime, hours.
    clock : callable
        Current UTC time.
    on_alert_change : callable, optional
        Called after a change created an alert or a correction (wakes the alert loop).
    """
    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape())
    router = APIRouter(prefix="/review", include_in_schema=False)

    def page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(name).render(**ctx)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def current(request: Request) -> Actor:
        auth = request.headers.get("authorization", "")
        with sessions() as session:
            if auth.lower().startswith("bearer "):
                actor = resolve_bearer(session, auth[7:].strip())
            elif cookie := request.cookies.get(COOKIE):
                actor = resolve_session(session, cookie, now=clock())
            else:
                actor = None
        if actor is None:
            raise LoginRequiredError()
        return actor

    Current = Annotated[Actor, Depends(current)]  # noqa: N806 (a type alias)

    def csrf_ok(actor: Actor, token: str | None) -> bool:
        return actor.csrf is None or (token is not None and token == actor.csrf)

    def failed(actor: Actor, exc: Exception) -> HTMLResponse:
        status = 500
        for cls, code in (
            (NotFoundError, 404),
            (wf.ForbiddenError, 403),
            (wf.ReviewConflictError, 409),
            (InputError, 422),
            (AuthError, 401),
        ):
            if isinstance(exc, cls):
                status = code
                break
        return page("error.html", status, actor=actor, error=str(exc))

    def act(
        request: Request,
        actor: Actor,
        csrf: str | None,
        item_id: int,
        fn: Callable[[Session], bool | None],
    ) -> Response:
        if not csrf_ok(actor, csrf):
            return page("error.html", 403, actor=actor, error="form expired (CSRF); reload")
        try:
            with sessions() as session, session.begin():
                changed = fn(session)
        except EcgError as exc:
            return failed(actor, exc)
        if changed and on_alert_change is not None:
            on_alert_change()
        return RedirectResponse(f"/review/items/{item_id}", status_code=303)

    def view_item(
        request: Request,
        actor: Actor,
        item_id: int,
        action: str,
        after: dict[str, Any] | None = None,
    ) -> wf.ItemView:
        """Load one worklist item and audit the view in the same transaction."""
        with sessions() as session, session.begin():
            return load_audited(session, request, actor, item_id, action, after)

    def load_audited(
        session: Session,
        request: Request,
        actor: Actor,
        item_id: int,
        action: str,
        after: dict[str, Any] | None,
    ) -> wf.ItemView:
        """Load an item and write the audit row of its view in the caller's transaction."""
        v = wf.load_item(session, item_id)
        audit(
            session,
            actor,
            action,
            now=clock(),
            record_id=v.record.id,
            item_id=item_id,
            after=after,
            remote_addr=_remote(request),
        )
        return v

    @router.get("/login", response_class=HTMLResponse)
    def login_form() -> HTMLResponse:
        return page("login.html", actor=None)

    @router.post("/login")
    def do_login(
        request: Request, name: Annotated[str, Form()], token: Annotated[str, Form()]
    ) -> Response:
        now = clock()
        try:
            with sessions() as session, session.begin():
                cookie, actor = login(session, name, token, now=now, lifetime_h=session_h)
                audit(session, actor, "login", now=now, remote_addr=_remote(request))
        except AuthError as exc:
            with sessions() as session, session.begin():
                audit(
                    session,
                    None,
                    "login_failed",
                    now=now,
                    remote_addr=_remote(request),
                    actor_name=name[:100],
                )
            return page("login.html", 401, actor=None, error=str(exc))
        resp = RedirectResponse("/review/", status_code=303)
        resp.set_cookie(
            COOKIE,
            cookie,
            max_age=int(session_h * 3600),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/review",
        )
        return resp

    @router.post("/logout")
    def do_logout(
        request: Request, actor: Current, csrf: Annotated[str | None, Form()] = None
    ) -> Response:
        if not csrf_ok(actor, csrf):
            return page("error.html", 403, actor=actor, error="form expired (CSRF); reload")
        with sessions() as session, session.begin():
            if cookie := request.cookies.get(COOKIE):
                logout(session, cookie)
            audit(session, actor, "logout", now=clock(), remote_addr=_remote(request))
        resp = RedirectResponse("/review/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/review")
        return resp

    @router.get("/", response_class=HTMLResponse)
    def worklist_page(request: Request, actor: Current) -> HTMLResponse:
        with sessions() as session, session.begin():
            rows = wf.worklist(session, actor, now=clock(), remote=_remote(request))
        return page("worklist.html", actor=actor, rows=rows)

    def view_with_prior(
        request: Request,
        actor: Current,
        item_id: int,
        action: str,
        after: dict[str, Any] | None = None,
        prior_action: str | None = None,
    ) -> tuple[wf.ItemView, PriorState, PriorView | None]:
        """Load an item and its prior ECG; audit both views in the same transaction.

        ``prior_action`` is audited (record = the prior) only when the prior is shown.
        """
        with sessions() as session, session.begin():
            v = load_audited(session, request, actor, item_id, action, after)
            state, prior = load_prior(session, v)
            if prior is not None and prior_action is not None:
                audit(
                    session,
                    actor,
                    prior_action,
                    now=clock(),
                    record_id=prior.record.id,
                    item_id=item_id,
                    after={"prior_of": v.record.id, **(after or {})},
                    remote_addr=_remote(request),
                )
        return v, state, prior

    @router.get("/items/{item_id}", response_class=HTMLResponse)
    def item_page(
        request: Request,
        item_id: int,
        actor: Current,
        start_s: Annotated[float | None, Query(ge=0)] = None,
        window_s: Annotated[float, Query(ge=2, le=60)] = 10.0,
    ) -> HTMLResponse:
        try:
            v, prior_state, prior = view_with_prior(
                request, actor, item_id, "view_item", prior_action="view_prior"
            )
        except EcgError as exc:
            return failed(actor, exc)
        comparison = v.result.get("comparison")
        if prior_state == "unavailable" and isinstance(comparison, dict):
            # the analyser's sentences name the prior record: not shown for another clinic's
            hidden = str(comparison.get("prior_record_id"))
            v.findings = [
                {**f, "message": str(f.get("message") or "").replace(hidden, "(not shown)")}
                for f in v.findings
            ]
        duration_s = float(v.result.get("duration_s") or 0.0)
        window_s = min(window_s, duration_s) if duration_s > 2 else window_s
        start = start_s if start_s is not None else window_for(duration_s, v.findings, window_s)
        holter = (v.result.get("recording_type") or v.record.recording_type) == "holter"
        return page(
            "item.html",
            actor=actor,
            v=v,
            mine=v.work is not None and v.work.claimed_by == actor.reviewer_id,
            signed=v.work is not None and v.work.signed_at is not None,
            can_view=bool(v.record.files),
            start_s=round(start, 2),
            window_s=window_s,
            duration_s=duration_s,
            severities=wf.FINAL_SEVERITIES,
            holter=holter,
            panel=None if holter else measurement_panel(v.result),
            summary_rows=holter_rows(v.result.get("summary")) if holter else [],
            hourly=(v.result.get("summary") or {}).get("hourly_hr_bpm") or [] if holter else [],
            qt_trend=((v.result.get("summary") or {}).get("qt") or {}).get("trend") or []
            if holter
            else [],
            episodes=(v.result.get("episodes") or [])[:500] if holter else [],
            n_episodes=len(v.result.get("episodes") or []),
            trend_map=image_map(duration_s, trend_spans(v.findings)) if holter else [],
            trend_w=FIG_W_PX,
            trend_h=FIG_H_PX,
            prior_state=prior_state,
            prior=prior,
            prior_panel=measurement_panel(prior.result) if prior is not None else None,
            comparison_rows=comparison_rows(comparison)
            if prior is not None and isinstance(comparison, dict)
            else [],
            comparison=comparison if isinstance(comparison, dict) else {},
        )

    @router.get("/items/{item_id}/trace.svg")
    def trace(
        request: Request,
        item_id: int,
        actor: Current,
        start_s: Annotated[float, Query(ge=0)] = 0.0,
        window_s: Annotated[float, Query(ge=2, le=60)] = 10.0,
    ) -> Response:
        try:
            v = view_item(
                request, actor, item_id, "view_trace", {"start_s": start_s, "window_s": window_s}
            )
            record = load_record(blobs, list(v.record.files), v.record.primary_file)
        except EcgError as exc:
            return failed(actor, exc)
        svg = render_svg(record, v.result, v.findings, start_s=start_s, window_s=window_s)
        return Response(svg, media_type="image/svg+xml", headers=_HEADERS)

    @router.get("/items/{item_id}/prior.svg")
    def prior_trace(
        request: Request,
        item_id: int,
        actor: Current,
        start_s: Annotated[float, Query(ge=0)] = 0.0,
        window_s: Annotated[float, Query(ge=2, le=60)] = 10.0,
    ) -> Response:
        """The trace of the item's prior ECG (same clinic and patient only; audited)."""
        window = {"start_s": start_s, "window_s": window_s}
        try:
            with sessions() as session, session.begin():
                v = wf.load_item(session, item_id)
                state, prior = load_prior(session, v)
                # one row: on the prior record when it is shown, else on this item's record
                audit(
                    session,
                    actor,
                    "view_prior_trace",
                    now=clock(),
                    record_id=prior.record.id if prior is not None else v.record.id,
                    item_id=item_id,
                    after={"prior_of": v.record.id, "prior": state, **window},
                    remote_addr=_remote(request),
                )
            if prior is None or not prior.record.files:
                raise NotFoundError(f"item {item_id} has no prior ECG of its clinic to show")
            record = load_record(blobs, list(prior.record.files), prior.record.primary_file)
        except EcgError as exc:
            return failed(actor, exc)
        findings = [{**f, "index": i} for i, f in enumerate(prior.result.get("findings") or [])]
        svg = render_svg(record, prior.result, findings, start_s=start_s, window_s=window_s)
        return Response(svg, media_type="image/svg+xml", headers=_HEADERS)

    @router.get("/items/{item_id}/hr_trend.svg")
    def trend(request: Request, item_id: int, actor: Current) -> Response:
        """Heart-rate trend of a Holter item with its flagged findings shaded (audited)."""
        try:
            v = view_item(request, actor, item_id, "view_hr_trend")
        except EcgError as exc:
            return failed(actor, exc)
        t_s, hr_bpm, bin_s = hr_trend(v.result)
        duration_s = float(v.result.get("duration_s") or 0.0)
        svg = render_trend_svg(t_s, hr_bpm, bin_s, duration_s, trend_spans(v.findings))
        return Response(svg, media_type="image/svg+xml", headers=_HEADERS)

    @router.post("/items/{item_id}/claim")
    def claim(
        request: Request, item_id: int, actor: Current, csrf: Annotated[str | None, Form()] = None
    ) -> Response:
        return act(
            request,
            actor,
            csrf,
            item_id,
            lambda s: wf.claim(s, actor, item_id, now=clock(), remote=_remote(request)),
        )

    @router.post("/items/{item_id}/release")
    def release(
        request: Request, item_id: int, actor: Current, csrf: Annotated[str | None, Form()] = None
    ) -> Response:
        return act(
            request,
            actor,
            csrf,
            item_id,
            lambda s: wf.release(s, actor, item_id, now=clock(), remote=_remote(request)),
        )

    @router.post("/items/{item_id}/findings/{index}")
    def decide(
        request: Request,
        item_id: int,
        index: int,
        actor: Current,
        decision: Annotated[str, Form()],
        severity: Annotated[str | None, Form()] = None,
        reason: Annotated[str | None, Form()] = None,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        def run(s: Session) -> bool:
            if decision not in ("confirm", "override"):
                raise InputError(f"decision {decision!r}: choose 'confirm' or 'override'")
            return wf.decide(
                s,
                actor,
                item_id,
                index,
                decision="confirm" if decision == "confirm" else "override",
                severity=severity,
                reason=reason,
                policy=policy,
                now=clock(),
                remote=_remote(request),
            )

        return act(request, actor, csrf, item_id, run)

    @router.post("/items/{item_id}/findings")
    def add(
        request: Request,
        item_id: int,
        actor: Current,
        code: Annotated[str, Form()],
        severity: Annotated[str, Form()],
        note: Annotated[str, Form()],
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        return act(
            request,
            actor,
            csrf,
            item_id,
            lambda s: wf.add_finding(
                s,
                actor,
                item_id,
                code=code,
                severity=severity,
                note=note,
                policy=policy,
                now=clock(),
                remote=_remote(request),
            ),
        )

    @router.post("/items/{item_id}/sign")
    def sign(
        request: Request,
        item_id: int,
        actor: Current,
        conclusion: Annotated[str, Form()],
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        return act(
            request,
            actor,
            csrf,
            item_id,
            lambda s: wf.sign(
                s, actor, item_id, conclusion=conclusion, now=clock(), remote=_remote(request)
            ),
        )

    @router.get("/audit", response_class=HTMLResponse)
    def audit_page(
        request: Request,
        actor: Current,
        record_id: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> HTMLResponse:
        if not actor.is_admin:
            return page("error.html", 403, actor=actor, error="the audit trail is for admins")
        with sessions() as session, session.begin():
            audit(
                session,
                actor,
                "view_audit",
                now=clock(),
                record_id=record_id or None,
                remote_addr=_remote(request),
            )
            session.flush()
            rows = audit_rows(session, record_id=record_id or None, limit=limit)
        return page("audit.html", actor=actor, rows=rows, record_id=record_id)

    return router


def mount_review(
    app: FastAPI,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    *,
    policy: AlertPolicy,
    session_h: float = 12.0,
    on_alert_change: Callable[[], None] | None = None,
) -> None:
    """Add the reviewer page to ``app`` and answer unauthenticated requests."""

    async def need_login(request: Request, _exc: Exception) -> Response:
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/review/login", status_code=303)
        return Response(
            "reviewer login required",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"},
        )

    app.add_exception_handler(LoginRequiredError, need_login)
    app.include_router(
        make_review_router(
            sessions, blobs, policy=policy, session_h=session_h, on_alert_change=on_alert_change
        )
    )
