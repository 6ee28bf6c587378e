"""Per-clinic API keys (stored as SHA-256) and a per-clinic token-bucket rate limit."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import Clinic

__all__ = [
    "KEY_PREFIX",
    "RateLimiter",
    "create_clinic",
    "find_clinic",
    "find_clinic_id",
    "hash_key",
]

KEY_PREFIX = "ecg_"


def hash_key(api_key: str) -> str:
    """SHA-256 hex of an API key (keys are 256-bit random tokens, so no salt is needed)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def create_clinic(session: Session, name: str) -> tuple[Clinic, str]:
    """Add a clinic; returns it with its new API key (shown once, stored hashed)."""
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    clinic = Clinic(name=name, api_key_sha256=hash_key(api_key))
    session.add(clinic)
    session.flush()
    return clinic, api_key


def find_clinic(session: Session, api_key: str) -> Clinic | None:
    """The clinic owning ``api_key``, or None."""
    return session.scalar(select(Clinic).where(Clinic.api_key_sha256 == hash_key(api_key)))


def find_clinic_id(session: Session, api_key: str) -> str | None:
    """The id of the clinic owning ``api_key``, or None (one column, no ORM object)."""
    return session.scalar(select(Clinic.id).where(Clinic.api_key_sha256 == hash_key(api_key)))


class RateLimiter:
    """Token bucket per clinic: ``per_min`` requests a minute, bursts up to ``per_min``.

    In-process: with N API instances each allows ``per_min`` (document, or put a shared
    limiter in front).
    """

    def __init__(self, per_min: int) -> None:
        self.per_min = per_min
        self._rate_per_s = per_min / 60.0
        self._capacity = float(per_min)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0.0 if allowed now, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - last) * self._rate_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate_per_s
