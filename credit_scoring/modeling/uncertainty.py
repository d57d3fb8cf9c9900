"""How sure the holdout figures are, and how the decision moves with the cost ratio (the threshold and
explain_report stages).

- `bootstrap`: the one resampling helper, 95 % percentile intervals of any vectorised statistic of the holdout
  clients resampled with replacement (scipy's paired bootstrap, seeded): the spread a different holdout of the
  same size would give. Several models' predictions resampled together (the same clients in every resample)
  give intervals of their differences, narrower than the two intervals side by side suggest, since both models
  meet the same hard and easy clients.
- `compare_models`: every model's holdout AUC and cost per client, each at its own threshold held fixed, and
  the first model minus each other one, from the same resamples.
- `fold_spread`: per fold of the shared cross-validation folds, a model's out-of-fold cost per client at its one
  global threshold, and its AUC: how much the out-of-fold figure moves from one quarter of the clients to another.
- `brier_prior`: the Brier score of predicting the training default rate for everyone, the reference a
  calibrated model's Brier score is read against.
- `cost_ratio_sensitivity`: for other FN:FP ratios, the threshold the same rule would choose on the out-of-fold
  predictions, and what it gives on the holdout (refusal rate, recall, cost per client in units of one refused
  good client): the business trade-off behind the chosen ratio.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import brier_score_loss, roc_auc_score

from credit_scoring.modeling.cost import best_threshold, cost_per_client, scores_at

LEVEL = 0.95
BATCH = 100
"""Resamples scipy evaluates at once: bounds memory (a batch of 16,000 clients is a few tens of MB)."""


def bootstrap(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray], n_boot: int, seed: int
              ) -> list[list[float]]:
    """``[low, high]`` of each output of ``statistic(*samples, axis=-1)`` over ``n_boot`` resamples of the rows
    (percentile method, ``LEVEL``). The samples are resampled together (row i of each stays together), so a
    statistic of several models' predictions is paired; the same seed and row count give the same resamples,
    so stages that resample the same holdout agree. ``statistic`` must be vectorised along ``axis`` and return
    one value or a 1-D vector of values per resample."""
    result = stats.bootstrap(tuple(np.asarray(s) for s in samples), statistic, n_resamples=n_boot, paired=True,
                             vectorized=True, confidence_level=LEVEL, method="percentile", batch=BATCH,
                             rng=np.random.default_rng(seed))
    low, high = np.atleast_1d(result.confidence_interval.low), np.atleast_1d(result.confidence_interval.high)
    return [[float(lo), float(hi)] for lo, hi in zip(low, high, strict=True)]


def auc_along(y: np.ndarray, proba: np.ndarray, axis: int = -1) -> np.ndarray:
    """ROC AUC of each row of resampled clients (Mann-Whitney: the defaulters' mean rank, ties averaged),
    sorting each resample once instead of calling roc_auc_score a thousand times."""
    ranks = stats.rankdata(proba, axis=axis)
    positives = y.sum(axis=axis)
    negatives = y.shape[axis] - positives
    return ((ranks * y).sum(axis=axis) - positives * (positives + 1) / 2) / (positives * negatives)


def cost_along(y: np.ndarray, proba: np.ndarray, threshold: float, cost: dict, axis: int = -1) -> np.ndarray:
    """Cost per client at ``threshold`` of each row of resampled clients (refused when ``proba >= threshold``)."""
    refused = proba >= threshold
    return np.where(refused, (1 - y) * cost["fp"], y * cost["fn"]).mean(axis=axis)


def compare_models(y, probas: Sequence, thresholds: Sequence[float], cost: dict, n_boot: int, seed: int) -> dict:
    """Paired intervals on the holdout ``y``: ``auc`` and ``cost`` (one ``[low, high]`` per model, each at its own
    threshold), and ``auc_difference`` and ``cost_difference`` of the first model minus each other one."""
    y = np.asarray(y).astype(int)
    k = len(probas)

    def statistic(y, *p, axis=-1):
        aucs = [auc_along(y, p[i], axis) for i in range(k)]
        costs = [cost_along(y, p[i], thresholds[i], cost, axis) for i in range(k)]
        return np.stack([*aucs, *costs, *[aucs[0] - a for a in aucs[1:]], *[costs[0] - c for c in costs[1:]]])

    bounds = bootstrap(statistic, [y, *[np.asarray(p, dtype=float) for p in probas]], n_boot, seed)
    return {"auc": bounds[:k], "cost": bounds[k:2 * k], "auc_difference": bounds[2 * k:3 * k - 1],
            "cost_difference": bounds[3 * k - 1:]}


def bootstrap_intervals(y, proba, threshold: float, cost: dict, n_boot: int, seed: int) -> dict:
    """One model's 95 % intervals of the holdout AUC and of the cost per client at ``threshold``."""
    one = compare_models(y, [proba], [threshold], cost, n_boot, seed)
    return {"level": LEVEL, "resamples": n_boot, "holdout_auc": one["auc"][0],
            "holdout_cost_per_client": one["cost"][0]}


def spread(values: Sequence[float]) -> dict:
    """Mean, standard deviation (ddof=1: the folds are a sample of the ways to split), min and max."""
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)), "min": float(values.min()),
            "max": float(values.max())}


