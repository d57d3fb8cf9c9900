"""Reading what the other stages wrote (reports/ and params.yaml), with an error that names
the missing file or key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from credit_scoring.common.paths import metrics, plot, table
from credit_scoring.features.labels import APPLICATION_CATEGORIES, BINARY_LABELS
from credit_scoring.note.vocabulary import PROTECTED_NAMES


# --------------------------------------------------------------------------------------------------------
# Reading the reports.
# --------------------------------------------------------------------------------------------------------
@dataclass
class Reports:
    metrics: dict[str, dict]
    baseline: pd.DataFrame
    trials: pd.DataFrame
    thresholds: pd.DataFrame
    importance: pd.DataFrame
    family_importance: pd.DataFrame
    ebm: pd.DataFrame
    fairness: pd.DataFrame
    drift: pd.DataFrame
    sensitivity: pd.DataFrame
    calibration: pd.DataFrame


METRIC_FILES = ("prepare", "featurize", "baseline", "tune", "threshold", "explain", "fairness", "drift")
TABLE_FILES = {"baseline": "baseline", "trials": "tune_trials", "thresholds": "thresholds",
               "importance": "shap_importance", "family_importance": "shap_family_importance",
               "ebm": "ebm_vs_champion", "fairness": "fairness", "drift": "drift_psi",
               "sensitivity": "cost_ratio_sensitivity"}
REQUIRED_KEYS = {  # what this note quotes that older runs did not write: a clear error, never a silent gap
    "threshold": ("intervals.holdout_auc", "intervals.holdout_cost_per_client", "intervals.baseline",
                  "intervals.champion_minus_baseline", "intervals.fold_spread", "intervals.brier_prior",
                  "variants"),
    "explain": ("ebm_intervals", "model_version"),
    "tune": ("choice", "finished_trials", "cv_cost_fold_sd", "coarse_best"),
    "fairness": ("sexe", "age"),
    "drift": ("watched_features", "score"),
}


def dig(data: dict, path: str, source: str):
    """``data[a][b]…`` for ``path`` 'a.b…'; a missing key names the file and the stage to rerun."""
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"{source} has no `{path}`: the note needs it; rerun the stage that writes "
                           f"{source} (`dvc repro`)")
        node = node[part]
    return node


def read_reports(root: Path) -> Reports:
    """Every report the note quotes, from the project at ``root``; a missing one names the stage to run."""
    missing = [p for p in [root / metrics(m) for m in METRIC_FILES] + [root / table(t) for t in TABLE_FILES.values()]
               + [root / plot("calibration")] if not p.exists()]
    if missing:
        raise FileNotFoundError("the note needs reports that are missing (run `dvc repro` first): "
                                + ", ".join(str(p) for p in missing))
    read = {m: json.loads((root / metrics(m)).read_text()) for m in METRIC_FILES}
    for name, keys in REQUIRED_KEYS.items():
        for key in keys:
            dig(read[name], key, str(metrics(name)))
    tables = {k: pd.read_csv(root / table(t)) for k, t in TABLE_FILES.items()}
    return Reports(metrics=read, **tables, calibration=pd.read_csv(root / plot("calibration")))


def best_trial(trials: pd.DataFrame, phase: str, algorithm: str) -> pd.Series:
    """The completed trial of lowest cost in one phase of the search for one algorithm."""
    done = trials[(trials["phase"] == phase) & (trials["algorithm"] == algorithm) & (trials["state"] == "COMPLETE")]
    if done.empty:
        raise ValueError(f"reports/tables/tune_trials.csv has no completed {phase} trial of {algorithm}")
    return done.sort_values("value").iloc[0]


def column_label(name: str, labels: dict) -> str:
    """The French label of a feature or raw application column (the note never prints a raw column name)."""
    if name in labels:
        return labels[name].label
    if name in APPLICATION_CATEGORIES:
        return APPLICATION_CATEGORIES[name]
    if name in PROTECTED_NAMES:
        return PROTECTED_NAMES[name].removeprefix("le ").capitalize()
    if name in BINARY_LABELS:
        return BINARY_LABELS[name][0]
    raise KeyError(f"no French label for {name}: add it to credit_scoring/features/labels_fr.json")
