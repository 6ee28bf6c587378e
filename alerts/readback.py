"""Read-back check: the clinician repeats the critical value when acknowledging it.

Standard critical-result communication practice (Joint Commission NPSG.02.03.01;
China's 危急值报告制度 requires the receiver to repeat and record the value): the
acknowledgement is accepted only when the read-back names every critical finding of
the alert, by its code (``VT``, ``LONG_QT``) or a common name (``ventricular
tachycardia``, ``室速``). Matching ignores case, punctuation and underscores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.errors import InputError

__all__ = ["CODE_NAMES", "ReadBackError", "check_read_back", "code_label", "missing_codes"]


class ReadBackError(InputError):
    """The read-back does not name every critical finding of the alert."""


#: Names accepted in a read-back besides the code itself (English, Chinese).
CODE_NAMES: dict[str, tuple[str, ...]] = {
    "ACUTE_MI": ("acute mi", "stemi", "myocardial infarction", "急性心肌梗死", "心梗"),
    "ACUTE_ISCHEMIA": ("acute ischemia", "acute ischaemia", "ischemia", "ischaemia", "心肌缺血"),
    "REINFARCTION": ("reinfarction", "re infarction", "再梗"),
    "VF": ("ventricular fibrillation", "ventricular flutter", "vfib", "室颤", "室扑"),
    "VT": ("ventricular tachycardia", "vtach", "室速", "室性心动过速"),
    "POLYMORPHIC_VT": ("polymorphic vt", "torsades", "torsade de pointes", "尖端扭转"),
    "SVT_FAST": ("svt", "supraventricular tachycardia", "fast af", "室上速", "快心室率"),
    "PREEXCITED_AF": ("pre excited af", "preexcited af", "wpw af", "预激"),
    "SEVERE_BRADY": ("severe bradycardia", "bradycardia", "av block", "心动过缓", "传导阻滞"),
    "LONG_PAUSE": ("long pause", "pause", "long rr", "长间歇", "停搏"),
    "LONG_PAUSE_HOLTER": ("long pause", "pause", "long rr", "长间歇", "停搏"),
    "ASYSTOLE": ("asystole", "ventricular standstill", "心室停搏", "心搏骤停"),
    "LONG_QT": ("long qt", "qt prolongation", "prolonged qt", "qtc", "长qt", "qt延长"),
    "HYPERKALEMIA": ("hyperkalemia", "hyperkalaemia", "高钾"),
    "HYPOKALEMIA": ("hypokalemia", "hypokalaemia", "低钾"),
    "PE_PATTERN": ("pulmonary embolism", "pe", "肺栓塞"),
    "T_ALTERNANS": ("t wave alternans", "t alternans", "t波电交替"),
    "RONT_PVC": ("r on t", "multifocal pvc", "ron t", "多源室早"),
    "PACER_FAILURE": ("pacemaker failure", "pacer failure", "起搏器功能"),
    "UNANALYSABLE": ("unanalysable", "unanalyzable", "无法分析"),
}


def _norm(text: str) -> str:
    return " " + re.sub(r"[\W_]+", " ", text.lower()).strip() + " "


def _names(phrase: str, text: str) -> bool:
    # whole words for Latin names; plain containment for Chinese (no word spaces)
    if phrase.isascii():
        return _norm(phrase) in text
    return _norm(phrase).strip() in text


def code_label(code: str) -> str:
    """A readable name of ``code`` (its first English name, else the code)."""
    names = CODE_NAMES.get(code)
    return f"{code} ({names[0]})" if names else code


def missing_codes(read_back: str, codes: Iterable[str]) -> list[str]:
    """The codes the read-back does not name.

    Parameters
    ----------
    read_back : str
        What the clinician repeated.
    codes : iterable of str
        Active critical codes of the alert.

    Returns
    -------
    list of str
        Codes not found (empty when the read-back is complete).

    Examples
    --------
    >>> missing_codes("Ventricular tachycardia, 180/min", ["VT"])
    []
    >>> missing_codes("VT", ["VT", "LONG_QT"])
    ['LONG_QT']
    """
    text = _norm(read_back)
    missing = []
    for code in codes:
        phrases = (code, *CODE_NAMES.get(code, ()))
        if not any(_names(p, text) for p in phrases):
            missing.append(code)
    return missing


def check_read_back(read_back: str, codes: Iterable[str]) -> None:
    """Raise :class:`ReadBackError` unless ``read_back`` names every code.

    Raises
    ------
    ReadBackError
        Empty read-back, or a critical finding not repeated.
    """
    codes = list(codes)
    if not read_back.strip():
        raise ReadBackError("read_back is empty: repeat the critical value(s) back")
    missing = missing_codes(read_back, codes)
    if missing:
        raise ReadBackError(
            f"read_back {read_back!r} does not repeat the critical value(s) "
            f"{', '.join(code_label(c) for c in missing)}; expected all of "
            f"{', '.join(code_label(c) for c in codes)}"
        )
