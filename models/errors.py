"""The project's single exception tree.

Every error raised on purpose by ECG Sentinel derives from :class:`EcgError`.
Errors caused by bad input also derive from :class:`ValueError`, so callers that
only know the standard library still catch them. Messages say what was expected
and what arrived, and name the file, field or value at fault.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "AuthError",
    "BrokerUnavailableError",
    "ConfigError",
    "CorruptRecordError",
    "EcgError",
    "InputError",
    "InvalidSignalError",
    "NotFoundError",
    "PipelineError",
    "RuleProfileError",
    "SamplingRateError",
    "SignalTooShortError",
    "StorageError",
    "UnsupportedFormatError",
]


class EcgError(Exception):
    """Root of every error ECG Sentinel raises on purpose."""


class InputError(EcgError, ValueError):
    """The input (file, array, request field) is not acceptable."""


class UnsupportedFormatError(InputError):
    """The file is of no format any reader recognises."""


class CorruptRecordError(InputError):
    """The file claims a known format but its content is broken or inconsistent."""


class SamplingRateError(InputError):
    """The sampling rate is missing or outside the plausible range."""


class SignalTooShortError(InputError):
    """The signal is shorter than the minimum an analysis needs."""


class InvalidSignalError(InputError):
    """The signal array has the wrong shape, dtype or non-finite content."""


class ConfigError(EcgError):
    """A setting or configuration file is invalid."""


class RuleProfileError(ConfigError, ValueError):
    """A rule profile file failed validation (unknown code, bad threshold, no source)."""


class AnalysisError(EcgError):
    """The analysis could not be carried out on an otherwise valid record."""


class PipelineError(EcgError):
    """A failure in the service shell (queue, database, blob store)."""


class BrokerUnavailableError(PipelineError):
    """The message broker cannot be reached."""


class StorageError(PipelineError):
    """The database or blob store failed."""


class AuthError(EcgError):
    """Missing or wrong credentials."""


class NotFoundError(EcgError):
    """The requested object does not exist or is not visible to the caller."""
