"""``ecg analyze --prior``: compare with the patient's previous result (real LUDB 7)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def _analyze(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def test_prior_result_is_compared_and_a_bad_one_is_only_a_warning(
    samples_dir: Path, tmp_path: Path
) -> None:
    record = str(samples_dir / "ludb7.hea")
    code, out, err = _analyze(record, "--format", "json")
    assert code == 0, err
    first = json.loads(out)
    # without --prior: the acute MI says there was nothing to compare with
    assert first["comparison"]["prior_record_id"] is None
    mi = next(f for f in first["findings"] if f["code"] == "ACUTE_MI")
    assert mi["evidence"]["prior_ecg"] == {"note": "no prior ECG to compare"}
    # with the same record's result as the previous ECG: same-territory acute MI before
    prior = tmp_path / "prior.json"
    prior.write_text(out)
    code, out, err = _analyze(record, "--format", "json", "--prior", str(prior))
    assert code == 0, err
    second = json.loads(out)
    assert second["comparison"]["prior_record_id"] == "ludb7"
    mi = next(f for f in second["findings"] if f["code"] == "ACUTE_MI")
    assert "also on the ECG of unknown date, record ludb7" in mi["message"]
    assert "interval unknown): not first-found" in mi["message"]
    # an unreadable --prior: a warning, analysed as without a prior
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, out, err = _analyze(record, "--format", "json", "--prior", str(bad))
    assert code == 0
    assert "--prior not read" in err
    assert json.loads(out)["comparison"]["prior_record_id"] is None


def test_table_output_shows_the_prior_and_the_finding_messages(
    samples_dir: Path, tmp_path: Path
) -> None:
    record = str(samples_dir / "ludb7.hea")
    code, out, err = _analyze(record, "--format", "json")
    assert code == 0, err
    prior = tmp_path / "prior.json"
    prior.write_text(out)
    code, out, err = _analyze(record, "--prior", str(prior))
    assert code == 0, err
    text = " ".join(out.split())  # rich wraps long cells and lines
    assert "prior ECG" in text
    assert "record ludb7 (date unknown)" in text
    assert "Q pattern anterior V2" in text
    assert "ACUTE_MI: suspected evolving anterior Q-wave MI" in text
    assert "not first-found" in text
