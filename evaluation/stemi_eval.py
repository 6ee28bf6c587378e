"""STEMI / acute MI sensitivity and specificity on every labelled 12-lead source.

``ecg eval <folder> --what stemi`` on any of:

* **PTB** (``ptbdb``, flat or ``patientNNN/`` sub-folders): the header's clinical summary
  (``Reason for admission``, ``Acute infarction (localization)``, ``Infarction date
  (acute)``, ``ECG date``). A myocardial-infarction record is **acute** when the ECG was
  recorded 0-``ACUTE_MAX_DAYS`` days after the infarction date (the admission date when
  no infarction date is given, counted apart), then subacute (<= 7 d), recent (<= 28 d),
  old (> 28 d) or undated; ``Healthy control`` records form the specificity population.
* **CinC 2021** (``# Dx:`` SNOMED-CT codes; PhysioNet/CinC 2021 ``dx_mapping_scored.csv``
  and ``dx_mapping_unscored.csv``): ST elevation / acute MI / acute ischaemia, MI without
  a stated age, ischaemia / ST depression; specificity on records without any MI,
  ischaemia or ST-T code, and false ST-elevation calls on early repolarisation.
* **CPSC 2018** (``REFERENCE.csv`` label 9 STE, 8 STD).
* **LUDB** (``ludb.csv`` "Stemi" / other ischaemia lines; specificity on records
  without any).

Two calls are scored for every population: **STE criteria** (``ACUTE_MI``,
``SGARBOSSA``, ``POSTERIOR_MI``, ``DE_WINTER``: a critical STEMI / STEMI-equivalent
finding) and **any MI / ischaemia** (those plus ``ACUTE_ISCHEMIA``,
``DIFFUSE_ST_DEPRESSION``, ``T_INVERSION``: the record reaches the reviewer flagged).
Every positive record gets a line with the largest ST level (at J and at J+60 ms) that
two anatomically contiguous leads reach, so a miss can be told from a measurement
failure. PTB ``s0010_re`` (acute infero-lateral MI) must be flagged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from evaluation.labels_eval import MI_FLAG_CODES, ST_T_CHANGE_CODES, STE_CODES
from evaluation.ludb_eval import TextTablesReport, is_ludb
from models.errors import InputError

__all__ = [
    "ACUTE_MAX_DAYS",
    "CINC_GROUPS",
    "Call",
    "PtbCase",
    "evaluate_stemi",
    "is_stemi_source",
    "max_contiguous_st",
    "ptb_case",
    "score_groups",
]

#: Largest infarction-to-ECG delay (days) for a PTB record to count as acute MI: ST
#: elevation resolves over hours to days after reperfusion; the 4th UDMI "acute" ECG
#: criteria are read on the presenting tracing (Thygesen et al. JACC 2018;72:2231).
ACUTE_MAX_DAYS = 2

#: The two call sets scored (finding codes).
CALL_SETS: dict[str, frozenset[str]] = {"STE criteria": STE_CODES, "any MI/isch": MI_FLAG_CODES}

#: CinC 2021 SNOMED-CT groups (dx_mapping_scored.csv / dx_mapping_unscored.csv, 2021).
CINC_GROUPS: dict[str, frozenset[str]] = {
    "STE / acute MI": frozenset(
        {
            "164931005",  # ST elevation
            "57054005",  # acute myocardial infarction
            "413444003",  # acute myocardial ischemia
        }
    ),
    "MI, age not coded": frozenset(
        {
            "164865005",  # myocardial infarction
            "54329005",  # anterior myocardial infarction
        }
    ),
    "ischaemia / STD": frozenset(
        {
            "426434006",  # anterior ischemia
            "425419005",  # inferior ischaemia
            "425623009",  # lateral ischaemia
            "164861001",  # myocardial ischemia
            "429622005",  # ST depression
            "704997005",  # inferior ST segment depression
        }
    ),
}
#: Old infarction / chronic ischaemia: neither a positive nor a clean negative.
CINC_OLD = frozenset({"164867002", "413844008"})  # old MI, chronic myocardial ischemia
#: Early repolarisation: the classic ST-elevation confounder (scored as a negative).
CINC_EARLY_REPOL = "428417006"

_ISCHAEMIA_ALL = frozenset().union(*CINC_GROUPS.values(), CINC_OLD, ST_T_CHANGE_CODES)


@dataclass(frozen=True)
class Call:
    """What the analyser said about one record."""

    codes: frozenset[str]
    st_j_mv: Mapping[str, float]
    st_j60_mv: Mapping[str, float]


Analyse = Callable[[Path], Call]
#: Analyses a list of records, in order (serially or in a process pool).
AnalyseAll = Callable[[list[Path]], list[Call]]
Truth = Callable[[str], bool]

#: Finding code of a record that could not be read or analysed (counted as not called).
UNREADABLE = "UNREADABLE"


def max_contiguous_st(st_mv: Mapping[str, float]) -> tuple[float, str]:
    """Largest ST level reached by both leads of an anatomically contiguous pair.

    Parameters
    ----------
    st_mv : mapping lead -> float
        ST level per lead, mV (aVR is left out, as in the 4th UDMI STEMI criterion).

    Returns
    -------
    level_mv : float
        ``max over contiguous pairs of min(ST a, ST b)``; NaN without a pair.
    pair : str
        ``"a-b"`` (empty without a pair).

    Examples
    --------
    >>> max_contiguous_st({"V2": 0.3, "V3": 0.15, "II": 0.5})
    (0.15, 'V2-V3')
    """
    from ecg_core.ischemia import CONTIGUOUS_PAIRS

    best, where = float("nan"), ""
    for pair in CONTIGUOUS_PAIRS:
        a, b = sorted(pair)
        if a in st_mv and b in st_mv and "aVR" not in pair:
            level = min(st_mv[a], st_mv[b])
            if where == "" or level > best:
                best, where = level, f"{a}-{b}" if _order(a) < _order(b) else f"{b}-{a}"
    return best, where


def _order(lead: str) -> int:
    from models.leads import STANDARD_12

    return STANDARD_12.index(lead) if lead in STANDARD_12 else 99


# ---------------------------------------------------------------- analysis


def _call(result: Any) -> Call:
    extra = result.measurements.extra
    st_j60 = {k: float(v) for k, v in result.measurements.st_mv.items() if v is not None}
    st_j = {k: float(v) for k, v in (extra.get("st_j_mv") or {}).items() if v is not None}
    return Call(frozenset(f.code for f in result.findings), st_j, st_j60)


def _analyse_file(path: Path) -> Call:
    from ecg_core.analysis import analyze_record
    from ingest.readers import read_record
    from models.errors import InputError
    from models.profile import load_profile

    try:
        record = read_record(path)
    except InputError:  # one bad file of a whole database: count it, go on
        return Call(frozenset({UNREADABLE}), {}, {})
    return _call(analyze_record(record, profile=load_profile()))


def _analyse_ludb(ludb_dir: Path) -> Analyse:
    def run(path: Path) -> Call:
        from ecg_core.analysis import analyze_record
        from evaluation.ludb_eval import read_ludb_record
        from models.profile import load_profile

        record = read_ludb_record(ludb_dir, path.stem)
        return _call(analyze_record(record, profile=load_profile()))

    return run


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class GroupScore:
    """Calls of each call set in one population (positives or negatives)."""

    source: str
    population: str
    positive: bool
    records: tuple[str, ...]
    called: Mapping[str, tuple[str, ...]]  # call set -> records called


def score_groups(
    source: str,
    calls: Mapping[str, Call],
    populations: Iterable[tuple[str, bool, Truth]],
) -> list[GroupScore]:
    """Records of each population and which of them each call set called.

    Parameters
    ----------
    source : str
        Database name for the table.
    calls : mapping record -> Call
    populations : iterable of (name, positive, truth)
        ``truth(record) -> bool`` selects the population; ``positive`` says whether a
        call is a true (Se) or a false (Sp) one.

    Returns
    -------
    list of GroupScore
    """
    out: list[GroupScore] = []
    for name, positive, truth in populations:
        recs = tuple(r for r in calls if truth(r))
        called = {
            cs: tuple(r for r in recs if calls[r].codes & codes) for cs, codes in CALL_SETS.items()
        }
        out.append(GroupScore(source, name, positive, recs, called))
    return out


def _pct(k: int, n: int) -> str:
    return f"{100.0 * k / n:5.1f}" if n else "    -"


def _table(scores: list[GroupScore]) -> list[str]:
    lines = [
        f"{'source':<9} {'population':<30} {'n':>4}  "
        + "  ".join(f"{cs + ' (Se|Sp %)':>24}" for cs in CALL_SETS)
    ]
    for g in scores:
        n = len(g.records)
        cells = []
        for cs in CALL_SETS:
            k = len(g.called[cs])
            good = k if g.positive else n - k
            cells.append(f"{f'{good}/{n} {_pct(good, n)}':>24}")
        kind = "Se" if g.positive else "Sp"
        lines.append(f"{g.source:<9} {f'{g.population} [{kind}]':<30} {n:>4}  " + "  ".join(cells))
    return lines


def _record_lines(
    scores: list[GroupScore], calls: Mapping[str, Call], notes: Mapping[str, str]
) -> list[str]:
    lines: list[str] = []
    for g in scores:
        if not g.positive:
            for cs in CALL_SETS:
                if g.called[cs]:
                    lines.append(f"{g.source} {g.population}: false {cs}: {' '.join(g.called[cs])}")
            continue
        for rec in g.records:
            c = calls[rec]
            j, jp = max_contiguous_st(c.st_j_mv)
            j60, j60p = max_contiguous_st(c.st_j60_mv)
            codes = ",".join(sorted(c.codes & MI_FLAG_CODES)) or "-"
            lines.append(
                f"{g.source} {rec} [{g.population}] {notes.get(rec, '')}: called {codes}; "
                f"2-lead ST max J {j:+.2f} ({jp}), J+60 {j60:+.2f} ({j60p})"
            )
    return lines


# ---------------------------------------------------------------- PTB


@dataclass(frozen=True)
class PtbCase:
    """The clinical summary of one PTB record's header."""

    record: str
    reason: str
    acute_site: str
    former_site: str
    infarction: date | None
    admission: date | None
    ecg: date | None

    @property
    def is_mi(self) -> bool:
        """Admitted for myocardial infarction."""
        return self.reason.lower().startswith("myocardial infarction")

    @property
    def is_control(self) -> bool:
        """Healthy control."""
        return self.reason.lower().startswith("healthy control")

    @property
    def delay_days(self) -> int | None:
        """ECG date minus infarction date (admission date when none), days."""
        start = self.infarction or self.admission
        if self.ecg is None or start is None:
            return None
        return (self.ecg - start).days

    @property
    def stage(self) -> str:
        """Acute / subacute / recent / old / undated (MI records), else ``""``."""
        if not self.is_mi:
            return ""
        d = self.delay_days
        if d is None or d < 0:
            return "undated"
        if d <= ACUTE_MAX_DAYS:
            return "acute" if self.infarction else "acute (admission date)"
        return "subacute" if d <= 7 else "recent" if d <= 28 else "old"


