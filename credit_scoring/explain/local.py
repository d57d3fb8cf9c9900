"""Why the served model scores a client as it does: SHAP contributions and reason codes.

Shared by the explain stage (global importance, figures) and the API (one client at a time), so both read
the same numbers. Contributions are exact TreeSHAP values in log-odds: for LightGBM its own
``pred_contrib`` (the same values as shap's TreeExplainer, without building an explainer), for the
HistGradientBoosting pipeline shap's TreeExplainer on the final estimator, the columns dropped by the
pipeline's selector getting 0. Either way a client's contributions plus the base value add up to its raw score,
whose sigmoid is the probability the bundle serves.

Reason codes are given by information family (`credit_scoring.features.families`): the contributions summed per
family (exact), the families that raise the risk most, each one French sentence naming the client's one or two
values that weigh most in it (`credit_scoring.features.labels`), never one fact twice.
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
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from credit_scoring.explain.recourse import RecourseSettings
from credit_scoring.features.families import FAMILIES, families
from credit_scoring.features.history_specs import HISTORY_FLAGS
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
NO_HISTORY_FLAGS = frozenset(HISTORY_FLAGS.values())
RELIEF_CLAUSE = "ce qui allège le risque"


@dataclass(frozen=True)
class Reason:
    """One information family that raises (or, from `reason_codes(..., raising=False)`, lowers) a client's risk,
    and the sentence that says it.

    `contribution` is the family's summed contribution (log-odds: SHAP values add up, so a family's is exact).
    `features` are the one or two features the sentence names, those that weigh most in the family in this
    direction, with the client's values; `feature` is the first. A client without any row in a history table has
    all of that table's aggregates missing: the sentence then says "no history there", carried by the table's
    has-history flag.
    """

    family: str
    family_label: str
    feature: str
    features: tuple[str, ...]
    label: str
    value: float | None
    contribution: float
    text: str


def family_contributions(explanation: LocalExplanation, family_map: Mapping[str, str]) -> pd.Series:
    """The client's contributions summed by information family (exact: with the base value they add up to the
    raw score), largest in absolute value first."""
    keys = pd.Series([family_map[f] for f in explanation.contributions.index], index=explanation.contributions.index)
    sums = explanation.contributions.groupby(keys, sort=False).sum()
    return sums.reindex(sums.abs().sort_values(ascending=False, kind="stable").index)


def _reason_key(feature: str, values: Mapping[str, float], labels: Mapping[str, FeatureLabel]) -> str:
    """The feature itself, or the has-history flag of its table when the client has no row in that table."""
    flag = labels[feature].history_flag
    if flag is not None and values.get(flag) == 0 and math.isnan(values[feature]):
        return flag
    return feature


def _says_missing(key: str, feature: str, values: Mapping[str, float]) -> bool:
    """Whether naming this feature would tell a missing value, or no history at all (a has-history flag at 0)."""
    value = values.get(key)
    return key != feature or value is None or math.isnan(value) or (key in NO_HISTORY_FLAGS and value == 0)


def _named(members: list[str], values: Mapping[str, float], labels: Mapping[str, FeatureLabel], raising: bool,
           most: int = 2) -> list[tuple[str, str]]:
    """The (key, statement) pairs a family's reason names: its members that weigh most, at most `most`, never
    the same statement or the same value twice; a reason that lowers the risk never rests on a missing value."""
    named: list[tuple[str, str]] = []
    said: set[str] = set()
    for feature in members:
        key = _reason_key(feature, values, labels)
        if not raising and _says_missing(key, feature, values):
            continue
        label = labels[key]
        value_text = "" if label.unit == "flag" else label.value_text(values.get(key, math.nan))
        statement = label.statement(values)
        if statement in {s for _, s in named} or (value_text and value_text in said):
            continue
        named.append((key, statement))
        said.add(value_text)
        if len(named) == most:
            break
    return named


def _members(explanation: LocalExplanation, family_map: Mapping[str, str], sign: float) -> dict[str, list[str]]:
    """Family -> its features that push the score in the direction of `sign`, the strongest first."""
    signed = (sign * explanation.contributions).to_dict()  # plain dicts: one client, no vector work
    members: dict[str, list[str]] = {}
    for feature in sorted((f for f in signed if signed[f] > 0), key=lambda f: -signed[f]):
        members.setdefault(family_map[feature], []).append(feature)
    return members


def family_statements(explanation: LocalExplanation, labels: Mapping[str, FeatureLabel],
                      family_map: Mapping[str, str], family: str, most: int = 2) -> list[str]:
    """What a family's reason says of the client (the statements `reason_codes` names), in the direction of the
    family's summed contribution."""
    raising = family_contributions(explanation, family_map)[family] > 0
    members = _members(explanation, family_map, 1.0 if raising else -1.0).get(family, [])
    return [s for _, s in _named(members, explanation.values.to_dict(), labels, raising, most)]


def reason_codes(explanation: LocalExplanation, labels: Mapping[str, FeatureLabel], family_map: Mapping[str, str],
                 max_reasons: int = 4, min_contribution: float = 0.0, raising: bool = True,
                 sums: pd.Series | None = None) -> list[Reason]:
    """Up to `max_reasons` information families that push this client's risk up the most, largest first (with
    `raising=False`: those that pull it down the most, their contributions negative), one reason each.

    A family counts when its summed contribution exceeds `min_contribution` (log-odds) in this direction: a
    factor that barely moves the score is no reason to give a client. Each reason names the family and the one or
    two features that weigh most in it in this direction, with the client's values (`FeatureLabel.statement`).
    `sums`: the client's `family_contributions`, when the caller has them already.
    """
    sign = 1.0 if raising else -1.0
    values = explanation.values.to_dict()  # plain dicts: one client, no vector work
    sums = family_contributions(explanation, family_map) if sums is None else sums
    members = _members(explanation, family_map, sign)
    reasons = []
    for family in (f for f in sums.index if sign * sums[f] > min_contribution and f in members):
        named = _named(members[family], values, labels, raising)
        if not named:
            continue  # only missing values lower the risk here: no good news to tell
        key = named[0][0]
        label, value = labels[key], values.get(key)
        reasons.append(Reason(
            family=family, family_label=FAMILIES[family], feature=key, features=tuple(k for k, _ in named),
            label=label.label if label.unit != "flag" or (value or 0) >= 0.5 else label.negation,
            value=None if value is None or math.isnan(value) else float(value),
            contribution=float(sums[family]),
            text=f"{FAMILIES[family]} — {' ; '.join(s for _, s in named)}, "
                 f"{RISK_CLAUSE if raising else RELIEF_CLAUSE}.",
        ))
        if len(reasons) == max_reasons:
            break
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

    @cached_property
    def family_map(self) -> dict[str, str]:
        """Feature -> information family (`credit_scoring.features.families`), for the labelled features."""
        return families(list(self.labels))

    def reasons(self, explanation: LocalExplanation, raising: bool = True,
                sums: pd.Series | None = None) -> list[Reason]:
        return reason_codes(explanation, self.labels, self.family_map, self.max_reasons, self.min_contribution,
                            raising, sums)

    def families(self, explanation: LocalExplanation) -> pd.Series:
        return family_contributions(explanation, self.family_map)


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
