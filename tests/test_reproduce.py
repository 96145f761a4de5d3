"""Recorded runs: every experiment runs in its smoke size and writes a well-formed results file; every committed
results file belongs to its experiment's current configuration, and its verdict is what the judge computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lecture_code.reproduce import EXPERIMENTS, run_experiment
from lecture_code.reproduce.__main__ import main
from lecture_code.reproduce.record import REQUIRED_KEYS, VERDICTS, check_record, config_hash

RESULTS = Path(__file__).resolve().parents[1] / "results"
COMMITTED = sorted(RESULTS.glob("*.json"))


def test_config_hash_is_canonical() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_smoke_run_writes_a_well_formed_record(name: str, tmp_path: Path) -> None:
    exp = EXPERIMENTS[name]
    path = run_experiment(exp, tmp_path, smoke=True, progress=False, log=lambda _: None)
    rec = json.loads(path.read_text())
    check_record(rec)
    assert set(REQUIRED_KEYS) <= set(rec)
    assert rec["experiment"] == name and rec["smoke"] is True
    assert rec["config"] == exp.config(smoke=True) and rec["config_hash"] == config_hash(exp.smoke)
    assert rec["verdict"] in VERDICTS
    assert (rec["verdict"], rec["note"]) == exp.judge(rec["metrics"], rec["config"])
    assert path.with_suffix(".svg").stat().st_size > 0


def test_full_and_smoke_configs_have_the_same_keys() -> None:
    for exp in EXPERIMENTS.values():
        assert set(exp.full) == set(exp.smoke), exp.name


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_results_match_the_current_configuration(path: Path) -> None:
    rec = json.loads(path.read_text())
    check_record(rec)
    assert rec["experiment"] == path.stem and path.stem in EXPERIMENTS, "a results file without an experiment"
    exp = EXPERIMENTS[path.stem]
    assert rec["smoke"] is False, "commit full runs only"
    assert rec["config"] == dict(exp.full) and rec["config_hash"] == config_hash(exp.full), (
        f"{path.name} was recorded with another configuration: rerun `python -m lecture_code.reproduce run "
        f"{path.stem}`")
    assert rec["verdict"] == exp.judge(rec["metrics"], rec["config"])[0], "the verdict is not the judge's"
    assert path.with_suffix(".svg").exists()


def test_a_tampered_record_is_rejected(tmp_path: Path) -> None:
    path = run_experiment(EXPERIMENTS["clipping_lm"], tmp_path, smoke=True, progress=False, log=lambda _: None)
    rec = json.loads(path.read_text())
    with pytest.raises(ValueError, match="config_hash"):
        check_record(rec | {"config": rec["config"] | {"steps": 1}})
    with pytest.raises(ValueError, match="verdict"):
        check_record(rec | {"verdict": "probably"})
    with pytest.raises(ValueError, match="lacks"):
        check_record({k: v for k, v in rec.items() if k != "machine"})


def test_cli_lists_every_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert f"results/{name}.json" in out


def test_cli_runs_a_smoke_experiment(tmp_path: Path) -> None:
    assert main(["run", "clipping_lm", "--smoke", "--no-progress", "--out", str(tmp_path)]) == 0
    check_record(json.loads((tmp_path / "clipping_lm.json").read_text()))


def test_recorded_shows_a_committed_result_and_states_its_claim(capsys, tmp_path):
    from lecture_code import claims
    from lecture_code.reproduce import show

    committed = sorted(p.stem for p in show.RESULTS.glob("*.json"))
    assert committed, "no committed results"
    r = show.load(committed[0])
    c = show.recorded(committed[0], "the recorded claim", expect=claims.VERDICTS)
    out = capsys.readouterr().out
    assert c is not None and c.verdict == r["verdict"]
    assert f"python -m lecture_code.reproduce run {committed[0]}" in out and "not run on this page" in out
    assert show.recorded(committed[0], "x", results=tmp_path / "absent") is None
    (tmp_path / "bad.json").write_text('{"experiment": "bad"}', encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        show.load("bad", tmp_path)
    with pytest.raises(FileNotFoundError, match="reproduce run nothing"):
        show.load("nothing", tmp_path)


def test_metrics_of_a_committed_run_or_none_without_a_checkout(tmp_path):
    from lecture_code.reproduce import show

    name = sorted(p.stem for p in show.RESULTS.glob("*.json"))[0]
    assert show.metrics(name) == show.load(name)["metrics"]
    assert show.metrics(name, results=tmp_path / "absent") is None


def test_importing_reproduce_leaves_the_matplotlib_backend_alone():
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('svg'); import lecture_code.reproduce.show, lecture_code.reproduce; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "svg"  # a notebook's inline backend survives `from lecture_code.reproduce import show`
