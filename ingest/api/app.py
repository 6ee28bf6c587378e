"""FastAPI application: upload, status, list; JSON errors; size and rate limits.

Every 4xx answer is ``{"error": {"code": ..., "message": ...}}`` naming the problem.
Authentication: ``X-API-Key: <key>`` (or ``Authorization: Bearer <key>``), one key per
clinic, stored as SHA-256. A clinic sees only its own records (404 for any other).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, BinaryIO

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.api.intake import IdempotencyConflictError, Intake, UploadMeta
from ingest.api.security import RateLimiter, find_clinic_id
from ingest.blobstore import BlobStore
from models.db import Record, Result, make_read_sessionmaker
from models.errors import (
    AuthError,
    EcgError,
    InputError,
    NotFoundError,
    PipelineError,
    UnsupportedFormatError,
)
from models.settings import Settings

__all__ = ["RecordAccepted", "RecordStatusOut", "UploadTooLargeError", "create_app"]

log = logging.getLogger(__name__)
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


class UploadTooLargeError(InputError):
    """The request body exceeds ``max_upload_mb``."""


class RateLimitedError(EcgError):
    """Too many requests from one clinic."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RecordAccepted(BaseModel):
    """Answer to an accepted upload."""

    record_id: str
    status: str
    status_url: str
    duplicate: bool


class RecordStatusOut(BaseModel):
    """Status of one record, with the analysis result once stored."""

    record_id: str
    status: str
    recording_type: str
    source_format: str
    files: list[str]
    clinic_ref: str | None
    patient_id: str | None
    attempts: int
    error: str | None
    severity: str | None
    analysis_version: str | None
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, **extra}}
    )


