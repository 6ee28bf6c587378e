"""Upload intake (synchronous, runs in a thread): stage files, validate, store, commit.

Order: spool parts to a private temp dir while hashing -> return the existing record for
a repeated Idempotency-Key -> validate with the readers
(:func:`ingest.readers.validate_record_files`: header and file sizes, no signal decode)
-> store blobs (content-addressed) -> one transaction: record row + outbox row; a
repeated file (no key) hits UNIQUE(clinic, content) there and returns the existing
record. A rejected upload leaves nothing behind: the temp dir goes, new blobs are
removed again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.blobstore import CHUNK_BYTES, BlobStore, FileRef
from ingest.outbox import enqueue_record
from models.db import Record, new_id, utcnow
from models.errors import CorruptRecordError, InputError, StorageError

__all__ = ["IdempotencyConflictError", "Intake", "UploadMeta", "UploadOutcome"]

#: Built once: a Core INSERT of the records table (compiled form cached by SQLAlchemy).
_INSERT_RECORD = insert(Record.__table__)  # type: ignore[arg-type]
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")


class UploadMeta(BaseModel):
    """Metadata form fields of an upload (all optional except the file)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    recording_type: Literal["resting", "holter"] = Field(
        default="resting", description="Resting 12-lead ECG or ambulatory (Holter) recording."
    )
    patient_id: str | None = Field(default=None, max_length=100)
    patient_age_years: float | None = Field(default=None, ge=0, le=130)
    patient_sex: Literal["M", "F"] | None = None
    clinic_ref: str | None = Field(
        default=None, max_length=200, description="The clinic's own reference."
    )


class IdempotencyConflictError(InputError):
    """The Idempotency-Key was used before for different content."""


@dataclass(frozen=True)
class UploadOutcome:
    """Result of an intake: the record id and whether it already existed."""

    record_id: str
    created: bool
    status: str


@dataclass
class _Staged:
    name: str
    path: Path
    sha256: str
    size: int


def _safe_name(raw: str | None) -> str:
    name = Path((raw or "").replace("\\", "/")).name
    if not _SAFE_NAME.match(name) or ".." in name:
        raise InputError(
            f"file name {raw!r} is not acceptable: use letters, digits, '.', '_', '-' "
            "(at most 200 characters)"
        )
    return name


def _primary(staged: list[_Staged]) -> _Staged:
    from ingest.readers.validate import primary_file

    chosen = primary_file([s.path for s in staged])
    return next(s for s in staged if s.path == chosen)


def _validate(staged: list[_Staged], full_read_bytes: float) -> str:
    """Check the upload is a readable ECG record; returns the source format name.

    WFDB and EDF/BDF get a structural check (header, sample count, file sizes) and are
    never decoded here: the worker's full read is the final word. Other formats are
    single files read in full up to ``full_read_bytes`` (format check only above).
    """
    from ingest.readers import validate_record_files

    info = validate_record_files([s.path for s in staged], full_read_max_bytes=full_read_bytes)
    return info.format


