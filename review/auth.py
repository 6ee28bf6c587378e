"""Reviewer accounts, login sessions and CSRF tokens.

A reviewer logs in with their name and the random token printed once by
``ecg reviewer add NAME`` (stored as SHA-256: 256-bit random tokens need no salt or
slow hash). A login creates a session whose random cookie value is stored hashed too,
with an expiry (``ECG_REVIEW_SESSION_H``) and a CSRF token every form must echo.
Scripts may send ``Authorization: Bearer <reviewer token>`` instead (no CSRF then).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.db_review import Reviewer, ReviewerSession, as_utc
from models.errors import AuthError, InputError

__all__ = [
    "TOKEN_PREFIX",
    "Actor",
    "create_reviewer",
    "hash_token",
    "login",
    "logout",
    "resolve_bearer",
    "resolve_session",
]

TOKEN_PREFIX = "rvw_"


def hash_token(token: str) -> str:
    """SHA-256 hex of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    """The authenticated reviewer of one request."""

    reviewer_id: int
    name: str
    is_admin: bool
    csrf: str | None  # None for bearer-token requests (no cookie, no CSRF risk)


def create_reviewer(session: Session, name: str, *, admin: bool = False) -> tuple[Reviewer, str]:
    """Add a reviewer; returns it with its login token (shown once, stored hashed).

    Raises
    ------
    InputError
        Empty name or a name already taken.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise InputError(f"reviewer name {name!r} must be 1-100 characters")
    if session.scalar(select(Reviewer.id).where(Reviewer.name == name)) is not None:
        raise InputError(f"reviewer {name!r} already exists")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    reviewer = Reviewer(name=name, token_sha256=hash_token(token), is_admin=admin, active=True)
    session.add(reviewer)
    session.flush()
    return reviewer, token


def _check(session: Session, name: str, token: str) -> Reviewer:
    reviewer = session.scalar(select(Reviewer).where(Reviewer.name == name.strip()))
    ok = reviewer is not None and hmac.compare_digest(reviewer.token_sha256, hash_token(token))
    if reviewer is None or not ok or not reviewer.active:
        raise AuthError("wrong reviewer name or token")
    return reviewer


def login(
    session: Session, name: str, token: str, *, now: datetime, lifetime_h: float
) -> tuple[str, Actor]:
    """Check the credentials and open a session; returns (cookie value, actor).

    Raises
    ------
    AuthError
        Unknown name, wrong token or disabled account.
    """
    reviewer = _check(session, name, token)
    session.execute(delete(ReviewerSession).where(ReviewerSession.expires_at < now))
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        ReviewerSession(
            token_sha256=hash_token(cookie),
            csrf_token=csrf,
            reviewer_id=reviewer.id,
            created_at=now,
            expires_at=now + timedelta(hours=lifetime_h),
        )
    )
    return cookie, Actor(reviewer.id, reviewer.name, reviewer.is_admin, csrf)


def logout(session: Session, cookie: str) -> None:
    """End the session of ``cookie``."""
    session.execute(
        delete(ReviewerSession).where(ReviewerSession.token_sha256 == hash_token(cookie))
    )


def resolve_session(session: Session, cookie: str, *, now: datetime) -> Actor | None:
    """The actor of a live session cookie, or None."""
    row = session.execute(
        select(ReviewerSession, Reviewer)
        .join(Reviewer, Reviewer.id == ReviewerSession.reviewer_id)
        .where(ReviewerSession.token_sha256 == hash_token(cookie))
    ).first()
    if row is None:
        return None
    sess, reviewer = row
    expires = as_utc(sess.expires_at)
    if not reviewer.active or expires is None or expires <= now:
        return None
    return Actor(reviewer.id, reviewer.name, reviewer.is_admin, sess.csrf_token)


def resolve_bearer(session: Session, token: str) -> Actor | None:
    """The actor of a reviewer token, or None."""
    reviewer = session.scalar(select(Reviewer).where(Reviewer.token_sha256 == hash_token(token)))
    if reviewer is None or not reviewer.active:
        return None
    return Actor(reviewer.id, reviewer.name, reviewer.is_admin, None)
