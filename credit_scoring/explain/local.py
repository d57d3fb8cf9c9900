"""Why the served model scores a client as it does: SHAP contributions and reason codes.

Shared by the explain stage (global importance, figures) and the API (one client at a time), so both read
the same numbers. Contributions are exact TreeSHAP values in log-odds: for LightGBM its own
``pred_contrib`` (the same values as shap's TreeExplainer, without building an explainer), for the
HistGradientBoosting pipeline shap's TreeExplainer on the final estimator, the columns dropped by the
pipeline's selector getting 0. Either way a client's contributions plus the base value add up to its raw score,
whose sigmoid is the probability the bundle serves.

Reason codes turn the largest positive contributions into short French sentences (`credit_scoring.features.labels`).
The explain stage exports what they need beside the champion, in ``models/explain/``; the API loads it with
`load_explain_config` and calls `local_explanations` then `ExplainConfig.reasons`.
"""

from __future__ import annotations

import json
import math
import shutil
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from credit_scoring.explain.recourse import RecourseSettings
from credit_scoring.features.labels import FeatureLabel, labels_from_dict
from credit_scoring.modeling.bundle import Bundle

EXPLAIN_DIR = Path("models/explain")
CONFIG_FILE = "explain.json"
LABELS_FILE = "labels.json"


class TreeContributions:
    """Exact per-feature contributions (log-odds) of a fitted tree model, in the order of `features`.

    Built once per model and reused: creating shap's explainer or looking up the booster per call would cost
    more than the explanation itself.
    """

    def __init__(self, model, features: list[str]):
        import lightgbm as lgb
        from sklearn.pipeline import Pipeline

        self.n_features = len(features)
        if isinstance(model, lgb.LGBMClassifier):
            self._booster = model.booster_
            self._kept = None
        elif isinstance(model, Pipeline):
            import shap

            # The steps before the estimator only select columns (VarianceThreshold): the estimator sees the
            # kept ones, in order; the others cannot contribute.
            kept_names = model[:-1].get_feature_names_out(np.asarray(features, dtype=object))
            position = {name: i for i, name in enumerate(features)}
            self._kept = np.array([position[name] for name in kept_names], dtype=int)
            self._explainer = shap.TreeExplainer(model[-1])
            self._base = float(np.ravel(self._explainer.expected_value)[0])
        else:
            raise TypeError(f"no exact contributions for a {type(model).__name__}: expected LightGBM or a Pipeline")

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(contributions, one row per client and one column per feature; base value of each client)."""
        X = np.asarray(X, dtype="float32")
        if self._kept is None:
            # One row: one thread (waking a pool costs more than the few microseconds of work).
            out = self._booster.predict(X, pred_contrib=True, num_threads=1 if len(X) == 1 else 0)
            return out[:, :-1], out[:, -1]
        contributions = np.zeros((len(X), self.n_features))
        contributions[:, self._kept] = self._explainer.shap_values(X[:, self._kept], check_additivity=False)
        return contributions, np.full(len(X), self._base)


_CONTRIBUTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tree_contributions(bundle: Bundle) -> TreeContributions:
    """The contributions of the bundle's model, built on first use and kept as long as the model lives."""
    found = _CONTRIBUTIONS.get(bundle.model)
    if found is None:
        found = _CONTRIBUTIONS[bundle.model] = TreeContributions(bundle.model, bundle.features)
    return found


def _matrix(bundle: Bundle, features: pd.DataFrame | pd.Series | Mapping) -> np.ndarray:
    """Feature rows as float32 in the model's order (as `Bundle.probability` serves them)."""
    if isinstance(features, pd.DataFrame):
        missing = [c for c in bundle.features if c not in features.columns]
        if missing:
            raise ValueError(f"{len(missing)} feature(s) missing, e.g. {missing[:5]}")
        return features[bundle.features].to_numpy(dtype="float32")
    missing = [c for c in bundle.features if c not in features]
    if missing:
        raise ValueError(f"{len(missing)} feature(s) missing, e.g. {missing[:5]}")
    row = np.array([np.nan if features[c] is None else features[c] for c in bundle.features], dtype="float32")
    return row[None, :]


