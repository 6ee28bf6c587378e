"""Injected analysers for the pipeline tests (module-level so pool processes can pickle them)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ecg_core import ANALYSIS_VERSION
from ingest.worker import AnalysisJob
from models.errors import CorruptRecordError
from models.result import AnalysisResult, Finding

SEVERITIES = ("normal", "abnormal", "critical", "unanalysable")


def severity_of(record_id: str) -> str:
    """Deterministic severity per record id (spreads records over every route)."""
    return SEVERITIES[hashlib.sha256(record_id.encode()).digest()[0] % 4]


def fast(job: AnalysisJob) -> dict[str, Any]:
    """A valid AnalysisResult without reading the signal (throughput of the plumbing)."""
    sev = severity_of(job.record_id)
    findings = []
    if sev in ("abnormal", "critical"):
        findings.append(
            Finding(code="VT" if sev == "critical" else "SINUS_TACHY", severity=sev, rule="fake")
        )
    if sev == "unanalysable":
        findings.append(Finding(code="UNANALYSABLE", severity="critical", rule="fake"))
    result = AnalysisResult(
        record_id=job.record_id,
        fs_hz=500.0,
        duration_s=10.0,
        leads=["II"],
        findings=findings,
        critical=sev == "critical",
        unanalysable=sev == "unanalysable",
        analysis_version=ANALYSIS_VERSION,
    )
    return result.model_dump(mode="json")


def slow(job: AnalysisJob) -> dict[str, Any]:
    """Like :func:`fast` after ``ECG_FAKE_SLOW_S`` seconds (default 3)."""
    time.sleep(float(os.environ.get("ECG_FAKE_SLOW_S", "3")))
    return fast(job)


def always_raise(job: AnalysisJob) -> dict[str, Any]:
    """A poison record: the analysis fails every time."""
    raise RuntimeError(f"injected failure analysing {job.record_id}")


def crash(job: AnalysisJob) -> dict[str, Any]:
    """The analysis process dies (segfault-like)."""
    os._exit(13)


def corrupt(job: AnalysisJob) -> dict[str, Any]:
    """The full read finds the record unreadable."""
    raise CorruptRecordError(f"{job.primary_file}: injected corrupt signal")


def scripted(job: AnalysisJob) -> dict[str, Any]:
    """A result scripted per record in the JSON file ``ECG_FAKE_SCRIPT``.

    The file maps a record id, a file's SHA-256 (known before the upload) or ``"*"``
    to ``{"critical": [codes], "abnormal": [codes], "version": "x.y.z"}``; tests
    rewrite it to play an algorithm change.
    """
    script = json.loads(Path(os.environ["ECG_FAKE_SCRIPT"]).read_text())
    keys = [job.record_id, *(str(f["sha256"]) for f in job.files), "*"]
    entry: dict[str, Any] = next((script[k] for k in keys if k in script), {})
    findings = [
        Finding(code=c, severity="critical", rule="fake") for c in entry.get("critical", [])
    ]
    findings += [
        Finding(code=c, severity="abnormal", rule="fake") for c in entry.get("abnormal", [])
    ]
    result = AnalysisResult(
        record_id=job.record_id,
        fs_hz=500.0,
        duration_s=10.0,
        leads=["II"],
        findings=findings,
        critical=bool(entry.get("critical")),
        analysis_version=str(entry.get("version", ANALYSIS_VERSION)),
    )
    return result.model_dump(mode="json")