_DATE_FORMATS = ("%d/%m/%Y", "%d-%b-%y", "%d-%b-%Y", "%d.%m.%Y", "%d/%m/%y", "%d.%m.%y")


def _date(text: str) -> date | None:
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def ptb_case(header_text: str, record: str) -> PtbCase:
    r"""Parse a PTB header's comment lines into a :class:`PtbCase`.

    PTB dates: ``ECG date: 01/10/1990`` (day/month/year), ``Infarction date (acute):
    29-Sep-90``; ``n/a`` or an unreadable date gives None.

    Examples
    --------
    >>> c = ptb_case("# ECG date: 01/10/1990\n# Reason for admission: Myocardial "
    ...              "infarction\n# Infarction date (acute): 29-Sep-90", "s0010_re")
    >>> (c.delay_days, c.stage)
    (2, 'acute')
    """
    fields: dict[str, str] = {}
    for line in header_text.splitlines():
        m = re.match(r"#\s*([^:]+):\s*(.*)$", line.strip())
        if m:
            fields.setdefault(m.group(1).strip().lower(), m.group(2).strip())
    infarction = _date(fields.get("infarction date (acute)", "")) or _date(
        fields.get("infarction date", "")
    )
    return PtbCase(
        record=record,
        reason=fields.get("reason for admission", ""),
        acute_site=fields.get("acute infarction (localization)", ""),
        former_site=fields.get("former infarction (localization)", ""),
        infarction=infarction,
        admission=_date(fields.get("admission date", "")),
        ecg=_date(fields.get("ecg date", "")),
    )