def explain_frame(bundle: Bundle, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Contributions of many clients (columns = the bundle's features, index = the rows'), and base values."""
    contributions, base = tree_contributions(bundle)(_matrix(bundle, features))
    return pd.DataFrame(contributions, index=features.index, columns=bundle.features), base


@dataclass(frozen=True)
class LocalExplanation:
    """One client's explanation: feature values as scored, contributions (log-odds), base value, raw score."""

    values: pd.Series
    contributions: pd.Series
    base_value: float
    raw_score: float

    @property
    def probability(self) -> float:
        """The probability of default: the sigmoid of the raw score."""
        return 1.0 / (1.0 + math.exp(-self.raw_score))


def local_explanations(bundle: Bundle, matrix: np.ndarray) -> list[LocalExplanation]:
    """The explanations of feature rows already in the model's order, as float32 (one pass of the trees for all).

    Each raw score is the sum of the contributions and the base value, so it is exactly what the model adds
    up; its sigmoid equals `bundle.probability` of the same row (up to float rounding).
    """
    contributions, base = tree_contributions(bundle)(matrix)
    names = pd.Index(bundle.features, dtype=object)  # plain strings: Arrow-backed ones are slow to iterate
    return [LocalExplanation(
        values=pd.Series(matrix[i].astype("float64"), index=names),
        contributions=pd.Series(contributions[i], index=names),
        base_value=float(base[i]),
        raw_score=float(contributions[i].sum() + base[i]),
    ) for i in range(len(matrix))]


def local_explanation(bundle: Bundle, features_row: pd.DataFrame | pd.Series | Mapping) -> LocalExplanation:
    """The explanation of one client, from its feature vector (a one-row frame, a Series or a mapping)."""
    if isinstance(features_row, pd.DataFrame) and len(features_row) != 1:
        raise ValueError(f"local_explanation takes one client, got {len(features_row)} rows")
    return local_explanations(bundle, _matrix(bundle, features_row))[0]


# ---------------------------------------------------------------------------------------------------------
# Reason codes.
# ---------------------------------------------------------------------------------------------------------
RISK_CLAUSE = "ce qui pèse sur le risque"
RELIEF_CLAUSE = "ce qui allège le risque"


@dataclass(frozen=True)
class Reason:
    """One factor that raises (or, from `reason_codes(..., raising=False)`, lowers) a client's risk, and the sentence
    that says it.

    A client without any row in a history table has all of that table's aggregates missing; those that raise
    the risk make one reason, "no history there", carried by the table's has-history flag: `features` lists
    them, `feature` is the largest, `contribution` is their sum.
    """

    feature: str
    features: tuple[str, ...]
    label: str
    value: float | None
    contribution: float
    text: str


def _reason_key(feature: str, values: Mapping[str, float], labels: Mapping[str, FeatureLabel]) -> str:
    """The feature itself, or the has-history flag of its table when the client has no row in that table."""
    flag = labels[feature].history_flag
    if flag is not None and values.get(flag) == 0 and math.isnan(values[feature]):
        return flag
    return feature


def reason_codes(explanation: LocalExplanation, labels: Mapping[str, FeatureLabel], max_reasons: int = 4,
                 min_contribution: float = 0.0, raising: bool = True) -> list[Reason]:
    """Up to `max_reasons` factors that push this client's risk up the most, largest first (with
    `raising=False`: those that pull it down the most, their contributions negative).

    Only contributions above `min_contribution` (log-odds, in absolute value) count: a factor that barely moves
    the score is no reason to give a client. Sentences read the client's own values (`FeatureLabel.statement`).
    """
    values = explanation.values
    sign = 1.0 if raising else -1.0
    signed = sign * explanation.contributions
    up = signed[signed > min_contribution]
    up = up.sort_values(ascending=False, kind="stable").to_dict()  # plain dicts: one client, no vector work
    plain_values = values.to_dict()
    groups: dict[str, list[str]] = {}
    for feature in up:
        groups.setdefault(_reason_key(feature, plain_values, labels), []).append(feature)
    totals = {key: sum(up[m] for m in members) for key, members in groups.items()}
    reasons = []
    for key in sorted(groups, key=lambda k: -totals[k])[:max_reasons]:  # stable: ties keep the larger first
        label = labels[key]
        value = values[key]
        reasons.append(Reason(
            feature=groups[key][0],
            features=tuple(groups[key]),
            label=label.label if label.unit != "flag" or value >= 0.5 else label.negation,
            value=None if pd.isna(value) else float(value),
            contribution=sign * totals[key],
            text=f"{label.statement(values)}, {RISK_CLAUSE if raising else RELIEF_CLAUSE}.",
        ))
    return reasons


@dataclass(frozen=True)
class ExplainConfig:
    """What the API needs beside the champion to give reasons: labels of the model's features, the reason
    settings, and, for display, the base value and the global importance of the features."""

    model_version: str
    model_run_id: str | None  # the MLflow run of the champion: versions restart if the registry is reset
    max_reasons: int
    min_contribution: float
    expected_value: float
    global_importance: list[dict]
    labels: dict[str, FeatureLabel]
    recourse: RecourseSettings

    def reasons(self, explanation: LocalExplanation, raising: bool = True) -> list[Reason]:
        return reason_codes(explanation, self.labels, self.max_reasons, self.min_contribution, raising)


def write_explain_config(config: ExplainConfig, directory: str | Path = EXPLAIN_DIR) -> None:
    """Both files written to a temporary folder then swapped into place, so a reader never pairs the labels of
    one run with the settings of another."""
    directory = Path(directory)
    tmp = directory.with_name(f".{directory.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    settings = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ("labels", "recourse")}
    settings["recourse"] = asdict(config.recourse)
    (tmp / CONFIG_FILE).write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    labels = {name: label.as_dict() for name, label in config.labels.items()}
    (tmp / LABELS_FILE).write_text(json.dumps(labels, indent=2, ensure_ascii=False) + "\n")
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)


def load_explain_config(directory: str | Path = EXPLAIN_DIR, bundle: Bundle | None = None) -> ExplainConfig:
    """The exported config; given the bundle, refuses one written for another model or missing a label."""
    directory = Path(directory)
    settings = json.loads((directory / CONFIG_FILE).read_text())
    labels = labels_from_dict(json.loads((directory / LABELS_FILE).read_text()))
    config = ExplainConfig(labels=labels, **{**settings, "recourse": RecourseSettings(**settings["recourse"])})
    if bundle is not None:
        explained = (config.model_version, config.model_run_id)
        served = (bundle.model_version, bundle.info.get("mlflow_run_id"))
        if explained != served:
            raise ValueError(f"{directory} explains model version {explained[0]} (run {explained[1]}), the bundle "
                             f"serves {served[0]} (run {served[1]}): rerun the explain stage")
        unlabelled = [f for f in bundle.features if f not in labels]
        if unlabelled:
            raise ValueError(f"{directory} has no label for {len(unlabelled)} feature(s), e.g. {unlabelled[:5]}")
    return config