class BodyLimitMiddleware:
    """Reject bodies over ``max_bytes`` by Content-Length up front, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT"}:
            await self.app(scope, receive, send)
            return
        limit_mb = self.max_bytes / 1024 / 1024
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                response = _error(
                    413,
                    "upload_too_large",
                    f"upload of {int(value) / 1024 / 1024:.1f} MB exceeds the limit of "
                    f"{limit_mb:g} MB (ECG_MAX_UPLOAD_MB)",
                )
                await response(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise UploadTooLargeError(
                        f"upload exceeds the limit of {limit_mb:g} MB (ECG_MAX_UPLOAD_MB)"
                    )
            return message

        await self.app(scope, limited, send)


def _clinic_id(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_header)],
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """Authenticate the clinic by API key and apply its rate limit."""
    key = api_key
    if key is None and authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    if not key:
        raise AuthError("missing API key: send the clinic's key in the X-API-Key header")
    reads: sessionmaker[Session] = request.app.state.reads
    with reads() as session:
        clinic_id = find_clinic_id(session, key)
    if clinic_id is None:
        raise AuthError("wrong API key: no clinic has this key")
    limiter: RateLimiter = request.app.state.limiter
    wait_s = limiter.allow(clinic_id)
    if wait_s > 0:
        raise RateLimitedError(
            f"rate limit of {limiter.per_min} requests/min exceeded; retry in {wait_s:.1f} s",
            wait_s,
        )
    return clinic_id


ClinicId = Annotated[str, Depends(_clinic_id)]


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    *,
    on_commit: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the upload API.

    Parameters
    ----------
    settings : Settings
        Size limit, rate limit, validation threshold.
    sessions : sessionmaker
        Database sessions.
    blobs : BlobStore
        Content-addressed blob store.
    on_commit : callable, optional
        Called after an upload is committed (embedded mode wakes the relay).
    """
    app = FastAPI(
        title="ECG Sentinel upload API",
        version="1",
        description=(
            "Clinics upload resting 12-lead and Holter ECG recordings; results come back "
            "through the status URL. Authenticate with the clinic's `X-API-Key`."
        ),
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_mb * 1024 * 1024)
    reads = make_read_sessionmaker(sessions)
    intake = Intake(
        sessions,
        blobs,
        full_read_mb=settings.validate_full_read_mb,
        tmp_dir=settings.data_dir / "tmp" if settings.data_dir else None,
        reads=reads,
    )
    (settings.data_dir / "tmp").mkdir(parents=True, exist_ok=True)
    app.state.sessions = sessions
    app.state.reads = reads  # autocommit: the API key lookup is one SELECT, no BEGIN/ROLLBACK
    app.state.limiter = RateLimiter(settings.rate_limit_per_min)

    @app.exception_handler(EcgError)
    async def ecg_error(_request: Request, exc: EcgError) -> JSONResponse:
        if isinstance(exc, RateLimitedError):
            resp = _error(429, "rate_limited", str(exc))
            resp.headers["Retry-After"] = str(max(1, round(exc.retry_after_s)))
            return resp
        table: list[tuple[type[EcgError], int, str]] = [
            (AuthError, 401, "unauthorized"),
            (NotFoundError, 404, "not_found"),
            (UploadTooLargeError, 413, "upload_too_large"),
            (UnsupportedFormatError, 415, "unsupported_format"),
            (IdempotencyConflictError, 409, "idempotency_conflict"),
            (InputError, 422, "invalid_record"),
        ]
        for cls, status, code in table:
            if isinstance(exc, cls):
                resp = _error(status, code, str(exc))
                if status == 401:
                    resp.headers["WWW-Authenticate"] = "ApiKey"
                return resp
        log.error("pipeline error: %s", exc)
        code = "unavailable" if isinstance(exc, PipelineError) else "internal"
        return _error(503, code, f"service temporarily unavailable: {exc}")

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query'))}: {e['msg']}"
            for e in exc.errors()
        ]
        return _error(422, "invalid_request", "; ".join(problems))

    upload_schema: dict[str, Any] = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "description": "One file, or a WFDB .hea plus its signal files",
                            },
                            **UploadMeta.model_json_schema()["properties"],
                        },
                    }
                }
            },
        }
    }

    @app.post(
        "/v1/records",
        status_code=202,
        response_model=RecordAccepted,
        openapi_extra=upload_schema,
        summary="Upload one recording (multipart); 202 with the record id and status URL",
    )
    async def upload(
        request: Request,
        clinic: ClinicId,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        form = await request.form(max_files=64, max_fields=32)
        try:
            parts: list[tuple[str | None, BinaryIO]] = []
            fields: dict[str, str] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    parts.append((value.filename, value.file))
                elif key in fields:
                    raise InputError(f"metadata field {key!r} given twice")
                else:
                    fields[key] = value
            try:
                meta = UploadMeta.model_validate({k: v for k, v in fields.items() if v != ""})
            except ValidationError as exc:
                problems = [
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
                    for e in exc.errors()
                ]
                return _error(422, "invalid_metadata", "; ".join(problems))
            outcome = await run_in_threadpool(intake.accept, clinic, parts, meta, idempotency_key)
        finally:
            await form.close()
        if outcome.created and on_commit is not None:
            on_commit()
        body = RecordAccepted(
            record_id=outcome.record_id,
            status=outcome.status,
            status_url=str(request.url_for("record_status", record_id=outcome.record_id)),
            duplicate=not outcome.created,
        )
        return JSONResponse(status_code=202 if outcome.created else 200, content=body.model_dump())

    def _status(session: Session, rec: Record) -> RecordStatusOut:
        res = session.scalar(select(Result).where(Result.record_id == rec.id))
        return RecordStatusOut(
            record_id=rec.id,
            status=rec.status,
            recording_type=rec.recording_type,
            source_format=rec.source_format,
            files=[str(f["name"]) for f in rec.files],
            clinic_ref=rec.clinic_ref,
            patient_id=rec.patient_id,
            attempts=rec.attempts,
            error=rec.error,
            severity=res.severity if res else None,
            analysis_version=rec.analysis_version,
            created_at=rec.created_at,
            updated_at=rec.updated_at,
            result=res.result_json if res else None,
        )

    @app.get("/v1/records/{record_id}", response_model=RecordStatusOut, name="record_status")
    def record_status(record_id: str, clinic: ClinicId) -> RecordStatusOut:
        """Status (queued, analysing, done, failed, needs_review) and, when stored, the result."""
        with sessions() as session:
            rec = session.scalar(
                select(Record).where(Record.id == record_id, Record.clinic_id == clinic)
            )
            if rec is None:
                raise NotFoundError(f"record {record_id!r} not found")
            return _status(session, rec)

    @app.get("/v1/records", response_model=list[RecordStatusOut])
    def list_records(
        clinic: ClinicId,
        status: Annotated[str | None, Query(description="Filter by status")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[RecordStatusOut]:
        """The clinic's own records, newest first."""
        with sessions() as session:
            stmt = select(Record).where(Record.clinic_id == clinic)
            if status:
                stmt = stmt.where(Record.status == status)
            rows = session.scalars(stmt.order_by(Record.created_at.desc()).limit(limit))
            return [_status(session, r) for r in rows]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
