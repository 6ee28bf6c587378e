"""Ingest worker: consume ``ecg.records``, analyse in a process pool, store, then ack.

For each message (``{"record_id": ...}``, message id = outbox id):

1. one transaction: skip if the inbox already holds the message id; else mark the record
   ``analysing`` and count the attempt; then, for a resting ECG with a patient id, the
   same clinic's and patient's most recent earlier analysed resting ECG is read in its
   own query (``_find_prior``; a failed look-up = no prior);
2. the analysis runs in a process pool (the connection thread keeps heartbeats going),
   then the comparison with that previous ECG (``ecg_core.rules.comparison_rules``);
3. one transaction: result row, record status, inbox row (``UNIQUE(message_id)``) and
   the outbox row of the result message; then ack through the connection
   (``add_callback_threadsafe``). On a re-analysis (``ecg reprocess``) the previous
   result moves to ``results_history``, or, when a reviewer signed the report, the new
   result is held there instead; :mod:`ingest.reanalysis` decides, and who is alerted.

A record the readers or the analyser reject (:class:`~models.errors.InputError`,
:class:`~models.errors.AnalysisError`) becomes ``needs_review`` and is published as
``result.unanalysable`` at once. Any other failure (crash, database error) is retried
up to ``Settings.max_attempts``; then the record becomes ``failed``, a dead-letter row
and a ``dead`` message carry the reason, and ``result.unanalysable`` puts it on the
review worklist: nothing is dropped.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.blobstore import BlobStore, FileRef
from ingest.messaging import Broker, Delivery
from ingest.outbox import enqueue
from ingest.reanalysis import critical_codes, decide, route_for
from models.db import (
    DeadLetter,
    InboxEntry,
    Record,
    Result,
    ResultHistory,
    ReviewItem,
    message_already_stored,
    new_id,
    utcnow,
)
from models.errors import AnalysisError, InputError
from models.profile import RecordingType, RuleProfile, load_profile
from models.result import AnalysisResult
from models.settings import Settings

__all__ = [
    "AnalyseFn",
    "AnalysisJob",
    "Worker",
    "analyse_job",
    "load_analyser",
    "route_for",
]

log = logging.getLogger(__name__)
CONSUMER_NAME = "worker"
#: Deliveries in flight per analysis process (prefetch = PIPELINE_DEPTH x concurrency).
PIPELINE_DEPTH = 2


@dataclass(frozen=True)
class AnalysisJob:
    """Everything a pool process needs to analyse one record (picklable, no signal)."""

    record_id: str
    files: tuple[FileRef, ...]
    primary_file: str
    blob_url: str
    profile: str
    recording_type: str
    patient_age_years: float | None
    patient_sex: str | None
    attempt: int = 1
    #: The same clinic's and patient's most recent earlier analysed resting ECG (its
    #: stored result, trimmed to what the comparison reads), or None (see _find_prior).
    prior_result: dict[str, Any] | None = None
    prior_record_id: str | None = None
    prior_recorded_at: str | None = None
    #: This record's time (upload time, ISO 8601): the interval to the prior ECG.
    recorded_at: str | None = None


#: Analyse one job in a pool process; returns the AnalysisResult JSON (a dict).
AnalyseFn = Callable[[AnalysisJob], dict[str, Any]]


@lru_cache(maxsize=8)
def _profile(name: str) -> RuleProfile:
    return load_profile(name)


def analyse_job(job: AnalysisJob) -> dict[str, Any]:
    """The real analysis: read the blobs with the readers, run ``analyze_record``.

    Raises
    ------
    InputError
        The files cannot be read as an ECG record.
    AnalysisError
        The analyser could not process the record.
    """
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record

    with tempfile.TemporaryDirectory(prefix="ecg-job-") as tmp:
        BlobStore(job.blob_url).materialise(job.files, Path(tmp))
        record = read_record(Path(tmp) / job.primary_file)
    record = dataclasses.replace(
        record,
        record_id=job.record_id,
        patient_age_years=(
            job.patient_age_years if job.patient_age_years is not None else record.patient_age_years
        ),
        patient_sex="M"
        if job.patient_sex == "M"
        else "F"
        if job.patient_sex == "F"
        else record.patient_sex,
    )
    recording: RecordingType = "holter" if job.recording_type == "holter" else "resting"
    profile = _profile(job.profile)
    result = analyze_record(record, profile=profile, recording=recording)
    return _with_prior(result, job, profile).model_dump(mode="json")


def _with_prior(result: AnalysisResult, job: AnalysisJob, profile: RuleProfile) -> AnalysisResult:
    """The result compared with the patient's previous ECG (ecg_core.rules.comparison_rules).

    A previous result that cannot be read is "no prior"; a failure of the comparison
    itself is logged and the single-record result kept: it never fails the analysis.
    """
    from ecg_core.comparison import stored_ecg
    from ecg_core.rules.comparison_rules import compare_with_prior

    try:
        prior = (
            None
            if job.prior_result is None
            else stored_ecg(
                job.prior_result, record_id=job.prior_record_id, recorded_at=job.prior_recorded_at
            )
        )
        return compare_with_prior(result, prior, profile, recorded_at=job.recorded_at)
    except Exception:
        log.exception("record %s: comparison with the prior ECG failed", job.record_id)
        return result


def load_analyser(spec: str | None) -> AnalyseFn:
    """Resolve ``module:function`` (tests inject fakes this way); None = the real one."""
    if not spec:
        return analyse_job
    import importlib

    module, _, name = spec.partition(":")
    fn: AnalyseFn = getattr(importlib.import_module(module), name)
    return fn


def _is_signed(session: Session, record_id: str) -> bool:
    """True when a reviewer has signed a report on this record."""
    signed = session.scalar(
        select(ReviewItem.id)
        .where(ReviewItem.record_id == record_id, ReviewItem.status == "signed")
        .limit(1)
    )
    return signed is not None


def _held(session: Session, row: Result) -> list[dict[str, Any]]:
    """Results held beside the current (signed) result, oldest first."""
    return list(
        session.scalars(
            select(ResultHistory.result_json)
            .where(
                ResultHistory.record_id == row.record_id,
                ResultHistory.kind == "held",
                ResultHistory.version == row.version,
            )
            .order_by(ResultHistory.id)
        )
    )


def _history(row: Result, kind: str, message_id: str) -> ResultHistory:
    return ResultHistory(
        record_id=row.record_id,
        result_id=row.id,
        version=row.version,
        kind=kind,
        result_json=row.result_json,
        severity=row.severity,
        analysis_version=row.analysis_version,
        analysed_at=row.created_at,
        message_id=message_id,
    )


def _store_reanalysis(
    session: Session, message_id: str, record_id: str, result: dict[str, Any]
) -> None:
    """Store a re-analysis (``ecg reprocess``) of a record that already has a result.

    Replace it, keeping the old one as history, or hold the new one beside a signed
    report (ORM; the rare path).
    """
    rec = session.get(Record, record_id)
    assert rec is not None
    row = session.scalar(select(Result).where(Result.record_id == record_id))
    version = str(result.get("analysis_version", "unknown"))
    signed = row is not None and _is_signed(session, record_id)
    compare_with = row.result_json if row else None
    alerted: frozenset[str] = frozenset()
    if row is not None and signed:  # compare with the newest held re-analysis
        held_rows = _held(session, row)
        alerted = critical_codes(row.result_json).union(*(critical_codes(h) for h in held_rows))
        compare_with = held_rows[-1] if held_rows else row.result_json
    decision = decide(compare_with, result, signed=signed, alerted=alerted)
    if row is None:
        row = Result(
            record_id=record_id,
            result_json=result,
            severity=decision.severity,
            analysis_version=version,
            version=1,
        )
        session.add(row)
        session.flush()
    elif decision.replace:  # re-analysis: keep the old result as history
        session.add(_history(row, "superseded", message_id))
        row.result_json = result
        row.severity = decision.severity
        row.analysis_version = version
        row.created_at = utcnow()
        row.version += 1
    else:  # a signed report is never replaced: hold the new result beside it
        held = Result(
            id=row.id,
            record_id=record_id,
            result_json=result,
            severity=decision.severity,
            analysis_version=version,
            created_at=utcnow(),
            version=row.version,
        )
        session.add(_history(held, "held", message_id))
    current = row.severity
    rec.status = "needs_review" if current == "unanalysable" else "done"
    rec.analysis_version = version  # newest analysis run (current or held)
    rec.error = None
    enqueue(
        session,
        "results",
        decision.routing_key,
        {
            "record_id": record_id,
            "clinic_id": rec.clinic_id,
            "result_id": row.id,
            "severity": decision.severity,
            "status": rec.status,
            "codes": list(decision.codes),
            "new_codes": list(decision.new_codes),
            "result_version": row.version,
            "held": not decision.replace,
        },
    )


def _store_first_result(session: Session, record_id: str, result: dict[str, Any]) -> None:
    """The first result of a record (the common case), in Core statements.

    Same rows and message as :func:`_store_reanalysis` with no previous result: a
    ``results`` row (version 1), the record ``done`` (``needs_review`` when
    unanalysable) and the result message in the outbox.
    """
    version = str(result.get("analysis_version", "unknown"))
    decision = decide(None, result, signed=False)
    result_id = new_id()
    now = utcnow()
    session.execute(
        _INSERT_RESULT,
        {
            "id": result_id,
            "record_id": record_id,
            "result_json": result,
            "severity": decision.severity,
            "analysis_version": version,
            "created_at": now,
            "version": 1,
        },
    )
    status = "needs_review" if decision.severity == "unanalysable" else "done"
    clinic_id = session.execute(
        _FINISH_RECORD,
        {"rid": record_id, "new_status": status, "new_version": version, "now": now},
    ).scalar_one()
    enqueue(
        session,
        "results",
        decision.routing_key,
        {
            "record_id": record_id,
            "clinic_id": clinic_id,
            "result_id": result_id,
            "severity": decision.severity,
            "status": status,
            "codes": list(decision.codes),
            "new_codes": list(decision.new_codes),
            "result_version": 1,
            "held": False,
        },
    )


# Core statements of the hot path (built once; SQLAlchemy caches their compiled form).
_records = Record.__table__
_CLAIM_RECORD = (
    update(Record)
    .where(Record.id == bindparam("rid"))
    .values(attempts=Record.attempts + 1, status="analysing", updated_at=bindparam("now"))
    .returning(
        Record.id,
        Record.files,
        Record.primary_file,
        Record.recording_type,
        Record.patient_age_years,
        Record.patient_sex,
        Record.attempts,
        Record.clinic_id,
        Record.patient_id,
        Record.created_at,
    )
)
#: The most recent earlier analysed resting ECG of the same clinic and patient (records
#: hold no acquisition time: the upload time orders them).
_PRIOR_RESULT = (
    select(Record.id, Record.created_at, Result.result_json)
    .join(Result, Result.record_id == Record.id)
    .where(
        Record.clinic_id == bindparam("clinic_id"),
        Record.patient_id == bindparam("patient_id"),
        Record.recording_type == "resting",
        Record.created_at < bindparam("before"),
        Record.id != bindparam("rid"),
        Result.severity != "unanalysable",
    )
    .order_by(Record.created_at.desc(), Record.id.desc())
    .limit(1)
)
#: Keys of a stored result the comparison reads (the rest, e.g. beats, is not sent to
#: the analysis process).
_PRIOR_KEYS = ("record_id", "recording_type", "unanalysable", "measurements", "findings")
_SEEN = select(InboxEntry.id).where(InboxEntry.message_id == bindparam("message_id"))
_INSERT_INBOX = insert(InboxEntry.__table__)  # type: ignore[arg-type]
_HAS_RESULT = select(Result.id).where(Result.record_id == bindparam("record_id"))
_INSERT_RESULT = insert(Result.__table__)  # type: ignore[arg-type]
_FINISH_RECORD = (
    update(Record)
    .where(Record.id == bindparam("rid"))
    .values(
        status=bindparam("new_status"),
        analysis_version=bindparam("new_version"),
        error=None,
        updated_at=bindparam("now"),
    )
    .returning(Record.clinic_id)
)


#: BLAS/OpenMP thread variables pinned to 1 in analysis processes (one process per core
#: already; BLAS threads on the analysis's small matrices only add contention).
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _pool_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _warm_up(profile: str | None) -> int:
    """Import the analysis and load the profile in a pool process (before any message).

    ``None`` (an injected analyser) only starts the process.
    """
    if profile is None:
        return os.getpid()
    import ecg_core.analysis  # noqa: F401
    import ingest.readers  # noqa: F401

    _profile(profile)
    return os.getpid()


def _iso(when: datetime | None) -> str | None:
    """ISO 8601 text of a database time (UTC when the database returns it naive)."""
    if when is None:
        return None
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).isoformat()


class _PermanentError(Exception):
    """The record itself cannot be analysed: needs review, no retry."""


class _SkipError(Exception):
    """The message was already processed (inbox hit)."""


class Worker:
    """Consumes the work queue; one instance per process (or thread in embedded mode).

    Parameters
    ----------
    settings : Settings
        Concurrency, attempts, profile, blob store.
    sessions : sessionmaker
        Database sessions.
    broker : Broker
        RabbitMQ or the in-process broker.
    analyse : callable, optional
        Module-level function ``AnalysisJob -> dict`` run in the pool (injectable).
    use_processes : bool, default True
        False runs analyses in threads (tests of the in-process path).
    """

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        broker: Broker,
        *,
        analyse: AnalyseFn = analyse_job,
        use_processes: bool = True,
        retry_delay_s: float = 0.5,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._broker = broker
        self._analyse = analyse
        self._use_processes = use_processes
        self._retry_delay_s = retry_delay_s
        self._concurrency = settings.worker_concurrency
        # Twice as many deliveries and job threads as analysis processes: while one job
        # analyses, the next one's database work and broker round trip overlap with it.
        self._inflight = PIPELINE_DEPTH * self._concurrency
        self._blob_url = BlobStore.from_settings(settings).url
        self._threads = ThreadPoolExecutor(self._inflight, thread_name_prefix="ecg-job")
        self._pool_lock = threading.Lock()
        self._pool: ProcessPoolExecutor | ThreadPoolExecutor = self._new_pool()
        self._consumer = broker.consumer(drain_s=settings.shutdown_grace_s)
        self.processed = 0

    def _new_pool(self) -> ProcessPoolExecutor | ThreadPoolExecutor:
        if not self._use_processes:
            return ThreadPoolExecutor(self._concurrency, thread_name_prefix="ecg-analyse")
        for var in _THREAD_VARS:  # spawned children inherit the environment
            os.environ.setdefault(var, "1")
        return ProcessPoolExecutor(
            self._concurrency,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_pool_init,
        )

    # ------------------------------------------------------------------ lifecycle

    def warm_up(self) -> None:
        """Start every analysis process and import the analysis in it.

        Otherwise the pool starts its processes on the first messages, and the first
        records wait for (and, in CPU profiles, pay for) the imports of every stage.
        Injected analysers (tests) only get their processes started.
        """
        if not self._use_processes:
            return
        profile = self._settings.profile if self._analyse is analyse_job else None
        with self._pool_lock:
            pool = self._pool
        try:
            futures = [pool.submit(_warm_up, profile) for _ in range(self._concurrency)]
            for fut in futures:
                fut.result()
        except Exception:  # the first real job reports a broken pool properly
            log.warning("warming up the analysis processes failed", exc_info=True)

    def run(self) -> None:
        """Consume until :meth:`stop`; in-flight work finishes (or is requeued)."""
        try:
            self.warm_up()
            self._consumer.consume("records", self.on_delivery, prefetch=self._inflight)
        finally:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Stop taking messages (signal-safe)."""
        self._consumer.stop()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: graceful stop (finish in-flight work, then exit)."""

        def handler(signum: int, _frame: Any) -> None:
            log.info("signal %s: finishing in-flight work, then stopping", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def on_delivery(self, delivery: Delivery) -> None:
        """Called in the consumer thread: hand the message to a job thread."""
        self._threads.submit(self._process_safely, delivery)

    # ------------------------------------------------------------------ processing

    def _process_safely(self, delivery: Delivery) -> None:
        try:
            self.process(delivery)
        except Exception:
            log.exception("worker: unexpected error on %s; requeueing", delivery.message_id)
            time.sleep(self._retry_delay_s)
            delivery.nack(requeue=True)

    def process(self, delivery: Delivery) -> None:
        """Process one delivery end to end and settle it."""
        record_id = str(delivery.body.get("record_id") or "")
        try:
            job = self._start(delivery, record_id)
        except _SkipError:
            delivery.ack()
            return
        if job is None:  # no such record: poison message
            self._give_up(delivery, record_id, f"record {record_id!r} does not exist", 1)
            return
        if job.attempt > self._settings.max_attempts:
            reason = f"gave up after {job.attempt - 1} attempts: {self._last_error(record_id)}"
            self._give_up(delivery, record_id, reason, job.attempt - 1)
            return
        try:
            result = self._run_analysis(job)
        except _PermanentError as exc:
            self._store_unanalysable(delivery, record_id, str(exc))
            return
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("record %s attempt %d failed: %s", record_id, job.attempt, reason)
            if job.attempt >= self._settings.max_attempts:
                self._give_up(
                    delivery,
                    record_id,
                    f"failed {job.attempt} attempts; last: {reason}",
                    job.attempt,
                )
            else:
                self._requeue(delivery, record_id, reason, job.attempt)
            return
        self._store_result(delivery, record_id, result)

    def _run_analysis(self, job: AnalysisJob) -> dict[str, Any]:
        with self._pool_lock:
            pool = self._pool
        try:
            fut: Future[dict[str, Any]] = pool.submit(self._analyse, job)
            return fut.result()
        except (InputError, AnalysisError) as exc:
            raise _PermanentError(f"{type(exc).__name__}: {exc}") from exc
        except BrokenProcessPool:
            with self._pool_lock:
                if self._pool is pool:
                    log.error("analysis process died; starting a new pool")
                    self._pool = self._new_pool()
                    pool.shutdown(wait=False, cancel_futures=True)
            raise

    def _start(self, delivery: Delivery, record_id: str) -> AnalysisJob | None:
        with self._sessions() as session, session.begin():
            # Lock the record first (the UPDATE takes the row lock), then look at the
            # inbox: a duplicate delivery of a message another worker is finishing
            # (after a lost connection) waits for that worker's final commit and then
            # sees its inbox row, instead of setting a finished record back to
            # "analysing" (raising _SkipError rolls this transaction back). Core
            # statements: two statements, no ORM object for a row read once.
            rec = (
                session.execute(_CLAIM_RECORD, {"rid": record_id, "now": utcnow()}).one_or_none()
                if record_id
                else None
            )
            seen = session.execute(_SEEN, {"message_id": delivery.message_id}).first()
            if seen is not None:
                raise _SkipError
            if rec is None:
                return None
            job = AnalysisJob(
                record_id=rec.id,
                files=tuple(rec.files),
                primary_file=rec.primary_file,
                blob_url=self._blob_url,
                profile=self._settings.profile,
                recording_type=rec.recording_type,
                patient_age_years=rec.patient_age_years,
                patient_sex=rec.patient_sex,
                attempt=rec.attempts,
                recorded_at=_iso(rec.created_at),
            )
        if rec.recording_type != "resting" or not rec.patient_id:
            return job
        return self._find_prior(job, rec.clinic_id, rec.patient_id, rec.created_at)

    def _find_prior(
        self, job: AnalysisJob, clinic_id: str, patient_id: str, before: datetime
    ) -> AnalysisJob:
        """``job`` with the patient's previous analysed resting ECG, if there is one.

        Its own read, after the claim committed: a failed look-up only means "no prior"
        (logged) and never fails or delays the claim.
        """
        try:
            with self._sessions() as session:
                row = session.execute(
                    _PRIOR_RESULT,
                    {
                        "clinic_id": clinic_id,
                        "patient_id": patient_id,
                        "before": before,
                        "rid": job.record_id,
                    },
                ).first()
        except Exception:
            log.warning("record %s: prior ECG look-up failed", job.record_id, exc_info=True)
            return job
        if row is None or not isinstance(row.result_json, dict):
            return job
        trimmed = {k: row.result_json[k] for k in _PRIOR_KEYS if k in row.result_json}
        return dataclasses.replace(
            job,
            prior_result=trimmed,
            prior_record_id=row.id,
            prior_recorded_at=_iso(row.created_at),
        )

    def _last_error(self, record_id: str) -> str:
        with self._sessions() as session:
            rec = session.get(Record, record_id)
            return (rec.error if rec is not None else None) or "worker died during analysis"

    def _commit_final(
        self, delivery: Delivery, record_id: str, apply: Callable[[Session], None]
    ) -> None:
        """Run ``apply`` + the inbox row in one transaction, then ack."""
        try:
            with self._sessions() as session, session.begin():
                # a concurrent duplicate fails here (UNIQUE message_id), before any effect
                session.execute(
                    _INSERT_INBOX,
                    {
                        "message_id": delivery.message_id,
                        "consumer": CONSUMER_NAME,
                        "record_id": record_id[:32] or None,
                        "processed_at": utcnow(),
                    },
                )
                apply(session)
        except IntegrityError:
            if not message_already_stored(self._sessions, InboxEntry, delivery.message_id):
                raise  # not a duplicate: requeued by _process_safely, never acked as done
            log.info("message %s already processed elsewhere; ack", delivery.message_id)
        delivery.ack()
        self.processed += 1

    def _store_result(self, delivery: Delivery, record_id: str, result: dict[str, Any]) -> None:
        def apply(session: Session) -> None:
            if session.execute(_HAS_RESULT, {"record_id": record_id}).first() is None:
                _store_first_result(session, record_id, result)
            else:
                _store_reanalysis(session, delivery.message_id, record_id, result)

        self._commit_final(delivery, record_id, apply)

    def _store_unanalysable(self, delivery: Delivery, record_id: str, reason: str) -> None:
        def apply(session: Session) -> None:
            rec = session.get(Record, record_id)
            assert rec is not None
            rec.status = "needs_review"
            rec.error = reason
            enqueue(
                session,
                "results",
                "result.unanalysable",
                {
                    "record_id": record_id,
                    "clinic_id": rec.clinic_id,
                    "result_id": None,
                    "severity": "unanalysable",
                    "status": rec.status,
                    "codes": [],
                },
            )

        log.info("record %s cannot be analysed: %s -> needs_review", record_id, reason)
        self._commit_final(delivery, record_id, apply)

    def _requeue(self, delivery: Delivery, record_id: str, reason: str, attempt: int) -> None:
        with self._sessions() as session, session.begin():
            rec = session.get(Record, record_id)
            if rec is not None:
                rec.status = "queued"
                rec.error = f"attempt {attempt}: {reason}"
        time.sleep(self._retry_delay_s * attempt)
        delivery.nack(requeue=True)

    def _give_up(self, delivery: Delivery, record_id: str, reason: str, attempts: int) -> None:
        def apply(session: Session) -> None:
            session.add(
                DeadLetter(
                    message_id=delivery.message_id,
                    record_id=record_id[:32] or None,
                    queue=self._broker.names.records,
                    reason=reason,
                    attempts=attempts,
                )
            )
            enqueue(
                session,
                "dead",
                "",
                {
                    "record_id": record_id,
                    "message_id": delivery.message_id,
                    "reason": reason,
                    "attempts": attempts,
                },
            )
            rec = session.get(Record, record_id) if record_id else None
            if rec is not None:
                rec.status = "failed"
                rec.error = reason
                enqueue(
                    session,
                    "results",
                    "result.unanalysable",
                    {
                        "record_id": record_id,
                        "clinic_id": rec.clinic_id,
                        "result_id": None,
                        "severity": "unanalysable",
                        "status": "failed",
                        "codes": [],
                    },
                )

        log.error("record %s dead-lettered: %s", record_id, reason)
        self._commit_final(delivery, record_id, apply)
