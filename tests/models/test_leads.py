from __future__ import annotations

import pytest

from models.leads import STANDARD_12, normalise_lead_name, normalise_lead_names


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("AVR", "aVR"),
        ("avl", "aVL"),
        ("Lead II", "II"),
        (" v1 ", "V1"),
        ("V4r", "V4R"),
        ("MLII", "MLII"),
        ("ECG1", "ECG1"),
        ("i", "I"),
        ("iii", "III"),
    ],
)
def test_normalise_lead_name(raw: str, norm: str) -> None:
    assert normalise_lead_name(raw) == norm


def test_standard_names_are_fixed_points() -> None:
    assert normalise_lead_names(STANDARD_12) == STANDARD_12


def test_duplicates_stay_unique() -> None:
    assert normalise_lead_names(["ECG", "ECG", "ecg"]) == ("ECG", "ECG#2", "ecg")
