"""What a re-analysis changes: which result is current, and who must be told.

A record is analysed again when an operator runs ``ecg reprocess`` after an algorithm
change. The worker then calls :func:`decide` with the current result (if any), the new
one and whether a reviewer has signed the record's report:

* **Signed report: never replaced.** The new result is kept in ``results_history`` as
  ``held``; the signed result stays current.
* **Otherwise the new result replaces the current one**, and the previous one moves to
  ``results_history`` as ``superseded`` (``results.version`` counts the analyses).

Who is told (the routing key of the result message):

* a critical code the previous result did not have: ``result.critical`` (alert and
  worklist);
* a critical code of the previous result is gone, or a held result differs from the
  signed one: ``result.revised`` (worklist only; a person decides about the alert);
* the same critical codes again, or nothing clinically new: ``result.reanalysed``
  (stored only);
* any other change (not held): the key of the new severity, as for a first result.

So a re-analysis that newly finds a critical value alerts the clinic, and one that finds
the same critical value again does not alert a second time (the clinic was told, and the
first alert's acknowledgement, escalation or withdrawal stands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Decision", "critical_codes", "decide", "finding_codes", "route_for"]


def route_for(result: dict[str, Any]) -> tuple[str, str]:
    """Routing key and severity of a first result.

    ``result.critical`` if critical, ``result.unanalysable`` if unanalysable,
    ``result.abnormal`` if any finding is abnormal, else ``result.normal``.
    """
    if result.get("critical"):
        return "result.critical", "critical"
    if result.get("unanalysable"):
        return "result.unanalysable", "unanalysable"
    if any(f.get("severity") == "abnormal" for f in result.get("findings", [])):
        return "result.abnormal", "abnormal"
    return "result.normal", "normal"


def critical_codes(result: dict[str, Any] | None) -> frozenset[str]:
    """Codes of the critical findings of a result (empty for None)."""
    if not result:
        return frozenset()
    return frozenset(
        str(f["code"]) for f in result.get("findings", []) if f.get("severity") == "critical"
    )


def finding_codes(result: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """(code, severity) of every finding: what a reviewer would see change."""
    findings = result.get("findings", [])
    return frozenset((str(f.get("code")), str(f.get("severity"))) for f in findings)


@dataclass(frozen=True)
class Decision:
    """Outcome of storing a result.

    Attributes
    ----------
    routing_key : str
        Key of the result message on the results exchange.
    severity : str
        Severity of the new result.
    replace : bool
        True: the new result becomes current (the old one, if any, is superseded).
        False: a signed report stays current and the new result is held in history.
    codes : tuple of str
        Every critical code of the new result.
    new_codes : tuple of str
        Critical codes the previous result did not have (these are what alerts).
    """

    routing_key: str
    severity: str
    replace: bool
    codes: tuple[str, ...]
    new_codes: tuple[str, ...]


def decide(
    previous: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    signed: bool,
    alerted: frozenset[str] = frozenset(),
) -> Decision:
    """Decide how to store ``new`` and where to route it.

    Parameters
    ----------
    previous : dict or None
        The result JSON the new one is compared with: the current result, or for a
        signed record the newest held re-analysis (None on the first analysis).
    new : dict
        The new result JSON.
    signed : bool
        A reviewer has signed the record's report.
    alerted : frozenset of str
        Critical codes the clinic was already alerted to beyond ``previous`` (for a
        signed record: those of the signed result and of earlier held results).

    Returns
    -------
    Decision
        Routing key, severity, whether to replace, critical codes.
    """
    key, severity = route_for(new)
    codes = critical_codes(new)
    if previous is None:
        return Decision(key, severity, True, tuple(sorted(codes)), tuple(sorted(codes)))
    before = critical_codes(previous)
    added = codes - before - alerted
    changed = route_for(previous)[1] != severity or finding_codes(previous) != finding_codes(new)
    if added:
        key = "result.critical"
    elif before - codes or (signed and changed):
        key = "result.revised"
    elif codes or not changed:
        key = "result.reanalysed"
    return Decision(key, severity, not signed, tuple(sorted(codes)), tuple(sorted(added)))
