"""The model card: every Annex IV section, intervals quoted as the stages wrote them ("not computed" when a stage
did not), read from the committed reports, and logged to MLflow on the run that registered the champion."""

import copy
import json
from pathlib import Path

import jinja2
import pytest

from credit_scoring.governance import model_card as M

REPO = Path(__file__).resolve().parents[3]

SECTIONS = ("# Model card:", "## 1. Intended use and users", "### Logic of the system (Annex IV 2(b))",
            "## 2. Data", "## 3. Method", "## 4. Performance", "## 5. Fairness", "## 6. Limits",
            "## 7. Human oversight", "## 8. Monitoring plan", "## 9. Versions")


def no_comparison() -> dict:
    """The comparison block as `model_card_inputs` gives it when no stage wrote the paired intervals."""
    model = {"threshold": None, "auc": None, "auc_interval": None, "cost": None, "cost_interval": None}
    return {"baseline": model | {"model": None}, "champion_minus_baseline": {"auc": None, "cost": None},
            "ebm": model, "ebm_minus_champion": {"auc": None, "cost": None}, "fold_spread": {}}


def fake_inputs() -> dict:
    """A small, made-up set of values: numbers chosen so that each one can be found in the card."""
    monitor = {"window_events": 1000, "min_events": 200, "psi_alert": 0.25, "drift_share_alert": 0.5,
               "period": "month", "override_band": [0.02, 0.3], "min_reviews": 30, "min_outcomes": 200,
               "alpha": 0.01, "watched_features": 20}
    return {
        "generated": "2030-01-02",
        "model": {"name": "home-credit-scoring", "alias": "champion", "version": "7", "algorithm": "lightgbm",
                  "params": {"learning_rate": 0.05, "num_leaves": 31}, "rounds": 120},
        "decision": {"cost_fn": 10, "cost_fp": 1, "threshold": 0.0912},
        "data": {"source": "synthetic", "synthetic": True, "rows": {"application_train": 1000,
                                                                   "application_test": 200},
                 "target_rate": 0.0812, "holdout_clients": 200, "holdout_size": 0.2,
                 "history_coverage": {"bureau": 0.86}, "oracle_auc": 0.8111},
        "drift": {"columns": 120, "drifted": 3, "psi_drifted": 4, "drifted_features": ["AMT_CREDIT"],
                  "watched": {"columns": 20, "drifted_columns": 0, "psi_drifted_columns": 1},
                  "score": None, "settings": {"psi_threshold": 0.05}},
        "features": {"built": 50, "used": 49, "excluded": ["CODE_GENDER"], "top": ["EXT_SOURCE_3", "EXT_SOURCE_2"],
                     "monotone": {"AMT_CREDIT": 1, "GOODS_CREDIT_RATIO": -1}, "reasons_max": 4},
        "method": {"folds": 4, "baselines": {"dummy_prior/none": {"cv_auc": 0.5, "cv_cost_per_client": 0.8}},
                   "best_baseline": {"model": "logistic_regression", "strategy": "none", "cost": 0.51, "auc": 0.76},
                   "algorithms": ["lightgbm"], "coarse_best": {}, "coarse_trials": 8, "coarse_sample": 0.4,
                   "challenger_coarse_trials": 4, "coarse_learning_rate": 0.1, "refined_learning_rate": 0.05,
                   "refined_trials": 6, "pruned_trials": 2, "tpe_startup_trials": 3, "cv_cost": 0.49,
                   "cv_auc": 0.77, "f1_threshold": 0.18, "oof_cost_at_0_5": 0.79, "oof_cost_at_f1_threshold": 0.56,
                   "oof_cost_at_threshold": 0.49},
        "performance": {"auc": 0.7123, "cost_per_client": 0.5234, "recall": 0.65, "precision": 0.19, "f1": 0.29,
                        "accuracy": 0.75, "brier": 0.0666, "level": 0.95, "resamples": 500,
                        "auc_interval": [0.70149, 0.72351], "cost_interval": [0.4987, 0.5461],
                        "brier_prior": 0.0745, "comparison": no_comparison(),
                        "oracle": {"auc": 0.7999, "cost": 0.4711, "threshold": 0.094}, "clients": 200,
                        "warnings": [], "ebm": {"auc": 0.7001, "cost": 0.5301}, "cost_ratios": None,
                        "calibration_gap": 0.008},
        "fairness": {"overall": {"approval_rate": 0.72, "default_rate": 0.08}, "groups": [],
                     "attributes": {}, "four_fifths": 0.8, "min_group_size": 30, "variants": {}},
        "monitor": monitor,
        "versions": {"git_commit": None, "packages": {"python": "3.11.0", "lightgbm": "4.0.0"}},
    }


def test_every_annex_iv_section_is_in_the_card():
    card = M.render_model_card(fake_inputs())
    missing = [heading for heading in SECTIONS if heading not in card]
    assert not missing, missing
    assert card.index("## 1.") < card.index("## 4.") < card.index("## 9.")


