"""``ecg eval`` on a folder an evaluator cannot read: one clear line and exit code 2."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app


def test_stemi_on_a_folder_of_no_known_database(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an ECG database")
    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--what", "stemi"])
    assert result.exit_code == 2
    text = " ".join(result.stdout.split())
    assert f"stemi: {tmp_path}: not a PTB, CinC 2021, CPSC 2018 or LUDB folder" in text
    assert result.exception is None or isinstance(result.exception, SystemExit)
