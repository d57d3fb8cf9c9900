"""Realized performance of the served model: outcomes joined to the decisions, per period of decision, beside
what the holdout leads to expect, with an uncertainty band that narrows as outcomes come in.

Pure functions over data frames; `app.monitor` reads the store and prints the alerts.

- **Figures** of a set of decisions with known outcomes: decisions, defaults, default rate among granted loans,
  AUC, business cost per client at the served decisions (params.yaml `cost`), mean predicted probability.
- **Expectation**: the same figures on the champion's holdout (`models/champion/reference_scores.parquet`, its
  clients' TARGET from application_train) at the period's served threshold, over the same scope: when only granted
  loans have outcomes (the usual case: a refused client has no loan to repay), the holdout is restricted to the
  clients it would grant, since an AUC among granted loans alone is lower than over all clients.
- **Tests**, one-sided, the three of them sharing `monitor.alpha` (Bonferroni: alpha / 3 each, so that a stable
  model raises a performance or calibration alert in at most alpha of the periods judged): the AUC against the
  Hanley-McNeil standard error of the expected AUC with the period's numbers of defaults and repaid loans; the
  cost per client against the holdout's per-client standard deviation over the period's number of outcomes (a
  normal approximation, fine from a few hundred outcomes). Calibration: the observed default rate against the band
  the served probabilities predict (mean probability, standard deviation sqrt(sum p(1-p)) / n, two-sided).
- **Estimate** before outcomes arrive (NannyML's CBPE idea, written here because nannyml would downgrade the
  pinned LightGBM): if the served probabilities are calibrated, a client with probability p is a default with
  weight p and a repaid loan with weight 1 - p, which gives an expected AUC, cost and default rate among granted.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
TESTS = 3  # AUC, cost, calibration: Bonferroni shares monitor.alpha between them
MIN_CLASS = 10  # defaults and repaid loans an AUC needs at least, each


def _auc(target: np.ndarray, probability: np.ndarray) -> float | None:
    if len(np.unique(target)) < 2:
        return None
    return float(roc_auc_score(target, probability))


def client_costs(target: np.ndarray, refused: np.ndarray, cost: dict) -> np.ndarray:
    """Each client's business cost: fn for a granted loan that defaults, fp for a refused client who would have
    repaid, 0 otherwise."""
    return np.where(refused, cost["fp"] * (1 - target), cost["fn"] * target).astype("float64")


def figures(probability, target, refused, cost: dict) -> dict:
    """Realized figures of decisions whose outcome is known (arrays of the same length)."""
    probability = np.asarray(probability, dtype="float64")
    target = np.asarray(target, dtype="int64")
    refused = np.asarray(refused, dtype=bool)
    costs = client_costs(target, refused, cost)
    granted = ~refused
    return {
        "outcomes": len(target),
        "defaults": int(target.sum()),
        "granted": int(granted.sum()),
        "default_rate": float(target.mean()) if len(target) else None,
        "default_rate_granted": float(target[granted].mean()) if granted.any() else None,
        "auc": _auc(target, probability),
        "cost_per_client": float(costs.mean()) if len(costs) else None,
        "cost_sd": float(costs.std()) if len(costs) else None,
        "mean_predicted": float(probability.mean()) if len(probability) else None,
        "predicted_sd": float(np.sqrt(np.sum(probability * (1 - probability)))) / len(probability)
        if len(probability) else None,
    }


def estimate(probability, refused, cost: dict) -> dict:
    """The same figures expected from the served probabilities alone (no outcome needed), assuming they stay
    calibrated: each client counts as a default with weight p and as a repaid loan with weight 1 - p."""
    p = np.asarray(probability, dtype="float64")
    refused = np.asarray(refused, dtype=bool)
    granted = ~refused
    doubled = np.concatenate([p, p])
    labels = np.concatenate([np.ones(len(p)), np.zeros(len(p))])
    weights = np.concatenate([p, 1 - p])
    costs = np.where(refused, cost["fp"] * (1 - p), cost["fn"] * p)
    return {
        "kind": "estimate",
        "decisions": len(p),
        "auc": float(roc_auc_score(labels, doubled, sample_weight=weights)) if len(p) and 0 < p.sum() < len(p)
        else None,
        "cost_per_client": float(costs.mean()) if len(p) else None,
        "default_rate": float(p.mean()) if len(p) else None,
        "default_rate_granted": float(p[granted].mean()) if granted.any() else None,
    }


def hanley_mcneil_se(auc: float, defaults: int, repaid: int) -> float:
    """Standard error of an AUC over `defaults` positives and `repaid` negatives (Hanley & McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (defaults - 1) * (q1 - auc**2) + (repaid - 1) * (q2 - auc**2)) / (defaults * repaid)
    return math.sqrt(max(variance, 0.0))


