"""Rule profiles: versioned, named data files holding every clinical threshold.

A profile (``models/profiles/<name>.toml``) lists rules; each rule names the item
code it reports, its severity, threshold and unit, minimum duration, the recording
types it applies to and the clinical source of the number. A profile may ``extends``
another and override rules by ``id``. Thresholds live here, never in code
(``../shared/CRITICAL_VALUES.md``: "every number belongs in a rule profile").
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.errors import RuleProfileError
from models.result import Severity

__all__ = [
    "DEFAULT_PROFILE",
    "KNOWN_CODES",
    "RecordingType",
    "Rule",
    "RuleProfile",
    "list_profiles",
    "load_profile",
]

RecordingType = Literal["resting", "holter"]
DEFAULT_PROFILE = "cn-2017-national"

#: Item codes a rule may report. Critical-value catalogue (CRITICAL_VALUES.md section A)
#: first, then abnormal / informational and technical codes.
KNOWN_CODES: frozenset[str] = frozenset(
    {
        # critical-value catalogue
        "ACUTE_MI",
        "ACUTE_ISCHEMIA",
        "REINFARCTION",
        "VF",
        "VT",
        "POLYMORPHIC_VT",
        "SVT_FAST",
        "PREEXCITED_AF",
        "SEVERE_BRADY",
        "LONG_PAUSE",
        "LONG_PAUSE_HOLTER",
        "ASYSTOLE",
        "LONG_QT",
        "HYPERKALEMIA",
        "HYPOKALEMIA",
        "PE_PATTERN",
        "T_ALTERNANS",
        "RONT_PVC",
        "PACER_FAILURE",
        # abnormal / informational rhythm codes
        "SINUS_BRADY",
        "SINUS_TACHY",
        "AF",
        "AFL",
        "SVT",
        "PAUSE",
        "NSVT",
        "VENT_RUN",
        "PVC_FREQUENT",
        "PAC_FREQUENT",
        "MULTIFOCAL_PVC",
        "BIGEMINY",
        "TRIGEMINY",
        "AV_BLOCK_1",
        "AV_BLOCK_2",
        "AV_BLOCK_3",
        "HRV_LOW",
        "PACED_RHYTHM",
        # abnormal 12-lead codes
        "ST_ELEVATION",
        "ST_DEPRESSION",
        "DIFFUSE_ST_DEPRESSION",
        "POSTERIOR_MI",
        "DE_WINTER",
        "SGARBOSSA",
        "LBBB",
        "RBBB",
        "QRS_WIDE",
        "LONG_QTC",
        "SHORT_PR",
        "AXIS_DEVIATION",
        "T_INVERSION",
        # technical
        "UNANALYSABLE",
        "NOISE",
        "LEAD_UNUSABLE",
        "LEAD_REVERSAL",
        "LEAD_DERIVED",
    }
)

_BOTH: tuple[RecordingType, ...] = ("resting", "holter")

ParamValue = float | int | str | bool | list[float] | list[str]


class Rule(BaseModel):
    """One rule of a profile.

    Attributes
    ----------
    id : str
        Unique within the profile; a profile that extends another overrides by id.
    code : str
        Item code from :data:`KNOWN_CODES`.
    severity : {"critical", "abnormal", "info"}
        Severity of the finding it emits.
    recording : list of {"resting", "holter"}
        Recording types the rule applies to.
    threshold : float or None
        Main threshold, in ``unit``; non-negative.
    unit : str
        Unit of ``threshold`` (``bpm``, ``s``, ``ms``, ``mV``, ``count``, ``%``).
    min_duration_s : float
        Minimum episode duration before the rule fires, seconds.
    params : dict
        Further named thresholds the evaluator reads (units in the key names).
    source : str
        The published standard or guideline behind the numbers.
    status : {"source", "regional", "unconfirmed"}
        How firm the source is (CRITICAL_VALUES.md).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    code: str
    severity: Severity
    recording: list[RecordingType] = Field(default_factory=lambda: list(_BOTH))
    threshold: float | None = None
    unit: str = ""
    min_duration_s: float = Field(default=0.0, ge=0.0)
    params: dict[str, ParamValue] = Field(default_factory=dict)
    source: str = Field(min_length=3)
    status: Literal["source", "regional", "unconfirmed"] = "source"
    enabled: bool = True
    description: str = ""

    @field_validator("code")
    @classmethod
    def _known_code(cls, value: str) -> str:
        if value not in KNOWN_CODES:
            raise ValueError(f"unknown item code {value!r}")
        return value

    @field_validator("threshold")
    @classmethod
    def _non_negative(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"threshold must be >= 0, got {value}")
        return value

    def param(self, key: str, default: float | None = None) -> float:
        """Return numeric parameter ``key`` (or ``default``); raise if absent with no default."""
        value = self.params.get(key, default)
        if value is None or isinstance(value, bool | str | list):
            raise RuleProfileError(f"rule {self.id!r}: numeric parameter {key!r} is required")
        return float(value)


