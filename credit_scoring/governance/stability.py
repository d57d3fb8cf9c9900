"""How far a current population has moved from a reference one: PSI, evidently reports and their summary.

The drift stage (application_train against application_test) and the production monitor (training data against
recent prediction events) both use these functions, so the pipeline and production speak of drift with the same
measures and the same thresholds.

Two measures are kept side by side. Evidently's per-column test gives the report a reader opens: its defaults
above 1,000 rows, a normed Wasserstein distance for numbers and a Jensen-Shannon distance for categories, with
the numbers' threshold raised from 0.1 to 0.15 for a measured reason given in params.yaml. Our own PSI, binned on
the reference's deciles with missing values as a bin of their own, is the credit-risk industry's stability index
and stays steady down to a few thousand rows (evidently's "psi" bins numbers into equal-width bins over both
samples, which puts the skewed building columns above AMT_CREDIT). The settings (`drift.stattest`,
`drift.stattest_threshold`, `drift.psi_threshold`) are explained in params.yaml.

What is watched is what the model uses: the champion's top features by mean |SHAP| (`watched_features`, from the
explain stage's ranking), engineered history aggregates included, and the score itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from credit_scoring.dataset.schema import SENTINEL_COLUMNS, SENTINEL_DAYS


def _let_evidently_import_under_pandas_3() -> None:
    """evidently 0.7.23, its latest release, imports ``infer_dtype_from_object`` from pandas' internals, which
    pandas 3 removed; only evidently's legacy column-type test calls it, and we never run that test. Giving the
    name back (the dtype's scalar type, what the old helper returned) lets evidently import."""
    from pandas.core.dtypes import common

    if not hasattr(common, "infer_dtype_from_object"):
        common.infer_dtype_from_object = lambda dtype: pd.api.types.pandas_dtype(dtype).type


_let_evidently_import_under_pandas_3()

from evidently import DataDefinition, Dataset, Report
from evidently.core.report import Snapshot
from evidently.legacy.calculations.stattests.registry import get_registered_stattest
from evidently.legacy.core import ColumnType
from evidently.presets import DataDriftPreset

# Our column kinds and evidently's names for them.
KINDS = {"numerical": ColumnType.Numerical, "categorical": ColumnType.Categorical}


@dataclass(frozen=True)
class DriftSettings:
    """How drift is measured and when a column counts as drifted, read from the `drift` section of params.yaml."""

    stattest: dict[str, str]  # evidently's test per column kind ("numerical", "categorical")
    stattest_threshold: dict[str, float]
    psi_bins: int
    psi_threshold: float
    sample_size: int
    watched_features: int  # how many of the champion's top features by mean |SHAP| are watched

    @classmethod
    def from_params(cls, params: dict) -> DriftSettings:
        section = params["drift"]
        settings = cls(
            stattest=dict(section["stattest"]),
            stattest_threshold={k: float(v) for k, v in section["stattest_threshold"].items()},
            psi_bins=int(section["psi_bins"]),
            psi_threshold=float(section["psi_threshold"]),
            sample_size=int(section["sample_size"]),
            watched_features=section["watched_features"],
        )
        if isinstance(settings.watched_features, bool) or not isinstance(settings.watched_features, int) or (
            settings.watched_features < 1
        ):
            raise ValueError(f"params.yaml drift.watched_features must be a positive integer (a count of the "
                             f"champion's top features), got {settings.watched_features!r}")
        for kind, column_type in KINDS.items():  # fail on a misspelt test now, not after a minute of report
            get_registered_stattest(settings.stattest[kind], column_type)
        return settings

    def test_name(self, kind: str) -> str:
        """Evidently's display name of the test used on columns of this kind."""
        return get_registered_stattest(self.stattest[kind], KINDS[kind]).display_name


def watched_features(global_importance: list[dict], count: int) -> list[str]:
    """The features drift is watched on: the champion's ``count`` first features by mean |SHAP|, as the explain
    stage ranks them (``global_importance`` of models/explain/explain.json, best first). Both the drift stage and
    the production monitor call it, so they watch the features the model actually leans on."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"the number of watched features must be a positive integer, got {count!r}")
    names = [entry.get("feature") if isinstance(entry, dict) else None for entry in global_importance]
    if any(not isinstance(name, str) or not name for name in names):
        raise ValueError("global_importance must be a list of {'feature': name, ...} entries (explain.json)")
    if len(set(names)) != len(names):
        raise ValueError("global_importance names a feature twice: rerun the explain stage")
    if count > len(names):
        raise ValueError(f"{count} watched features asked for, the explain stage ranks only {len(names)}: lower "
                         "drift.watched_features or raise explain.top_features in params.yaml")
    return names[:count]


def without_sentinels(frame: pd.DataFrame) -> pd.DataFrame:
    """DAYS_EMPLOYED = 365243 marks pensioners, not a date a thousand years ahead: compared as a number it would
    dominate every distance, so it becomes missing (and the missing bin of the PSI carries the pensioners)."""
    columns = [c for c in SENTINEL_COLUMNS["application_train"] if c in frame.columns]
    return frame.assign(**{c: frame[c].astype("float64").mask(frame[c] == SENTINEL_DAYS) for c in columns})


def column_kind(series: pd.Series) -> str:
    """Numbers (0/1 flags included) are numerical; text categories are categorical."""
    return "numerical" if pd.api.types.is_numeric_dtype(series) else "categorical"


def bin_shares(reference: pd.Series, current: pd.Series, bins: int = 10) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Shares of the reference and of the current sample in the same bins, and the bins' labels.

    Numbers fall into the reference's quantile bins (deciles by default); repeated quantiles are merged, so a
    column where one value holds most rows (no request to the credit bureau this month) gets a few wide bins
    instead of empty ones. Categories each get a bin. Missing values are a bin of their own: a change in the
    share of missing values is a change the model sees.
    """
    if column_kind(reference) == "numerical":
        ref = reference.to_numpy(dtype="float64", na_value=np.nan)
        cur = current.to_numpy(dtype="float64", na_value=np.nan)
        present = ref[~np.isnan(ref)]
        levels = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(present, levels, method="inverted_cdf")) if len(present) else np.array([])

        def counts(values: np.ndarray) -> np.ndarray:
            missing = np.isnan(values)
            inside = np.bincount(np.searchsorted(edges, values[~missing], side="left"), minlength=len(edges) + 1)
            return np.append(inside, missing.sum())

        labels = [f"<= {e:g}" for e in edges] + [f"> {edges[-1]:g}" if len(edges) else "all values", "missing"]
        ref_counts, cur_counts = counts(ref), counts(cur)
    else:
        categories = sorted(set(reference.dropna()) | set(current.dropna()))

        def counts(values: pd.Series) -> np.ndarray:
            return np.append(values.value_counts().reindex(categories, fill_value=0).to_numpy(), values.isna().sum())

        labels = [*categories, "missing"]
        ref_counts, cur_counts = counts(reference), counts(current)
    if not len(reference) or not len(current):
        raise ValueError("PSI needs rows on both sides")
    return ref_counts / len(reference), cur_counts / len(current), labels


