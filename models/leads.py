"""Lead names: normalisation to the standard 12-lead spelling.

Readers meet many spellings of the same lead (``AVR``, ``aVR``, ``avr``, ``V1 ``,
``Lead II``, ``MLII``). Standard 12-lead names are normalised to
``I, II, III, aVR, aVL, aVF, V1..V6``; posterior and right-sided leads to
``V7..V9`` and ``V3R..V6R``; anything else (Holter ``MLII``, ``ECG1``) is kept
as written, stripped of surrounding space.
"""

from __future__ import annotations

import re

__all__ = [
    "CONTIGUOUS_GROUPS",
    "LIMB_LEADS",
    "PRECORDIAL_LEADS",
    "STANDARD_12",
    "normalise_lead_name",
    "normalise_lead_names",
]

LIMB_LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF")
PRECORDIAL_LEADS: tuple[str, ...] = ("V1", "V2", "V3", "V4", "V5", "V6")
STANDARD_12: tuple[str, ...] = LIMB_LEADS + PRECORDIAL_LEADS

#: Anatomically contiguous lead groups (4th UDMI, Thygesen et al. JACC 2018;72:2231).
CONTIGUOUS_GROUPS: dict[str, tuple[str, ...]] = {
    "inferior": ("II", "III", "aVF"),
    "lateral": ("I", "aVL", "V5", "V6"),
    "septal": ("V1", "V2"),
    "anterior": ("V3", "V4"),
    "posterior": ("V7", "V8", "V9"),
    "right": ("V3R", "V4R"),
}

_CANONICAL = {name.upper(): name for name in STANDARD_12}
_CANONICAL.update({f"V{i}": f"V{i}" for i in range(7, 10)})
_CANONICAL.update({f"V{i}R": f"V{i}R" for i in range(3, 7)})
_PREFIX = re.compile(r"^(LEAD|ECG[_ ]?LEAD)[ _-]*", re.IGNORECASE)


def normalise_lead_name(name: str) -> str:
    """Return the standard spelling of one lead name.

    Parameters
    ----------
    name : str
        Lead name as found in a file.

    Returns
    -------
    str
        ``I, II, III, aVR, aVL, aVF, V1..V9, V3R..V6R`` for those leads in any case
        or with a ``Lead`` prefix; otherwise the input stripped of white space.

    Examples
    --------
    >>> normalise_lead_name("AVR"), normalise_lead_name("lead ii"), normalise_lead_name("MLII")
    ('aVR', 'II', 'MLII')
    """
    stripped = name.strip()
    key = _PREFIX.sub("", stripped).replace(" ", "").upper()
    return _CANONICAL.get(key, stripped)


def normalise_lead_names(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Normalise every name; duplicates get a ``#2``, ``#3`` suffix so names stay unique.

    Parameters
    ----------
    names : sequence of str
        Lead names in channel order.

    Returns
    -------
    tuple of str
        Normalised names, same order and length.
    """
    out: list[str] = []
    seen: dict[str, int] = {}
    for raw in names:
        norm = normalise_lead_name(raw) or f"ch{len(out) + 1}"
        count = seen.get(norm, 0) + 1
        seen[norm] = count
        out.append(norm if count == 1 else f"{norm}#{count}")
    return tuple(out)
