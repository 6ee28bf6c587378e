"""rhythm-afl evaluation: reference parsing and report contents (no real data needed)."""

from __future__ import annotations

from pathlib import Path

from evaluation.episodes import episode_counts
from evaluation.rhythm_eval_afl import AflReport, _EpisodeRecord, _ludb_reference, is_afl_db


def test_ludb_flutter_labels_are_read_from_multiline_cells(tmp_path: Path) -> None:
    # Given a ludb.csv whose cells hold line breaks (as the real file)
    (tmp_path / "data").mkdir()
    (tmp_path / "ludb.csv").write_text(
        'ID,Sex,Rhythms\n35,"F\n","Atrial flutter, typical"\n51,M,"Atrial fibrillation"\n'
        '1,F,"Sinus rhythm\nSinus arrhythmia"\n'
    )
    # Then the classes are flutter / fibrillation / other and the folder is recognised
    assert _ludb_reference(tmp_path) == {"35": "flutter", "51": "fibrillation", "1": "other"}
    assert is_afl_db(tmp_path)


def test_record_level_report_counts_calls_per_class() -> None:
    # Given three records, one flutter found, one AF called flutter, one sinus not called
    rep = AflReport(
        "ludb",
        "records",
        calls=[("35", True, 10.0), ("101", True, 10.0), ("1", False, 0.0)],
        reference={"35": "flutter", "101": "fibrillation", "1": "other"},
    )
    # Then the JSON lists the calls by reference class
    js = rep.to_json()
    assert js["by_reference_class"] == {"flutter": [1, 1], "fibrillation": [1, 1], "other": [1, 0]}
    assert js["called"] == ["35", "101"]
    assert len(rep.tables()) == 1


def test_episode_report_separates_afl_over_af_and_false_afl() -> None:
    # Given one record with a reference AFL episode found and one false AFL elsewhere
    r = _EpisodeRecord(
        name="203",
        counts=episode_counts([(0.0, 100.0)], [(10.0, 90.0), (200.0, 230.0)]),
        over_af_s=0.0,
        false_s=30.0,
        false_n=1,
    )
    js = AflReport("mitdb", "episodes", episodes=[r]).to_json()
    g = js["afl_episodes"]["gross"]
    # Then EC57 episode Se is 1/1, +P 1/2, and the false episode is listed
    assert g["episode_se"] == 1.0
    assert g["episode_ppv"] == 0.5
    assert js["false_afl"] == {"203": [1, 30.0]}