def psi(reference: pd.Series, current: pd.Series, bins: int = 10, floor: float = 1e-3) -> float:
    """Population stability index, sum over bins of (current - reference) * ln(current / reference).

    Shares are floored at `floor` (0.1 %) so that a value present on one side only counts by its mass instead of
    by log(0): FLAG_DOCUMENT_16 is ticked by 1 % of train clients and by none of the test clients, a fact worth
    0.02, not infinity.
    """
    ref, cur, _ = bin_shares(reference, current, bins)
    ref, cur = np.maximum(ref, floor), np.maximum(cur, floor)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """At most n rows, drawn without replacement from a seeded generator: evidently's time grows with the rows
    (at the full Kaggle volume, 20k rows per side take 35 s where 50k take 85 s), while 20k rows already hold a
    distance's sampling noise far below its threshold."""
    return frame if len(frame) <= n else frame.sample(n=n, random_state=seed)


def evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    settings: DriftSettings,
    drift_share: float = 0.5,
) -> Snapshot:
    """Evidently's DataDriftPreset over the given columns, with our tests and thresholds per column kind and the
    per-column test results kept (they carry evidently's drifted flag whatever the test's direction)."""
    kinds = {c: column_kind(reference[c]) for c in columns}
    definition = DataDefinition(
        numerical_columns=[c for c in columns if kinds[c] == "numerical"],
        categorical_columns=[c for c in columns if kinds[c] == "categorical"],
    )
    preset = DataDriftPreset(
        columns=columns,
        drift_share=drift_share,
        num_method=settings.stattest["numerical"],
        cat_method=settings.stattest["categorical"],
        num_threshold=settings.stattest_threshold["numerical"],
        cat_threshold=settings.stattest_threshold["categorical"],
    )
    report = Report([preset], include_tests=True)
    return report.run(
        Dataset.from_pandas(current[columns], data_definition=definition),
        Dataset.from_pandas(reference[columns], data_definition=definition),
    )