def holdout_expectation(holdout: pd.DataFrame, threshold: float, cost: dict, granted_only: bool) -> dict:
    """The holdout's figures at a threshold (holdout: columns probability and target), over the clients it grants
    when `granted_only`."""
    refused = holdout["probability"].to_numpy() >= threshold
    frame = holdout[~refused] if granted_only else holdout
    return figures(frame["probability"], frame["target"], refused[~refused] if granted_only else refused, cost)


def compare(realized: dict, expected: dict, alpha: float) -> dict:
    """Realized beside expected, with the bands and one-sided p-values the alerts read. Each of the TESTS tests
    runs at alpha / TESTS (Bonferroni), so that a period of a stable model raises an alert with probability at
    most alpha."""
    alpha = alpha / TESTS
    z_one, z_two = norm.ppf(1 - alpha), norm.ppf(1 - alpha / 2)
    n, defaults = realized["outcomes"], realized["defaults"]
    result: dict = {}
    if realized["auc"] is not None and expected["auc"] is not None and min(defaults, n - defaults) >= MIN_CLASS:
        se = hanley_mcneil_se(expected["auc"], defaults, n - defaults)
        result["auc"] = {"realized": realized["auc"], "expected": expected["auc"], "se": se,
                         "lower_bound": expected["auc"] - z_one * se,
                         "p_value": float(norm.cdf((realized["auc"] - expected["auc"]) / se)) if se else None}
    se = (expected["cost_sd"] or 0.0) / math.sqrt(n)
    result["cost_per_client"] = {"realized": realized["cost_per_client"], "expected": expected["cost_per_client"],
                                 "se": se, "upper_bound": expected["cost_per_client"] + z_one * se,
                                 "p_value": float(norm.sf((realized["cost_per_client"] - expected["cost_per_client"])
                                                          / se)) if se else None}
    if realized["granted"] and expected["default_rate_granted"] is not None:
        rate = expected["default_rate_granted"]
        half = z_two * math.sqrt(rate * (1 - rate) / realized["granted"])
        result["default_rate_granted"] = {"realized": realized["default_rate_granted"], "expected": rate,
                                          "band": [max(rate - half, 0.0), rate + half]}
    half = z_two * realized["predicted_sd"]
    band = [max(realized["mean_predicted"] - half, 0.0), realized["mean_predicted"] + half]
    result["calibration"] = {"observed": realized["default_rate"], "predicted": realized["mean_predicted"],
                             "band": band, "outside": not band[0] <= realized["default_rate"] <= band[1],
                             "holdout_observed": expected["default_rate"],
                             "holdout_predicted": expected["mean_predicted"]}
    for key in ("auc", "cost_per_client"):
        if key in result:
            p_value = result[key]["p_value"]
            result[key]["worse"] = p_value is not None and p_value < alpha
    result["level_per_test"] = alpha
    return result