def test_intervals_are_quoted_as_the_inputs_give_them():
    card = M.render_model_card(fake_inputs())
    assert "| AUC | 0.712 | [0.701, 0.724] |" in card
    assert "| 0.523 | [0.499, 0.546] |" in card
    assert "(500 resamples" in card


def test_an_interval_a_stage_did_not_write_is_not_computed():
    inputs = fake_inputs()
    inputs["performance"]["auc_interval"] = None
    card = M.render_model_card(inputs)
    assert "| AUC | 0.712 | not computed |" in card
    assert "| Champion − baseline | | | not computed | | not computed |" in card
    assert ("Spread over the 4 cross-validation folds (out-of-fold, one global threshold per model):\n"
            "not computed.") in card
    assert "Sensitivity of the decision to the cost ratio" in card and "\nnot computed.\n" in card


def test_the_paired_intervals_are_quoted_where_the_stages_wrote_them():
    inputs = fake_inputs()
    comparison = inputs["performance"]["comparison"]
    comparison["baseline"] = {"model": "logistic_regression", "threshold": 0.0831, "auc": 0.7601,
                              "auc_interval": [0.7452, 0.7749], "cost": 0.5123, "cost_interval": [0.4876, 0.5371]}
    comparison["champion_minus_baseline"] = {"auc": [0.0051, 0.0149], "cost": [-0.0249, -0.0001]}
    comparison["fold_spread"] = {"champion": {"cv_cost_per_client": {"mean": 0.494, "sd": 0.0123, "min": 0.48,
                                                                     "max": 0.51}}}
    card = M.render_model_card(inputs)
    assert ("| Best baseline (logistic_regression) | 0.083 | 0.760 | [0.745, 0.775] | 0.512 | [0.488, 0.537] |"
            in card)
    assert "| Champion − baseline | | | [0.005, 0.015] | | [-0.025, 0.000] |" in card  # no "-0.000"
    assert "| champion | 0.494 ± 0.012 (0.480 to 0.510) | not computed |" in card
    assert "Brier score 0.0666 (predicting the training default rate for\neveryone: 0.0745)" in card


def test_synthetic_data_are_said_plainly_and_real_data_are_not_called_synthetic():
    inputs = fake_inputs()
    assert "**The data are synthetic**" in M.render_model_card(inputs)
    inputs["data"] |= {"source": "kaggle", "synthetic": False}
    inputs["performance"]["oracle"] = None
    card = M.render_model_card(inputs)
    assert "synthetic" not in card.lower() and "Oracle" not in card


def test_a_value_the_card_needs_but_the_inputs_lack_is_an_error():
    inputs = copy.deepcopy(fake_inputs())
    del inputs["decision"]["threshold"]
    with pytest.raises(jinja2.UndefinedError):
        M.render_model_card(inputs)


def test_the_card_from_the_committed_reports_quotes_their_intervals():
    """The card of the worktree's own reports/: its intervals are threshold.json's, rounded as printed."""
    threshold = json.loads((REPO / "reports/metrics/threshold.json").read_text())
    explain = json.loads((REPO / "reports/metrics/explain.json").read_text())
    card = M.render_model_card(M.model_card_inputs(REPO, today="2030-01-02"))
    auc, cost = threshold["intervals"]["holdout_auc"], threshold["intervals"]["holdout_cost_per_client"]
    assert f"| AUC | {threshold['holdout_auc']:.3f} | [{auc[0]:.3f}, {auc[1]:.3f}] |" in card
    assert f"| {threshold['holdout_cost_per_client']:.3f} | [{cost[0]:.3f}, {cost[1]:.3f}] |" in card
    assert f"version {explain['model_version']} (alias `champion`)" in card
    assert f"≥ {threshold['threshold']:.3f}" in card
    assert "on 2030-01-02" in card


def test_the_git_commit_is_none_outside_a_checkout_and_the_checked_out_one_inside(tmp_path):
    import subprocess

    assert M.git_commit(tmp_path) is None
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "second"], cwd=tmp_path, check=True)
    log = subprocess.run(["git", "log", "--format=%H"], cwd=tmp_path, check=True, capture_output=True, text=True)
    second, first = log.stdout.split()
    assert M.git_commit(tmp_path) == second
    subprocess.run(["git", "checkout", "-q", first], cwd=tmp_path, check=True)
    assert M.git_commit(tmp_path) == first


def _register_champion(uri: str) -> str:
    """A tiny logistic regression registered as the champion, the way the threshold stage registers one."""
    import mlflow
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from credit_scoring.common.tracking import register_champion, start_tracking

    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    model = LogisticRegression().fit(X, np.arange(20) % 2)
    start_tracking()
    with mlflow.start_run() as run:
        register_champion(model, "logistic_regression", X,
                          {"threshold": 0.1, "holdout_auc": 0.7, "holdout_cost_per_client": 0.5})
    return run.info.run_id




def test_no_store_means_no_logging_and_no_empty_store_created(tmp_path, monkeypatch):
    store = tmp_path / "absent.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    card = tmp_path / "model_card.md"
    card.write_text("# Model card\n")
    assert M.log_model_card(card) is None
    assert not store.exists()