def _ptb_headers(folder: Path) -> list[Path]:
    return sorted(
        h
        for h in folder.rglob("*.hea")
        if "reason for admission" in h.read_text(encoding="utf-8", errors="replace").lower()
    )


def _ptb(folder: Path, run: AnalyseAll) -> tuple[list[GroupScore], dict[str, Call], list[str]]:
    cases: dict[str, PtbCase] = {}
    paths: dict[str, Path] = {}
    for h in _ptb_headers(folder):
        name = f"{h.parent.name}/{h.stem}" if h.parent != folder else h.stem
        cases[name] = ptb_case(h.read_text(encoding="utf-8", errors="replace"), name)
        paths[name] = h
    wanted = {k for k, c in cases.items() if c.is_mi or c.is_control}
    keys = sorted(wanted)
    calls = dict(zip(keys, run([paths[k] for k in keys]), strict=True))
    stages = ("acute", "acute (admission date)", "subacute", "recent", "old", "undated")

    def at(stage: str) -> Truth:
        return lambda r: cases[r].stage == stage

    pops: list[tuple[str, bool, Truth]] = [(f"MI, {s}", True, at(s)) for s in stages]
    pops.append(("healthy control", False, lambda r: cases[r].is_control))
    scores = [g for g in score_groups("PTB", calls, pops) if g.records]
    notes = {
        k: f"{c.acute_site or '?'}, ECG day {c.delay_days}, former {c.former_site or '?'}"
        for k, c in cases.items()
        if c.is_mi
    }
    other = sorted({c.reason or "?" for k, c in cases.items() if k not in wanted})
    skipped = ", ".join(other) or "none"
    extra = [f"PTB records read: {len(cases)}; not scored (other diagnoses): {skipped}"]
    for key in (k for k in calls if k.split("/")[-1] == "s0010_re"):
        flagged = sorted(calls[key].codes & MI_FLAG_CODES)
        extra.append(
            "s0010_re (acute infero-lateral MI): "
            + ("FLAGGED " + ",".join(flagged) if flagged else "NOT FLAGGED")
        )
    return scores, calls, [*extra, *_record_lines(scores, calls, notes)]