def fold_spread(y, proba, folds, threshold: float, cost: dict) -> dict:
    """Per fold of ``folds`` (the shared cross-validation folds), the out-of-fold cost per client at the one
    global ``threshold`` (as the tune stage's fold costs) and the AUC, summarised by `spread`."""
    y, proba = np.asarray(y), np.asarray(proba)
    costs = [cost_per_client(y[valid], proba[valid], threshold, cost["fn"], cost["fp"]) for _, valid in folds]
    return {"cv_cost_per_client": spread(costs),
            "cv_auc": spread([roc_auc_score(y[valid], proba[valid]) for _, valid in folds])}


def brier_prior(y_train, y_holdout) -> float:
    """Holdout Brier score of giving every client the training default rate: a model that knows nothing but
    the rate. A Brier score is only read against this (it falls with the default rate alone)."""
    y_holdout = np.asarray(y_holdout)
    return float(brier_score_loss(y_holdout, np.full(len(y_holdout), np.mean(y_train))))


@dataclass(frozen=True)
class Scored:
    """One model as the threshold stage compares it: its name, its out-of-fold cost-optimal threshold, its
    out-of-fold probabilities (training rows, load_training's order) and its holdout probabilities."""

    name: str
    threshold: float
    oof: np.ndarray
    holdout: np.ndarray


def threshold_intervals(champion: Scored, baseline: Scored, y_train, y_holdout, folds, cost: dict, n_boot: int,
                        seed: int) -> dict:
    """threshold.json's ``intervals``: the champion's holdout intervals, the best baseline scored on the same
    holdout at its own threshold with its intervals, the paired champion - baseline differences, both models'
    spread over the folds, and the Brier score of the prior."""
    boot = compare_models(y_holdout, [champion.holdout, baseline.holdout], [champion.threshold, baseline.threshold],
                          cost, n_boot, seed)
    s = scores_at(y_holdout, baseline.holdout, baseline.threshold, cost["fn"], cost["fp"])
    return {
        "level": LEVEL,
        "resamples": n_boot,
        "holdout_auc": boot["auc"][0],
        "holdout_cost_per_client": boot["cost"][0],
        "baseline": {"model": baseline.name, "threshold": baseline.threshold, "holdout_auc": s.auc,
                     "holdout_cost_per_client": s.cost_per_client, "holdout_auc_interval": boot["auc"][1],
                     "holdout_cost_interval": boot["cost"][1]},
        "champion_minus_baseline": {"holdout_auc": boot["auc_difference"][0],
                                    "holdout_cost_per_client": boot["cost_difference"][0]},
        "fold_spread": {name: fold_spread(y_train, m.oof, folds, m.threshold, cost)
                        for name, m in (("champion", champion), ("baseline", baseline))},
        "brier_prior": brier_prior(y_train, y_holdout),
    }


def interval_metrics(intervals: dict) -> dict[str, float]:
    """``intervals`` (`threshold_intervals`) as flat MLflow metric names."""
    def bounds(name: str, pair) -> dict[str, float]:
        return {f"{name}_ci_low": pair[0], f"{name}_ci_high": pair[1]}

    metrics = {}
    for name in ("holdout_auc", "holdout_cost_per_client"):
        if name in intervals:
            metrics |= bounds(name, intervals[name])
    if "baseline" in intervals:
        b = intervals["baseline"]
        metrics |= {"baseline_threshold": b["threshold"], "baseline_holdout_auc": b["holdout_auc"],
                    "baseline_holdout_cost_per_client": b["holdout_cost_per_client"],
                    **bounds("baseline_holdout_auc", b["holdout_auc_interval"]),
                    **bounds("baseline_holdout_cost_per_client", b["holdout_cost_interval"])}
    if "champion_minus_baseline" in intervals:
        d = intervals["champion_minus_baseline"]
        metrics |= {**bounds("champion_minus_baseline_auc", d["holdout_auc"]),
                    **bounds("champion_minus_baseline_cost", d["holdout_cost_per_client"])}
    for model, measures in intervals.get("fold_spread", {}).items():
        metrics |= {f"fold_{model}_{measure}_{stat}": value for measure, summary in measures.items()
                    for stat, value in summary.items()}
    if "brier_prior" in intervals:
        metrics["brier_prior"] = intervals["brier_prior"]
    return metrics


def cost_ratio_sensitivity(oof: pd.DataFrame, y_holdout, proba, ratios: list[float]) -> pd.DataFrame:
    """One row per FN:FP ratio (FP = 1): the out-of-fold cost-optimal threshold and the holdout's refusal rate,
    recall, precision and cost per client at it."""
    rows = []
    for ratio in ratios:
        threshold, _ = best_threshold(oof["TARGET"], oof["proba"], ratio, 1.0)
        s = scores_at(y_holdout, proba, threshold, ratio, 1.0)
        rows.append({"rapport_fn_fp": ratio, "seuil": threshold, "taux_de_refus": (s.tp + s.fp) / len(proba),
                     "rappel": s.recall, "precision": s.precision, "cout_par_client": s.cost_per_client})
    return pd.DataFrame(rows)