def evidently_results(snapshot: Snapshot, settings: DriftSettings, kinds: dict[str, str]) -> pd.DataFrame:
    """One row per column: evidently's test, score (a distance, or a p-value for statistical tests), threshold
    and drifted flag, read from the snapshot's metrics and tests."""
    content = snapshot.dict()
    drifted = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in content["tests"] if t["id"] == "drift"}
    rows = [
        {
            "feature": m["config"]["column"],
            "evidently_test": settings.test_name(kinds[m["config"]["column"]]),
            "evidently_score": float(m["value"]),
            "evidently_threshold": float(m["config"]["threshold"]),
            "drifted": drifted[m["id"]],
        }
        for m in content["metrics"]
        if m["config"]["type"] == "evidently:metric_v2:ValueDrift"
    ]
    columns = ["feature", "evidently_test", "evidently_score", "evidently_threshold", "drifted"]
    return pd.DataFrame(rows, columns=columns)


def comparable_columns(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str]) -> list[str]:
    """Columns with at least one value on each side: evidently cannot compare an empty column."""
    return [c for c in columns if reference[c].notna().any() and current[c].notna().any()]


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    settings: DriftSettings,
    seed: int,
    drift_share: float = 0.5,
) -> tuple[pd.DataFrame, Snapshot]:
    """Per-column drift table (our PSI on every row, evidently on a seeded sample of each side) and evidently's
    snapshot for the HTML report. Columns empty on one side keep their PSI and have no evidently result."""
    kinds = {c: column_kind(reference[c]) for c in columns}
    table = pd.DataFrame(
        {
            "feature": columns,
            "kind": [kinds[c] for c in columns],
            "psi": [psi(reference[c], current[c], settings.psi_bins) for c in columns],
        }
    )
    table["psi_drifted"] = table["psi"] > settings.psi_threshold
    snapshot = evidently_report(
        sample(reference, settings.sample_size, seed),
        sample(current, settings.sample_size, seed),
        comparable_columns(reference, current, columns),
        settings,
        drift_share,
    )
    table = table.merge(evidently_results(snapshot, settings, kinds), on="feature", how="left")
    return table.astype({"drifted": "boolean"}), snapshot


def scope_summary(table: pd.DataFrame) -> dict:
    """How many columns evidently and our PSI flag, and their shares, within one scope of columns."""
    n = len(table)
    drifted = int(table["drifted"].fillna(False).sum())
    psi_drifted = int(table["psi_drifted"].sum())
    return {
        "columns": n,
        "drifted_columns": drifted,
        "drifted_share": drifted / n if n else 0.0,
        "psi_drifted_columns": psi_drifted,
        "psi_drifted_share": psi_drifted / n if n else 0.0,
    }


def feature_records(table: pd.DataFrame) -> dict[str, dict]:
    """The per-feature part of the summary, JSON-ready (a column evidently could not compare has nulls)."""
    plain = table.astype(object).where(table.notna(), None)
    return {row.pop("feature"): row for row in plain.to_dict("records")}