# ---------------------------------------------------------------- CinC 2021 / CPSC 2018 / LUDB


def _dx(header: Path) -> frozenset[str]:
    for line in header.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#") and "Dx:" in line:
            return frozenset(c.strip() for c in line.split("Dx:", 1)[1].split(",") if c.strip())
    return frozenset()


def _cinc(folder: Path, run: AnalyseAll) -> tuple[list[GroupScore], dict[str, Call], list[str]]:
    headers = sorted(folder.glob("*.hea"))
    dx = {h.stem: _dx(h) for h in headers}
    calls = dict(zip((h.stem for h in headers), run(headers), strict=True))

    def has(codes: frozenset[str]) -> Truth:
        return lambda r: bool(dx[r] & codes)

    pops: list[tuple[str, bool, Truth]] = [(n, True, has(c)) for n, c in CINC_GROUPS.items()]
    pops += [
        ("no MI/isch/ST-T code", False, lambda r: not dx[r] & _ISCHAEMIA_ALL),
        ("early repolarisation", False, lambda r: CINC_EARLY_REPOL in dx[r]),
    ]
    scores = score_groups("CinC2021", calls, pops)
    notes = {r: "Dx " + ",".join(sorted(d & _ISCHAEMIA_ALL)) for r, d in dx.items()}
    return scores, calls, _record_lines(scores, calls, notes)


def _cpsc(folder: Path, run: AnalyseAll) -> tuple[list[GroupScore], dict[str, Call], list[str]]:
    with (folder / "REFERENCE.csv").open(newline="", encoding="utf-8") as fh:
        labels = {
            r["Recording"]: {v for k, v in r.items() if "label" in k and v}
            for r in csv.DictReader(fh)
        }
    recs = [rec for rec in labels if (folder / f"{rec}.mat").exists()]
    calls = dict(zip(recs, run([folder / f"{rec}.mat" for rec in recs]), strict=True))
    pops: list[tuple[str, bool, Truth]] = [
        ("STE (label 9)", True, lambda r: "9" in labels[r]),
        ("STD (label 8)", True, lambda r: "8" in labels[r]),
        ("no STE", False, lambda r: "9" not in labels[r]),
        ("no STE/STD", False, lambda r: not {"8", "9"} & labels[r]),
    ]
    scores = score_groups("CPSC2018", calls, pops)
    notes = {r: "labels " + ",".join(sorted(v)) for r, v in labels.items()}
    return scores, calls, _record_lines(scores, calls, notes)


