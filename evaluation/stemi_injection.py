"""ST-elevation injection into real 12-lead backgrounds: Se of the STEMI rule vs ST level.

Labelled acute STEMI tracings are few in the public data here (LUDB 5, PTB 1), so this
measures the other half of STEMI sensitivity, the measurement chain, the way ST
analysers are bench-tested with ECGs of known ST level (IEC 60601-2-25 / -2-51 test
ECGs; AAMI EC57 ST-deviation measurement): a known ST elevation is added to records
without any ischaemia label, and we count how often ``ACUTE_MI`` is called in the right
territory as a function of the injected level.

Injection (independent of our delineator): per beat, LUDB's reference QRS onset and QRS
offset (J) of lead II, T peak and T offset at the record's median annotated J -> T
intervals (beats LUDB leaves unannotated at the record edges, found by our QRS detector,
get the record's median QRS intervals from R).
The added wave rises with a half cosine from QRS onset to J, stays at the level to the T
peak and returns to zero with a half cosine at the T offset: the systolic shift of an
injury current (the whole QRS-ST-T displaced against the TQ / PR baseline, elevated from
J on). Limb leads get one frontal-plane injury vector (I, II, III its projections on
their hexaxial axes, aVR, aVL, aVF by Goldberger's equations, so Einthoven's law still
holds), precordial leads a fixed profile per territory;
levels are scaled so that the best anatomically contiguous pair reaches the stated level
(the quantity the 4th UDMI criterion reads). Reported: Se per territory and level, false
calls at level 0, and the ST-at-J measurement error in the injected leads (measured -
background - injected).

This is a measurement-chain sensitivity, not a clinical one: real STEMIs also change QRS
and T morphology. ``python -m evaluation.stemi_injection ../shared/ecg-data/ludb``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from models.record import EcgRecord

__all__ = [
    "TERRITORIES",
    "InjectionResult",
    "injection_levels",
    "injection_wave",
    "run_injection",
]

#: Hexaxial angle of the bipolar limb leads, degrees (frontal plane).
_LIMB_ANGLE = {"I": 0.0, "II": 60.0, "III": 120.0}

#: Territory -> (frontal injury vector angle in degrees or None, precordial profile V1-V6,
#: territory name the STEMI finding must give). Inferior: right coronary pattern (vector
#: +100 deg, III > II, reciprocal aVL); lateral: circumflex / diagonal (-20 deg, I and
#: aVL with V5-V6); anterior: LAD (V1-V4, largest V2-V3).
TERRITORIES: dict[str, tuple[float | None, tuple[float, ...], frozenset[str]]] = {
    "inferior": (100.0, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), frozenset({"inferior"})),
    "lateral": (-20.0, (0.0, 0.0, 0.0, 0.3, 0.8, 0.8), frozenset({"lateral"})),
    "anterior": (None, (0.5, 1.0, 1.0, 0.8, 0.4, 0.1), frozenset({"septal", "anterior"})),
}


def injection_levels(territory: str) -> dict[str, float]:
    """Relative ST level per lead, scaled so the best contiguous pair's lower lead is 1.

    Examples
    --------
    >>> lv = injection_levels("inferior")
    >>> round(lv["aVF"], 2), round(lv["III"], 2), round(lv["aVL"], 2)
    (1.0, 1.1, -0.65)
    """
    from evaluation.stemi_eval import max_contiguous_st

    angle, precordial, _ = TERRITORIES[territory]
    levels = dict.fromkeys(("I", "II", "III", "aVR", "aVL", "aVF"), 0.0)
    if angle is not None:  # I, II, III project the vector; Goldberger for aVR, aVL, aVF
        i, ii, iii = (math.cos(math.radians(angle - _LIMB_ANGLE[k])) for k in ("I", "II", "III"))
        levels = {
            "I": i,
            "II": ii,
            "III": iii,
            "aVR": -(i + ii) / 2.0,
            "aVL": (i - iii) / 2.0,
            "aVF": (ii + iii) / 2.0,
        }
    levels.update({f"V{i + 1}": v for i, v in enumerate(precordial)})
    best, _ = max_contiguous_st(levels)
    return {k: v / best for k, v in levels.items()}


def injection_wave(n_samples: int, beats: NDArray[np.intp]) -> NDArray[np.float64]:
    """Unit ST shift per beat: half-cosine rise over the QRS, plateau, fall to T end.

    Parameters
    ----------
    n_samples : int
        Signal length.
    beats : ndarray of int, shape (n, 4)
        QRS onset, J (QRS offset), T peak and T offset sample per beat.

    Returns
    -------
    ndarray, shape (n_samples,)
        1 from J to the T peak, 0 outside QRS-ST-T.
    """
    out = np.zeros(n_samples)
    for on, j, tp, toff in beats:
        if not (0 <= on < j < tp < toff < n_samples):
            continue
        out[on:j] = 0.5 * (1.0 - np.cos(np.pi * np.arange(j - on) / (j - on)))
        out[j:tp] = 1.0
        out[tp:toff] = 0.5 * (1.0 + np.cos(np.pi * np.arange(toff - tp) / (toff - tp)))
    return out


@dataclass
class InjectionResult:
    """Calls and measurement errors per territory and level."""

    records: list[str] = field(default_factory=list)
    called: dict[tuple[str, float], list[str]] = field(default_factory=dict)
    wrong_territory: dict[tuple[str, float], list[str]] = field(default_factory=dict)
    baseline_false: list[str] = field(default_factory=list)
    #: Records whose injected leads (relative level >= 0.5) were excluded as noisy.
    excluded: dict[tuple[str, float], list[str]] = field(default_factory=dict)
    errors_mv: dict[str, list[float]] = field(default_factory=dict)  # territory -> errors


def _lead_ii_beats(ludb_dir: Path, rec_id: str, r_idx: Sequence[int]) -> NDArray[np.intp]:
    """(QRS onset, J, T peak, T offset) per beat from LUDB's lead II annotation.

    QRS onset and J per annotated beat; T peak and T offset at the record's median
    J -> T peak / T offset intervals (one T timing for every beat, so the injected wave
    does not vary from beat to beat with odd T annotations, e.g. flutter waves); beats
    LUDB leaves unannotated get the median QRS intervals from our R peaks.
    """
    from evaluation.ludb_eval import _reference

    ref = _reference(ludb_dir, rec_id, "ii")
    qrs, t = ref["QRS"], ref["T"]
    t_rel: list[tuple[int, int]] = []
    for on, _, off in qrs:
        nxt = t[(t[:, 0] >= off - 5) & (t[:, 0] < on + 700)]
        if nxt.size:
            t_rel.append((nxt[0, 1] - off, nxt[0, 2] - off))
    if not t_rel or qrs.shape[0] == 0:
        return np.zeros((0, 4), dtype=np.intp)
    tp, toff = (int(x) for x in np.median(np.asarray(t_rel), axis=0))
    on_r, off_r = (int(x) for x in np.median(qrs[:, [0, 2]] - qrs[:, [1]], axis=0))
    rows = [(int(on), int(off)) for on, _, off in qrs]
    rows += [
        (int(r) + on_r, int(r) + off_r)
        for r in r_idx
        if not np.any(np.abs(qrs[:, 1] - int(r)) < 75)
    ]
    return np.asarray(sorted((on, j, j + tp, j + toff) for on, j in rows), dtype=np.intp).reshape(
        -1, 4
    )


def _stemi_territories(result: object) -> set[str] | None:
    """Territories of the ``stemi`` rule's ACUTE_MI finding (None = not called).

    A Smith-modified Sgarbossa finding (LBBB / paced backgrounds, where the STEMI rule
    rightly stands aside) counts as a call in every territory.
    """
    for f in result.findings:  # type: ignore[attr-defined]
        if f.code == "SGARBOSSA":
            return {name for *_, names in TERRITORIES.values() for name in names}
    for f in result.findings:  # type: ignore[attr-defined]
        if f.code == "ACUTE_MI" and f.rule == "stemi":
            return set(f.evidence.get("territory", ()))
    return None


def _st_j(result: object) -> dict[str, float]:
    extra = result.measurements.extra  # type: ignore[attr-defined]
    return {k: float(v) for k, v in (extra.get("st_j_mv") or {}).items() if v is not None}


def run_injection(
    ludb_dir: Path,
    *,
    levels_mv: Sequence[float] = (0.05, 0.1, 0.15, 0.2, 0.3),
    territories: Sequence[str] = tuple(TERRITORIES),
    record_ids: Sequence[str] | None = None,
    stemi_params: Mapping[str, object] | None = None,
) -> InjectionResult:
    """Inject ST elevation into LUDB records without an ischaemia label (nor LBBB).

    Parameters
    ----------
    ludb_dir : Path
        LUDB folder.
    levels_mv : sequence of float
        Injected level of the best contiguous pair, mV.
    territories : sequence of str
        Keys of :data:`TERRITORIES`.
    record_ids : sequence of str, optional
        Backgrounds (default: every record without an ischaemia or LBBB label).
    stemi_params : mapping, optional
        Overrides of the national profile's ``stemi`` rule params (ablations, e.g.
        ``{"sustained_st_point": ""}``).

    Returns
    -------
    InjectionResult
    """
    from ecg_core.analysis import analyze_record
    from evaluation.ludb_eval import ludb_labels, ludb_record_ids, read_ludb_record
    from models.profile import load_profile

    profile = load_profile()
    if stemi_params:
        rules = [
            r.model_copy(update={"params": {**r.params, **stemi_params}}) if r.id == "stemi" else r
            for r in profile.rules
        ]
        profile = profile.model_copy(update={"rules": rules})
    labels = ludb_labels(ludb_dir)

    def clean(r: str) -> bool:
        row = labels.get(r, {})
        return not row.get("Ischemia", "").strip() and "left bundle" not in (
            row.get("Conduction abnormalities", "").lower()
        )

    ids = list(record_ids) if record_ids else [r for r in ludb_record_ids(ludb_dir) if clean(r)]
    out = InjectionResult()
    for rec_id in ids:
        record = read_ludb_record(ludb_dir, rec_id)
        base = analyze_record(record, profile=profile)
        beats = _lead_ii_beats(ludb_dir, rec_id, base.beats.sample)
        if beats.shape[0] < 3:
            continue
        out.records.append(rec_id)
        if _stemi_territories(base) is not None:
            out.baseline_false.append(rec_id)
        base_j = _st_j(base)
        unit = injection_wave(record.signal_mv.shape[1], beats)
        for terr in territories:
            rel = injection_levels(terr)
            want = TERRITORIES[terr][2]
            for level in levels_mv:
                sig = record.signal_mv.copy()
                for row, lead in enumerate(record.leads):
                    sig[row] += level * rel.get(lead, 0.0) * unit
                res = analyze_record(_with_signal(record, sig), profile=profile)
                terrs = _stemi_territories(res)
                key = (terr, level)
                if terrs is not None and terrs & want:
                    out.called.setdefault(key, []).append(rec_id)
                elif terrs is not None:
                    out.wrong_territory.setdefault(key, []).append(rec_id)
                st = _st_j(res)
                if any(rel[x] >= 0.5 and x not in st for x in rel if x in base_j):
                    out.excluded.setdefault(key, []).append(rec_id)
                errs = out.errors_mv.setdefault(terr, [])
                for lead, r in rel.items():
                    if abs(r) * level >= 0.1 and lead in st and lead in base_j:
                        errs.append(st[lead] - base_j[lead] - level * r)
    return out


def _with_signal(record: EcgRecord, signal: NDArray[np.float64]) -> EcgRecord:
    return replace(record, signal_mv=signal)


def injection_table(res: InjectionResult, levels_mv: Sequence[float]) -> list[str]:
    """Text table: Se per territory and level, wrong-territory calls, ST error."""
    n = len(res.records)
    lines = [
        f"backgrounds: {n} LUDB records without ischaemia/LBBB label; "
        f"STEMI called before injection: {len(res.baseline_false)} {' '.join(res.baseline_false)}",
        f"{'territory':<10} " + " ".join(f"{f'{lv:.2f} mV':>14}" for lv in levels_mv),
    ]
    for terr in TERRITORIES:
        if not any(t == terr for t, _ in res.called) and terr not in res.errors_mv:
            continue
        cells = []
        for lv in levels_mv:
            k = len(res.called.get((terr, lv), []))
            w = len(res.wrong_territory.get((terr, lv), []))
            x = len(res.excluded.get((terr, lv), []))
            cell = (
                f"{100.0 * k / max(1, n):.0f}%" + (f" +{w}w" if w else "") + (f" {x}x" if x else "")
            )
            cells.append(f"{cell:>14}")
        lines.append(f"{terr:<10} " + " ".join(cells))
    for terr, errs in res.errors_mv.items():
        e = np.asarray(errs)
        if e.size:
            lines.append(
                f"ST-at-J error, {terr} leads (injected >= 0.1 mV): mean {e.mean():+.3f}, "
                f"SD {e.std():.3f}, |err| > 0.05 mV in {100.0 * np.mean(np.abs(e) > 0.05):.1f} % "
                f"(n {e.size})"
            )
    lines.append("(+Nw: called in another territory only; Nx: injected leads excluded as noisy)")
    for (terr, lv), recs in sorted(res.excluded.items()):
        lines.append(f"injected leads excluded as noisy, {terr} {lv:.2f} mV: {' '.join(recs)}")
    return lines


def _misses(res: InjectionResult, levels_mv: Sequence[float]) -> Mapping[str, list[str]]:
    out = {}
    for terr in sorted({t for t, _ in res.called} | set(res.errors_mv)):
        for lv in levels_mv:
            got = set(res.called.get((terr, lv), []))
            missed = [r for r in res.records if r not in got]
            if missed and lv >= 0.15:
                out[f"{terr} {lv:.2f}"] = missed
    return out


def _param(text: str) -> tuple[str, object]:
    """``key=value`` with ``true``/``false`` as bools and numbers as floats."""
    key, _, value = text.partition("=")
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    try:
        return key, float(value)
    except ValueError:
        return key, value


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m evaluation.stemi_injection LUDB_DIR [--n N] [--levels ...]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("ludb_dir", type=Path)
    ap.add_argument("--n", type=int, default=0, help="first N backgrounds only (0 = all)")
    ap.add_argument("--levels", type=float, nargs="*", default=[0.05, 0.1, 0.15, 0.2, 0.3])
    ap.add_argument("--territory", nargs="*", default=list(TERRITORIES))
    ap.add_argument(
        "--stemi-param", nargs="*", default=[], help="key=value overrides of the stemi rule"
    )
    args = ap.parse_args(argv)
    if not (args.ludb_dir / "ludb.csv").is_file():
        ap.error(f"{args.ludb_dir}: not the LUDB folder (no ludb.csv with the diagnoses)")
    ids = None
    if args.n:
        from evaluation.ludb_eval import ludb_labels, ludb_record_ids

        labels = ludb_labels(args.ludb_dir)
        ids = [
            r
            for r in ludb_record_ids(args.ludb_dir)
            if not labels.get(r, {}).get("Ischemia", "").strip()
            and "left bundle" not in labels.get(r, {}).get("Conduction abnormalities", "").lower()
        ][: args.n]
    res = run_injection(
        args.ludb_dir,
        levels_mv=args.levels,
        territories=args.territory,
        record_ids=ids,
        stemi_params=dict(_param(kv) for kv in args.stemi_param),
    )
    print("\n".join(injection_table(res, args.levels)))
    for key, missed in _misses(res, args.levels).items():
        print(f"missed {key}: {' '.join(missed)}")


if __name__ == "__main__":
    main()