class RuleProfile(BaseModel):
    """A named, versioned set of rules plus profile-wide settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    description: str = ""
    extends: str | None = None
    settings: dict[str, ParamValue] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    def rules_for(self, recording: RecordingType) -> list[Rule]:
        """Enabled rules that apply to ``recording``."""
        return [r for r in self.rules if r.enabled and recording in r.recording]

    def rule(self, rule_id: str) -> Rule:
        """Return the rule with ``rule_id``; raise :class:`RuleProfileError` if absent."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise RuleProfileError(f"profile {self.name!r} has no rule {rule_id!r}")

    def setting(self, key: str, default: ParamValue) -> ParamValue:
        """Profile-wide setting, e.g. ``qtc_formula``."""
        return self.settings.get(key, default)


def _builtin_dir() -> Path:
    return Path(str(resources.files("models") / "profiles"))


def list_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(p.stem for p in _builtin_dir().glob("*.toml"))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        known = ", ".join(list_profiles())
        raise RuleProfileError(f"rule profile {str(path)!r} not found (built-in: {known})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleProfileError(f"{path}: not valid TOML: {exc}") from exc


def _resolve(name_or_path: str | Path, seen: tuple[str, ...]) -> dict[str, Any]:
    text = str(name_or_path)
    path = Path(text) if text.endswith(".toml") else _builtin_dir() / f"{text}.toml"
    data = _read_toml(path)
    meta = data.get("profile", {})
    if not isinstance(meta, dict):
        raise RuleProfileError(f"{path}: [profile] must be a table")
    name = str(meta.get("name", path.stem))
    if name in seen:
        raise RuleProfileError(f"{path}: profile inheritance loops through {name!r}")
    rules = data.get("rule", [])
    if not isinstance(rules, list):
        raise RuleProfileError(f"{path}: [[rule]] must be an array of tables")
    merged: dict[str, Any] = {**meta, "name": name, "rules": rules}
    parent = meta.get("extends")
    if parent:
        base_dir = path.parent
        parent_ref: str | Path = parent
        if str(parent).endswith(".toml"):
            parent_ref = base_dir / str(parent)
        base = _resolve(parent_ref, (*seen, name))
        by_id = {r["id"]: r for r in base["rules"] if isinstance(r, dict) and "id" in r}
        for r in rules:
            if isinstance(r, dict) and "id" in r:
                by_id[r["id"]] = {**by_id.get(r["id"], {}), **r}
        merged["rules"] = list(by_id.values())
        merged["settings"] = {**base.get("settings", {}), **meta.get("settings", {})}
    merged["_path"] = str(path)
    return merged


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> RuleProfile:
    """Load and validate a rule profile by built-in name or by ``.toml`` path.

    Parameters
    ----------
    name_or_path : str or Path
        Built-in profile name (see :func:`list_profiles`) or a path to a TOML file.

    Returns
    -------
    RuleProfile
        The validated profile, with ``extends`` resolved.

    Raises
    ------
    RuleProfileError
        File missing, not TOML, unknown code, negative threshold, missing source,
        duplicate rule id, or an inheritance loop. The message names file and rule.
    """
    data = _resolve(name_or_path, ())
    path = data.pop("_path")
    ids = [r.get("id") for r in data["rules"] if isinstance(r, dict)]
    dupes = sorted({i for i in ids if ids.count(i) > 1 and i is not None})
    if dupes:
        raise RuleProfileError(f"{path}: duplicate rule id(s) {dupes}")
    try:
        return RuleProfile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = ".".join(str(x) for x in loc)
            if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
                rid = data["rules"][loc[1]].get("id", f"#{loc[1]}")
                where = f"rule {rid!r} field {'.'.join(str(x) for x in loc[2:])}"
            problems.append(f"{where}: {err['msg']}")
        raise RuleProfileError(f"{path}: invalid rule profile: " + "; ".join(problems)) from exc
