"""``ecg analyze`` on the sample records: JSON contract, table, annotations, plots."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import wfdb
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from cli.output import result_to_annotations
from ingest.readers import iter_record_paths, read_record
from models.result import AnalysisResult, BeatsOut, Episode

#: Keys every result carries (issue 2; stable from here on).
CONTRACT_KEYS = {
    "record_id",
    "fs_hz",
    "duration_s",
    "leads",
    "beats",
    "measurements",
    "episodes",
    "findings",
    "critical",
    "analysis_version",
}
MEASUREMENT_KEYS = {"hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "st_mv"}
FINDING_KEYS = {"code", "severity", "onset_s", "offset_s", "leads", "value", "threshold", "rule"}
FINDING_KEYS |= {"evidence"}


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sample_json(samples_dir: Path) -> list[dict[str, Any]]:
    code, out, err = _invoke(str(samples_dir), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, list)
    return data


def test_json_has_contract_keys_for_every_sample_record(
    samples_dir: Path, sample_json: list[dict[str, Any]]
) -> None:
    expected_ids = [p.stem for p in iter_record_paths(samples_dir)]
    assert [r["record_id"] for r in sample_json] == expected_ids
    for res in sample_json:
        assert CONTRACT_KEYS <= set(res), res["record_id"]
        assert MEASUREMENT_KEYS <= set(res["measurements"])
        assert set(res["beats"]) >= {"sample", "label"}
        assert len(res["beats"]["sample"]) == len(res["beats"]["label"])
        assert set(res["beats"]["label"]) <= set("NSVFQ")
        assert isinstance(res["critical"], bool)
        for ep in res["episodes"]:
            assert {"type", "onset_s", "offset_s"} <= set(ep)
        for finding in res["findings"]:
            assert FINDING_KEYS <= set(finding)
        AnalysisResult.model_validate(res)  # round-trips into the model


def test_json_matches_the_record_read(samples_dir: Path, sample_json: list[dict[str, Any]]) -> None:
    by_id = {r["record_id"]: r for r in sample_json}
    for path in iter_record_paths(samples_dir):
        rec = read_record(path)
        res = by_id[rec.record_id]
        assert res["fs_hz"] == rec.fs_hz
        assert res["duration_s"] == pytest.approx(rec.duration_s)
        assert res["leads"] == list(rec.leads)
        assert all(0 <= s < rec.n_samples for s in res["beats"]["sample"])


def test_json_single_record_is_an_object(samples_dir: Path) -> None:
    code, out, _ = _invoke(str(samples_dir / "ludb1"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, dict)
    assert data["record_id"] == "ludb1"


def test_jsonl_one_object_per_line(samples_dir: Path) -> None:
    paths = [samples_dir / "ludb1.hea", samples_dir / "A00001.mat"]
    code, out, _ = _invoke(*map(str, paths), "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["record_id"] for r in rows] == ["ludb1", "A00001"]


def test_table_output(samples_dir: Path) -> None:
    code, out, _ = _invoke(str(samples_dir / "s0010_re.hea"), "--recording", "resting")
    assert code == 0
    for text in ("s0010_re", "1000 Hz", "38.4 s (resting)", "vx vy vz", "HR", "QTc", "episodes"):
        assert text in out


def test_annotations_out_is_readable_by_wfdb(samples_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "ann"
    path = samples_dir / "mitdb119_0-300s.hea"
    code, out, err = _invoke(str(path), "--format", "json", "--annotations-out", str(out_dir))
    assert code == 0, err
    res = json.loads(out)
    ann = wfdb.rdann(str(out_dir / "mitdb119_0-300s"), "qrs")
    beats = [(s, sym) for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym != "+"]
    assert [s for s, _ in beats] == res["beats"]["sample"]
    assert [sym for _, sym in beats] == res["beats"]["label"]
    rhythm = [a for a, sym in zip(ann.aux_note, ann.symbol, strict=True) if sym == "+"]
    assert rhythm[0].rstrip("\x00") == "(N" or res["episodes"]
    assert ann.fs == 360


def test_plot_writes_png(samples_dir: Path, tmp_path: Path) -> None:
    code, _, err = _invoke(str(samples_dir / "ludb7.hea"), "--plot", str(tmp_path))
    assert code == 0, err
    png = tmp_path / "ludb7.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _result(episodes: list[Episode], beats: list[int]) -> AnalysisResult:
    return AnalysisResult(
        record_id="r",
        fs_hz=100.0,
        duration_s=60.0,
        leads=["II"],
        beats=BeatsOut(sample=beats, label=["N"] * len(beats)),
        episodes=episodes,
        analysis_version="test",
    )


def test_annotations_nested_and_adjacent_episodes() -> None:
    # Given AF 10-30 s with a VT run 15-20 s inside, a pause (not a rhythm) and VF 30-40 s
    res = _result(
        [
            Episode(type="AFIB", onset_s=10, offset_s=30),
            Episode(type="VT", onset_s=15, offset_s=20),
            Episode(type="PAUSE", onset_s=25, offset_s=28),
            Episode(type="VF", onset_s=30, offset_s=40),
        ],
        beats=[500, 1500],
    )
    ann = result_to_annotations(res)
    rhythm = [
        (int(s), a)
        for s, sym, a in zip(ann.sample, ann.symbol, ann.aux_note, strict=True)
        if sym == "+"
    ]
    # Then AF resumes after VT, VF follows AF directly, and the offset returns to (N
    assert rhythm == [
        (0, "(N"),
        (1000, "(AFIB"),
        (1500, "(VT"),
        (2000, "(AFIB"),
        (3000, "(VF"),
        (4000, "(N"),
    ]
    assert np.all(np.diff(ann.sample) >= 0)


@given(
    spans=st.lists(
        st.tuples(st.floats(0, 59), st.floats(0.1, 30), st.sampled_from(["AFIB", "VT", "VF"])),
        max_size=6,
    ),
    beats=st.lists(st.integers(0, 5999), max_size=50),
)
def test_annotations_invariants(spans: list[tuple[float, float, str]], beats: list[int]) -> None:
    # Invariants: sorted samples, every beat kept, consecutive rhythm labels differ
    episodes = [Episode(type=k, onset_s=o, offset_s=min(o + d, 60.0)) for o, d, k in spans]
    ann = result_to_annotations(_result(episodes, sorted(beats)))
    assert np.all(np.diff(ann.sample) >= 0)
    assert ann.symbol.count("N") == len(beats)
    rhythm = [a for sym, a in zip(ann.symbol, ann.aux_note, strict=True) if sym == "+"]
    assert rhythm[0].startswith("(")
    assert all(a != b for a, b in itertools.pairwise(rhythm))
