"""Reviewer service: worklist of flagged traces by urgency, ECG viewer, audit trail."""