def join(decisions: pd.DataFrame, outcomes: pd.DataFrame, period: str) -> pd.DataFrame:
    """The decisions with their outcome (target, NaN when unknown) and their period of decision."""
    if period not in PERIODS:
        raise ValueError(f"monitor.period must be one of {', '.join(PERIODS)}, got {period!r}")
    joined = decisions.merge(outcomes[["request_id", "target"]], on="request_id", how="left")
    naive = joined["created_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    return joined.assign(period=naive.dt.to_period(PERIODS[period]).astype(str))


def period_report(rows: pd.DataFrame, holdout: pd.DataFrame | None, cost: dict, alpha: float,
                  min_outcomes: int) -> dict:
    """One period: its decisions, the estimate from the served probabilities, and once at least `min_outcomes`
    outcomes are known, the realized figures beside the holdout's expectation."""
    refused = (rows["decision"] == "refusé").to_numpy()
    known = rows[rows["target"].notna()]
    record = {"decisions": len(rows), "outcomes_known": len(known), "refusal_rate": float(refused.mean()),
              "threshold": float(rows["threshold"].mode().iloc[0]),
              "estimate": estimate(rows["probability"], refused, cost)}
    if len(known) < min_outcomes:
        record["status"] = f"fewer than {min_outcomes} known outcomes: estimate only"
        return record
    known_refused = (known["decision"] == "refusé").to_numpy()
    realized = figures(known["probability"], known["target"].astype("int64"), known_refused, cost)
    record["realized"] = realized
    if holdout is None:
        record["status"] = "realized only: no holdout to compare with"
        return record
    granted_only = not known_refused.any()
    expected = holdout_expectation(holdout, record["threshold"], cost, granted_only)
    if expected["outcomes"] == 0:
        record["status"] = "realized only: the holdout grants no client at this threshold"
        return record
    record.update(status="judged", scope="granted loans" if granted_only else "all decisions", expected=expected,
                  comparison=compare(realized, expected, alpha))
    return record


def realized_performance(decisions: pd.DataFrame, outcomes: pd.DataFrame, holdout: pd.DataFrame | None,
                         cost: dict, alpha: float, min_outcomes: int, period: str) -> dict[str, dict]:
    """period -> its report (see `period_report`), oldest first."""
    joined = join(decisions, outcomes, period)
    return {name: period_report(rows, holdout, cost, alpha, min_outcomes)
            for name, rows in joined.groupby("period", sort=True)}


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def alerts(periods: dict[str, dict], alpha: float) -> list[str]:
    """ALERT lines for the latest judged period: AUC or cost per client significantly worse than expected
    (one-sided at alpha), observed default rate outside the predicted band."""
    judged = [name for name, record in periods.items() if record.get("status") == "judged"]
    if not judged:
        return []
    name = judged[-1]
    record = periods[name]
    comparison, n = record["comparison"], record["realized"]["outcomes"]
    level = comparison["level_per_test"]
    lines = []
    auc = comparison.get("auc")
    if auc and auc["worse"]:
        lines.append(f"ALERT performance: decisions of {name}, realized AUC {auc['realized']:.3f} below the "
                     f"expected {auc['expected']:.3f} (one-sided p = {auc['p_value']:.2g} < {level:.2g}; "
                     f"{n} known outcomes, {record['realized']['defaults']} defaults, {record['scope']})")
    cost = comparison["cost_per_client"]
    if cost["worse"]:
        lines.append(f"ALERT performance: decisions of {name}, cost per client {cost['realized']:.3f} above the "
                     f"expected {cost['expected']:.3f} (one-sided p = {cost['p_value']:.2g} < {level:.2g}; "
                     f"{n} known outcomes, {record['scope']})")
    calibration = comparison["calibration"]
    if calibration["outside"]:
        low, high = calibration["band"]
        lines.append(f"ALERT calibration: decisions of {name}, observed default rate "
                     f"{_percent(calibration['observed'])} outside the band the served probabilities predict "
                     f"[{_percent(low)}, {_percent(high)}] (mean predicted {_percent(calibration['predicted'])}; "
                     f"{n} known outcomes)")
    return lines
