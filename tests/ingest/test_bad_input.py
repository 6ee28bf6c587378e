"""Bad input through ``ecg analyze``: one clear ``error: <file>: <problem>`` line, exit 2.

Every case builds its broken file from a real sample record, runs the CLI with typer's
CliRunner and checks: exit code, exactly one stderr line naming the file and the
problem, nothing on stdout, no traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import wfdb
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
RECORD = "mitdb119_0-300s"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def _assert_one_error(code: int, out: str, err: str, path: Path, *keywords: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: "), lines[0]
    for word in keywords:
        assert word in lines[0].lower(), lines[0]
    assert "Traceback" not in err + out
    assert out == ""


def _copy_record(samples: Path, dest: Path, *, with_dat: bool = True) -> Path:
    shutil.copy(samples / f"{RECORD}.hea", dest / f"{RECORD}.hea")
    if with_dat:
        shutil.copy(samples / f"{RECORD}.dat", dest / f"{RECORD}.dat")
    return dest / f"{RECORD}.hea"


def _csv(path: Path, columns: dict[str, np.ndarray]) -> Path:
    header = ",".join(columns)
    data = np.column_stack(list(columns.values()))
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt="%.5f")
    return path


def _ludb_lead_ii(samples: Path) -> np.ndarray:
    return np.asarray(wfdb.rdrecord(str(samples / "ludb1"), channels=[1]).p_signal[:, 0])


def _missing_dat(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    return _copy_record(samples, tmp, with_dat=False), [], ("missing", ".dat")


def _truncated_dat(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    hea = _copy_record(samples, tmp)
    dat = tmp / f"{RECORD}.dat"
    dat.write_bytes(dat.read_bytes()[:100_000])
    return hea, [], ("truncated",)


def _wrong_sample_count(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    hea = _copy_record(samples, tmp)
    hea.write_text(hea.read_text().replace(" 360 108000", " 360 100000", 1))
    return hea, [], ("sample count", "100000")


def _unknown_format(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    del samples
    path = tmp / "report.ecg"
    path.write_text("Patient report\nRhythm: sinus\nSigned: Dr X\n")
    return path, [], ("unknown format",)


def _empty_file(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    del samples
    path = tmp / "empty.edf"
    path.touch()
    return path, [], ("empty",)


def _binary_garbage(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    del samples
    path = tmp / "garbage.dat"
    path.write_bytes(np.random.default_rng(7).bytes(8192))
    return path, [], ("unknown format", ".hea")


def _csv_without_fs(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    path = _csv(tmp / "no_fs.csv", {"II [mV]": _ludb_lead_ii(samples)})
    return path, [], ("no sampling rate", "--fs-hz")


def _nan_lead(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    nan = np.full_like(_ludb_lead_ii(samples), np.nan)
    path = _csv(tmp / "nan.csv", {"II [mV]": nan})
    return path, ["--fs-hz", "500"], ("missing", "nan")


def _one_second(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    path = _csv(tmp / "short.csv", {"II [mV]": _ludb_lead_ii(samples)[:500]})
    return path, ["--fs-hz", "500"], ("1.00 s", "at least")


def _fs_zero(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    path = _csv(tmp / "fs0.csv", {"II [mV]": _ludb_lead_ii(samples)})
    return path, ["--fs-hz", "0"], ("sampling rate", "range")


def _fs_huge(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    path = _csv(tmp / "fs1e9.csv", {"II [mV]": _ludb_lead_ii(samples)})
    return path, ["--fs-hz", "1e9"], ("sampling rate", "range")


def _header_fs_huge(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    hea = _copy_record(samples, tmp)
    hea.write_text(hea.read_text().replace(" 360 108000", " 1000000000 108000", 1))
    return hea, [], ("sampling rate", "range")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


def _xml_bomb(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    del samples
    path = tmp / "bomb.xml"
    path.write_text(BILLION_LAUGHS)
    return path, [], ("xml bomb",)


def _aecg_bomb(samples: Path, tmp: Path) -> tuple[Path, list[str], tuple[str, ...]]:
    # the bomb hidden in a file that claims to be an aECG
    text = (samples / "hl7-aecg-example.xml").read_text()
    doctype = BILLION_LAUGHS.split("<lolz>")[0].replace("lolz", "AnnotatedECG")
    path = tmp / "aecg_bomb.xml"
    path.write_text(doctype + text.replace("<text>", "<text>&lol9;", 1))
    return path, [], ("xml bomb",)


CASES: dict[str, Callable[[Path, Path], tuple[Path, list[str], tuple[str, ...]]]] = {
    "missing .dat": _missing_dat,
    "truncated .dat": _truncated_dat,
    "wrong sample count": _wrong_sample_count,
    "unknown format": _unknown_format,
    "empty file": _empty_file,
    "binary garbage": _binary_garbage,
    "csv without sampling rate": _csv_without_fs,
    "nan-filled lead": _nan_lead,
    "1 s of signal": _one_second,
    "fs 0": _fs_zero,
    "fs 1e9": _fs_huge,
    "header fs 1e9": _header_fs_huge,
    "xml bomb": _xml_bomb,
    "xml bomb in aecg": _aecg_bomb,
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_exit_2(samples_dir: Path, tmp_path: Path, case: str) -> None:
    # Given a broken file built from a real record
    path, extra, keywords = CASES[case](samples_dir, tmp_path)
    # When analysed, Then one line names the file and the problem; exit code 2
    code, out, err = _run(str(path), *extra)
    _assert_one_error(code, out, err, path, *keywords)


def test_nan_lead_among_good_leads_is_a_warning(samples_dir: Path, tmp_path: Path) -> None:
    # Given two leads, one entirely NaN: the record is still analysable
    lead = _ludb_lead_ii(samples_dir)
    path = _csv(tmp_path / "one_nan.csv", {"II [mV]": lead, "V1 [mV]": np.full_like(lead, np.nan)})
    code, out, err = _run(str(path), "--fs-hz", "500", "--format", "json")
    # Then exit 0, a warning line names the lead, and the JSON still lists both leads
    assert code == 0, err
    assert err.strip() == f"warning: {path}: lead V1 excluded from analysis (missing)"
    assert '"leads": [\n    "II",\n    "V1"\n  ]' in out


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.hea"
    code, out, err = _run(str(path))
    _assert_one_error(code, out, err, path, "no such file")


def test_one_bad_file_does_not_stop_the_batch(samples_dir: Path, tmp_path: Path) -> None:
    # Given a folder with one good record and two bad files
    _copy_record(samples_dir, tmp_path)
    (tmp_path / "empty.csv").touch()
    (tmp_path / "junk.bin").write_bytes(np.random.default_rng(1).bytes(1000))
    code, out, err = _run(str(tmp_path), "--format", "jsonl")
    # Then the good one is reported, each bad one is one line, and the exit code is 2
    assert code == 2
    assert [ln.split(":")[0] for ln in err.splitlines() if ln.strip()] == ["error", "error"]
    assert len(out.splitlines()) == 1
    assert '"record_id": "mitdb119_0-300s"' in out


def test_unexpected_exception_is_one_line_exit_1(
    samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an analysis stage that crashes
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stage exploded\nwith a second line")

    monkeypatch.setattr("cli.analyze.analyze_record", boom)
    path = samples_dir / "ludb1.hea"
    code, out, err = _run(str(path))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1
    assert lines == [
        f"error: {path}: internal error (RuntimeError: stage exploded with a second line)"
    ]
    assert "Traceback" not in out + err


def test_bad_profile_is_a_usage_error(samples_dir: Path) -> None:
    code, _out, err = _run(str(samples_dir / "ludb1.hea"), "--profile", "no-such-profile")
    assert code == 2
    assert err.startswith("error: --profile no-such-profile: ")
    assert len(err.strip().splitlines()) == 1


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    # The installed entry point behaves the same outside CliRunner
    path = tmp_path / "garbage.edf"
    path.write_bytes(b"\x00\x01garbage" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "analyze", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: unknown format (the content is not EDF: no EDF version field); "
        "supported: wfdb, edf, hl7-aecg, challenge-mat, csv"
    ]
    assert proc.stdout == ""