def _ludb(folder: Path, run: AnalyseAll) -> tuple[list[GroupScore], dict[str, Call], list[str]]:
    from evaluation.ludb_eval import ludb_labels, ludb_record_ids

    rows = ludb_labels(folder)
    isch = {
        r: [x.strip().lower() for x in row.get("Ischemia", "").splitlines() if x.strip()]
        for r, row in rows.items()
    }
    recs = [r for r in ludb_record_ids(folder) if r in rows]
    calls = dict(zip(recs, run([folder / "data" / f"{r}.hea" for r in recs]), strict=True))
    pops: list[tuple[str, bool, Truth]] = [
        ("Stemi", True, lambda r: any(x.startswith("stemi") for x in isch[r])),
        (
            "other isch/scar (info)",
            True,
            lambda r: bool(isch[r]) and not any(x.startswith("stemi") for x in isch[r]),
        ),
        ("no ischaemia label", False, lambda r: not isch[r]),
    ]
    scores = score_groups("LUDB", calls, pops)
    notes = {r: _walls(v) for r, v in isch.items()}
    return scores, calls, _record_lines([scores[0], scores[2]], calls, notes)


def _walls(lines: list[str]) -> str:
    """``["stemi: lateral wall", "stemi: septal"]`` -> ``"stemi: lateral, septal"``."""
    by_kind: dict[str, list[str]] = {}
    for line in lines:
        kind, _, wall = line.partition(":")
        by_kind.setdefault(kind.strip(), []).append(wall.replace("wall", "").strip())
    return "; ".join(f"{k}: {', '.join(w)}" for k, w in by_kind.items())


# ---------------------------------------------------------------- entry


def _kind(path: Path) -> str | None:
    if is_ludb(path):
        return "ludb"
    if (path / "REFERENCE.csv").is_file() and any(path.glob("A*.mat")):
        return "cpsc2018"
    first = next(iter(sorted(path.glob("*.hea"))), None)
    if first is not None and _dx(first):
        return "cinc2021"
    if _ptb_headers(path):
        return "ptbdb"
    return None


def is_stemi_source(path: Path) -> bool:
    """True for a PTB folder (run by default there; ``--what stemi`` runs on the others)."""
    return (path / "s0010_re.hea").is_file() or any(path.glob("patient*/*.hea"))


def evaluate_stemi(
    path: Path, options: Any = None, *, analyse: Analyse | None = None
) -> TextTablesReport:
    """``ecg eval`` entry: STEMI / acute MI Se and Sp per population of one source.

    Parameters
    ----------
    path : Path
        ``ptbdb``, ``cinc2021``, ``cpsc2018`` or ``ludb`` folder.
    options : EvalOptions, optional
        Shared ``ecg eval`` options: ``workers`` processes (PTB, CinC 2021, CPSC 2018
        with the default analyser) and the ``progress`` callback.
    analyse : callable, optional
        ``path -> Call`` (tests, ablations); default: full ``analyze_record`` with the
        national profile; a record that cannot be read counts as not called
        (``UNREADABLE``, listed).

    Returns
    -------
    TextTablesReport
        The Se/Sp table and one line per positive record (and per false call).
    """
    kind = _kind(path)
    runners = {"ptbdb": _ptb, "cinc2021": _cinc, "cpsc2018": _cpsc, "ludb": _ludb}
    if kind is None:
        raise InputError(
            f"{path}: not a PTB, CinC 2021, CPSC 2018 or LUDB folder "
            "(expected ludb.csv, REFERENCE.csv with A*.mat, .hea headers with a '#Dx:' line, "
            "or PTB headers)"
        )
    fn = analyse or (_analyse_ludb(path) if kind == "ludb" else _analyse_file)

    def run(paths: list[Path]) -> list[Call]:
        if fn is _analyse_file and options is not None:
            from evaluation.qrs_eval import _pmap

            return _pmap(_analyse_file, paths, options)
        return [fn(p) for p in paths]

    scores, calls, lines = runners[kind](path, run)
    bad = sorted(k for k, c in calls.items() if UNREADABLE in c.codes)
    if bad:
        lines = [f"unreadable (counted as not called): {len(bad)}: {' '.join(bad)}", *lines]
    data = {
        f"{g.source}:{g.population}": {
            "positive": g.positive,
            "n": len(g.records),
            **{cs: list(v) for cs, v in g.called.items()},
        }
        for g in scores
    }
    return TextTablesReport(
        name="stemi",
        sections=(
            (f"STEMI / acute MI, {kind} (calls per population)", tuple(_table(scores))),
            (f"STEMI / acute MI, {kind}: records", tuple(lines)),
        ),
        data={"populations": data},
    )