class Intake:
    """Accept uploads for one service (shared by all request threads)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        *,
        full_read_mb: float,
        tmp_dir: Path | None = None,
        reads: sessionmaker[Session] | None = None,
    ) -> None:
        self._sessions = sessions
        # the duplicate lookup is a read; in autocommit it costs no BEGIN/ROLLBACK round trip
        self._reads = reads or sessions
        self._blobs = blobs
        self._full_read_bytes = full_read_mb * 1024 * 1024
        self._tmp_dir = tmp_dir

    def accept(
        self,
        clinic_id: str,
        parts: list[tuple[str | None, BinaryIO]],
        meta: UploadMeta,
        idempotency_key: str | None,
    ) -> UploadOutcome:
        """Stage, deduplicate, validate, store and commit one upload."""
        if not parts:
            raise InputError("no file in the upload: send the recording as multipart field 'file'")
        tmp = Path(tempfile.mkdtemp(prefix="ecg-upload-", dir=self._tmp_dir))
        try:
            staged = self._stage(parts, tmp)
            primary = _primary(staged)
            content = self._content_hash(staged)
            if idempotency_key:
                # a reused key with other content is a 409 whatever the content holds
                existing = self._existing(clinic_id, content, idempotency_key)
                if existing is not None:
                    return existing
            # Without a key, a repeated file is found by the UNIQUE(clinic, content) index
            # when the commit fails (rare), instead of by a lookup before every upload.
            fmt = _validate(staged, self._full_read_bytes)
            new_blobs = [s.sha256 for s in staged if self._blobs.put_file(s.path, s.sha256)]
            try:
                return self._commit(clinic_id, staged, primary, content, fmt, meta, idempotency_key)
            except BaseException:
                for sha in new_blobs:  # nothing half-written survives a failed commit
                    self._blobs.delete(sha)
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _stage(self, parts: list[tuple[str | None, BinaryIO]], tmp: Path) -> list[_Staged]:
        staged: list[_Staged] = []
        seen: set[str] = set()
        for raw_name, src in parts:
            name = _safe_name(raw_name)
            if name in seen:
                raise InputError(f"file {name!r} appears twice in the upload")
            seen.add(name)
            dest = tmp / name
            digest = hashlib.sha256()
            size = 0
            src.seek(0)
            with dest.open("wb") as out:
                while chunk := src.read(CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            if size == 0:
                raise CorruptRecordError(f"{name}: file is empty (0 bytes)")
            staged.append(_Staged(name, dest, digest.hexdigest(), size))
        return staged

    @staticmethod
    def _content_hash(staged: list[_Staged]) -> str:
        if len(staged) == 1:
            return staged[0].sha256
        manifest = "\n".join(sorted(f"{s.name}:{s.sha256}" for s in staged))
        return hashlib.sha256(manifest.encode()).hexdigest()

    def _existing(
        self, clinic_id: str, content: str, idempotency_key: str | None
    ) -> UploadOutcome | None:
        with self._reads() as session:
            if idempotency_key:
                rec = session.scalar(
                    select(Record).where(
                        Record.clinic_id == clinic_id, Record.idempotency_key == idempotency_key
                    )
                )
                if rec is not None:
                    if rec.content_sha256 != content:
                        raise IdempotencyConflictError(
                            f"Idempotency-Key {idempotency_key!r} was used for record {rec.id} "
                            "with different content"
                        )
                    return UploadOutcome(rec.id, False, rec.status)
            rec = session.scalar(
                select(Record).where(
                    Record.clinic_id == clinic_id, Record.content_sha256 == content
                )
            )
            return None if rec is None else UploadOutcome(rec.id, False, rec.status)

    def _commit(
        self,
        clinic_id: str,
        staged: list[_Staged],
        primary: _Staged,
        content: str,
        fmt: str,
        meta: UploadMeta,
        idempotency_key: str | None,
    ) -> UploadOutcome:
        files: list[FileRef] = [
            {"name": s.name, "sha256": s.sha256, "size": s.size} for s in staged
        ]
        fields: dict[str, Any] = meta.model_dump()
        record_id = new_id()  # known before the INSERT: record and outbox rows in one go
        now = utcnow()
        try:
            with self._sessions() as session, session.begin():
                # a Core INSERT: no ORM object, identity map or unit of work for a row
                # this transaction never reads back
                session.execute(
                    _INSERT_RECORD,
                    {
                        "id": record_id,
                        "clinic_id": clinic_id,
                        "content_sha256": content,
                        "idempotency_key": idempotency_key,
                        "status": "queued",
                        "source_format": fmt,
                        "primary_file": primary.name,
                        "files": files,
                        "total_bytes": sum(s.size for s in staged),
                        "attempts": 0,
                        "created_at": now,
                        "updated_at": now,
                        **fields,
                    },
                )
                enqueue_record(session, record_id)
            return UploadOutcome(record_id, True, "queued")
        except IntegrityError as exc:
            # a concurrent upload of the same file / key won the race: return its record
            existing = self._existing(clinic_id, content, idempotency_key)
            if existing is None:
                raise StorageError(f"could not store the upload: {exc.orig}") from exc
            return existing
