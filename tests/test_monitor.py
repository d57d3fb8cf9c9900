"""Production monitoring over a SQLite event store: quiet on events like the training data, alerting (exit code 1,
an ALERT line naming the features) on shifted ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from app import monitor
from credit_scoring.drift import DriftSettings
from tests.test_drift import applications, drift_params

REPO = Path(__file__).resolve().parents[1]
# evidently 0.7.23 calls DataFrame.dropna(inplace=True), which pandas 3.1 deprecates, once per column compared
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:pandas.errors.Pandas4Warning")
TOP = ["NAME_CONTRACT_TYPE", "AMT_CREDIT", "EXT_SOURCE_2", "CNT_CHILDREN", "DAYS_EMPLOYED"]
PARAMS = {
    "seed": 42,
    "cost": {"fn": 10, "fp": 1},
    **drift_params(top_features=TOP),
    "monitor": {"window_events": 600, "min_events": 200, "psi_alert": 0.25, "drift_share_alert": 0.5},
}


@pytest.fixture
def work_dir(tmp_path, monkeypatch):
    """A work tree with params.yaml and a small application_train, and an empty SQLite store named by EVENTS_URL."""
    (tmp_path / "data/prepared").mkdir(parents=True)
    applications(5000, seed=1).to_parquet(tmp_path / "data/prepared/application_train.parquet", index=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    monkeypatch.setenv("EVENTS_URL", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_reference_scores(work_dir: Path) -> None:
    """What the threshold stage leaves in models/champion: the champion's probabilities on training clients."""
    path = work_dir / "models/champion/reference_scores.parquet"
    path.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    pd.DataFrame({"probability": rng.beta(1.6, 18.4, 8000)}).to_parquet(path, index=False)


def summary(work_dir: Path) -> dict:
    return json.loads((work_dir / "reports/monitoring/monitoring.json").read_text())


def test_quiet_on_events_drawn_from_the_reference(work_dir, capsys):
    write_reference_scores(work_dir)
    assert monitor.main(["simulate", "--n", "600", "--drift", "none", "--seed", "1"]) == 0
    assert monitor.main([]) == 0
    out = capsys.readouterr()
    assert "ALERT" not in out.err + out.out
    result = summary(work_dir)
    assert result["status"] == "ok" and result["alerts"] == [] and result["window"]["events"] == 600
    assert set(result["features"]) == set(TOP) and result["drifted_share"] == 0.0
    assert all(f["psi"] < 0.1 for f in result["features"].values())
    assert result["scores"]["psi"] < 0.1 and not result["scores"]["drifted"]
    assert (work_dir / "reports/monitoring/monitoring.html").stat().st_size > 10_000


def test_alerts_on_shifted_events_naming_the_features(work_dir, capsys):
    write_reference_scores(work_dir)
    monitor.main(["simulate", "--n", "600", "--drift", "shift", "--seed", "1"])
    assert monitor.main([]) == 1
    alerts = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ALERT")]
    assert alerts and "EXT_SOURCE_2" in alerts[0] and "AMT_CREDIT" in alerts[0]
    assert any("predicted probabilities" in line for line in alerts)
    result = summary(work_dir)
    assert result["status"] == "alert" and result["alerts"] == alerts
    assert result["drifted_features"] == ["AMT_CREDIT", "EXT_SOURCE_2"]
    assert result["scores"]["mean_current"] > result["scores"]["mean_reference"]


def test_the_window_is_the_latest_events(work_dir, capsys):
    """Shifted events followed by 600 ordinary ones: the latest 600 are judged, and they are quiet."""
    monitor.main(["simulate", "--n", "400", "--drift", "shift"])
    monitor.main(["simulate", "--n", "600", "--drift", "none"])
    assert monitor.main([]) == 0
    assert summary(work_dir)["window"]["events"] == 600


def test_without_reference_scores_only_the_inputs_are_compared(work_dir, capsys):
    monitor.main(["simulate", "--n", "300", "--drift", "none"])
    assert monitor.main([]) == 0
    assert "score comparison skipped: models/champion/reference_scores.parquet not found" in capsys.readouterr().out
    assert "not found" in summary(work_dir)["scores"]["skipped"]


def test_too_few_events_are_not_judged(work_dir, capsys):
    monitor.main(["simulate", "--n", "50", "--drift", "shift"])
    assert monitor.main([]) == 0
    result = summary(work_dir)
    assert result["status"] == "not_enough_events" and result["alerts"] == []
    assert not (work_dir / "reports/monitoring/monitoring.html").exists()


def test_exit_code_and_alert_line_from_the_command_line(work_dir):
    monitor.main(["simulate", "--n", "300", "--drift", "shift", "--seed", "2"])
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "app.monitor"]
    run = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert any(line.startswith("ALERT PSI above 0.25 on top features: ") for line in run.stderr.splitlines())


def test_simulated_events_follow_the_store_schema_and_the_cost_threshold():
    reference = applications(1000, seed=1)
    threshold = monitor.decision_threshold(PARAMS)
    assert threshold == pytest.approx(1 / 11)
    rng = np.random.default_rng(0)
    plain = monitor.simulate_events(reference, 2000, "none", rng, None, threshold)
    shifted = monitor.simulate_events(reference, 2000, "shift", rng, None, threshold)
    assert set(plain[0]) == {"model_version", "client_id", "inputs", "probability", "decision", "threshold",
                             "latency_ms", "endpoint"}
    assert "TARGET" not in plain[0]["inputs"] and "SK_ID_CURR" not in plain[0]["inputs"]
    assert all((e["decision"] == "refusé") == (e["probability"] >= threshold) for e in plain + shifted)
    assert np.mean([e["probability"] for e in plain]) == pytest.approx(0.08, abs=0.01)
    assert np.mean([e["probability"] for e in shifted]) > 0.15
    credit = [np.median([e["inputs"]["AMT_CREDIT"] for e in events]) for events in (plain, shifted)]
    assert credit[1] / credit[0] == pytest.approx(1.6, rel=0.1)


def test_inputs_are_typed_like_the_reference_and_absent_fields_reported():
    """Read back from the store's JSON, a field is ints and floats, text, or None."""
    reference = applications(3000, seed=1)
    events = pd.DataFrame(
        {
            "AMT_CREDIT": [300_000, 450_000.5, None] * 100,
            "NAME_CONTRACT_TYPE": ["Cash loans", None, "Revolving loans"] * 100,
            "DAYS_EMPLOYED": [365243, -1200, -30] * 100,
            "probability": [0.05, 0.1, 0.2] * 100,
            "decision": ["accordé", "refusé", "refusé"] * 100,
        }
    )
    typed = monitor.inputs_like_reference(events, reference, TOP)
    assert typed["AMT_CREDIT"].dtype == "float64" and typed["NAME_CONTRACT_TYPE"].dtype == "str"
    assert typed["DAYS_EMPLOYED"].isna().sum() == 100  # the sentinel
    assert typed["EXT_SOURCE_2"].isna().all()
    settings = DriftSettings.from_params(PARAMS)
    result, _ = monitor.check(events, reference, None, settings, monitor.MonitorSettings.from_params(PARAMS), 0)
    assert result["absent_features"] == ["EXT_SOURCE_2", "CNT_CHILDREN"]
    assert set(result["features"]) == {"NAME_CONTRACT_TYPE", "AMT_CREDIT", "DAYS_EMPLOYED"}
