"""Rule profiles: built-in arrhythmia profiles, inheritance, validation errors on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.errors import RuleProfileError
from models.profile import list_profiles, load_profile


def test_builtin_profiles_present_and_sourced() -> None:
    names = set(list_profiles())
    assert {"cn-2017-national", "cn-zhejiang", "cn-shanxi", "custom-example"} <= names
    for name in ("cn-2017-national", "cn-zhejiang", "cn-shanxi", "custom-example"):
        p = load_profile(name)
        assert all(len(r.source) >= 3 for r in p.rules)
        assert all(r.status in ("source", "regional", "unconfirmed") for r in p.rules)


def test_resting_and_holter_pause_rules_differ() -> None:
    p = load_profile()
    resting = {r.code for r in p.rules_for("resting")}
    holter = {r.code for r in p.rules_for("holter")}
    assert "LONG_PAUSE" in resting
    assert "LONG_PAUSE" not in holter
    assert "LONG_PAUSE_HOLTER" in holter


def test_regional_profiles_override_by_id() -> None:
    national = load_profile().rule("svt-fast")
    zhejiang = load_profile("cn-zhejiang").rule("svt-fast")
    shanxi = load_profile("cn-shanxi").rule("svt-fast")
    assert (national.threshold, national.param("af_mean_rate_bpm")) == (200.0, 200.0)
    assert (zhejiang.threshold, zhejiang.param("af_mean_rate_bpm")) == (230.0, 180.0)
    assert (shanxi.threshold, shanxi.min_duration_s) == (180.0, 30.0)
    assert zhejiang.status == "regional"
    # untouched rules are inherited unchanged
    assert load_profile("cn-zhejiang").rule("vf") == load_profile().rule("vf")


def test_custom_example_disables_and_overrides() -> None:
    p = load_profile("custom-example")
    assert p.rule("long-pause-resting").threshold == 2.5
    assert not p.rule("hrv-low").enabled
    assert "hrv-low" not in {r.id for r in p.rules_for("holter")}


def _write(tmp_path: Path, rule: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(f'[profile]\nname = "bad"\nversion = "1"\n\n[[rule]]\n{rule}\n')
    return path


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            'id = "x"\ncode = "NOT_A_CODE"\nseverity = "critical"\nsource = "test source"',
            "unknown item code",
        ),
        (
            'id = "x"\ncode = "VF"\nseverity = "critical"\nthreshold = -1.0\nsource = "src"',
            "threshold must be >= 0",
        ),
        ('id = "x"\ncode = "VF"\nseverity = "critical"', "source"),
        ('id = "x"\ncode = "VF"\nseverity = "urgent"\nsource = "test source"', "severity"),
    ],
)
def test_invalid_rule_rejected_with_clear_message(tmp_path: Path, rule: str, message: str) -> None:
    path = _write(tmp_path, rule)
    with pytest.raises(RuleProfileError, match=message) as exc:
        load_profile(path)
    assert "bad.toml" in str(exc.value)
    assert "'x'" in str(exc.value)


def test_user_copy_of_example_loads(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "models" / "profiles" / "custom-example.toml"
    text = src.read_text().replace('extends = "cn-2017-national"', 'extends = "cn-zhejiang"')
    path = tmp_path / "my-centre.toml"
    path.write_text(text)
    p = load_profile(path)
    assert p.name == "custom-example"
    assert p.rule("svt-fast").threshold == 150.0
