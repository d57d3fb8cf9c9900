"""Drift between a reference population and a current one: PSI, evidently reports, a summary and its French wording.

The drift stage (application_train against application_test) and the production monitor (training data against
recent prediction events) both use these functions, so the pipeline and production speak of drift with the same
measures and the same thresholds.

Two measures are kept side by side. Evidently's per-column test gives the report a reader opens; our own PSI,
binned on the reference's deciles with missing values as a bin of their own, is the credit-risk industry's
stability index and stays steady down to a few thousand rows. Evidently's defaults do not suit this data: with ~50k
against ~9k rows a Kolmogorov-Smirnov p-value flags every column that moved by a hair, and evidently's "psi" bins
numbers into equal-width bins over both samples and fills empty bins with a millionth of a share, so the skewed
building columns (COMMONAREA_MODE, YEARS_BUILD_AVG) come out above AMT_CREDIT. The settings chosen in params.yaml
(`drift.stattest`, `drift.stattest_threshold`, `drift.psi_threshold`) are explained there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from credit_scoring.schema import SENTINEL_COLUMNS, SENTINEL_DAYS


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

PSI_STRONG = 0.25  # the usual reading of a PSI: above 0.25 the population has changed
PSI_MODERATE = 0.10  # between 0.10 and 0.25 it has moved; below 0.10 the shift is slight

# French names of evidently's usual tests, for the conclusion; other tests keep evidently's own name.
TESTS_FR = {
    "wasserstein": "distance de Wasserstein normalisée",
    "psi": "PSI",
    "jensenshannon": "distance de Jensen-Shannon",
    "ks": "test de Kolmogorov-Smirnov",
    "chisquare": "test du khi-deux",
}


@dataclass(frozen=True)
class DriftSettings:
    """How drift is measured and when a column counts as drifted, read from the `drift` section of params.yaml."""

    stattest: dict[str, str]  # evidently's test per column kind ("numerical", "categorical")
    stattest_threshold: dict[str, float]
    psi_bins: int
    psi_threshold: float
    sample_size: int
    top_features: tuple[str, ...]

    @classmethod
    def from_params(cls, params: dict) -> DriftSettings:
        section = params["drift"]
        settings = cls(
            stattest=dict(section["stattest"]),
            stattest_threshold={k: float(v) for k, v in section["stattest_threshold"].items()},
            psi_bins=int(section["psi_bins"]),
            psi_threshold=float(section["psi_threshold"]),
            sample_size=int(section["sample_size"]),
            top_features=tuple(section["top_features"]),
        )
        for kind, column_type in KINDS.items():  # fail on a misspelt test now, not after a minute of report
            get_registered_stattest(settings.stattest[kind], column_type)
        return settings

    def test_name(self, kind: str) -> str:
        """Evidently's display name of the test used on columns of this kind."""
        return get_registered_stattest(self.stattest[kind], KINDS[kind]).display_name


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


def french_number(x: float, decimals: int = 2) -> str:
    """A number as a French text prints it: decimal comma, no-break space between thousands."""
    return f"{x:,.{decimals}f}".replace(",", "\u00a0").replace(".", ",")


def french_share(x: float) -> str:
    return f"{french_number(100 * x, 1)}\u00a0%"


def french_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def verb_for(count: int) -> str:
    return "dérive" if count == 1 else "dérivent"


def strength(value: float) -> str:
    """The usual reading of a PSI value."""
    if value > PSI_STRONG:
        return "forte"
    if value > PSI_MODERATE:
        return "modérée"
    return "légère"


def main_category_move(reference: pd.Series, current: pd.Series, floor: float = 1e-3) -> tuple[str, float, float]:
    """The category that weighs most in the PSI, with its share in the reference and in the current sample: for
    NAME_CONTRACT_TYPE that is the revolving loans falling from 10 % to 1 %, not the cash loans rising by as much."""
    ref, cur, labels = bin_shares(reference, current)
    weight = (np.maximum(cur, floor) - np.maximum(ref, floor)) * np.log(np.maximum(cur, floor) / np.maximum(ref, floor))
    i = int(np.argmax(weight))
    return ("valeur manquante" if labels[i] == "missing" else labels[i]), float(ref[i]), float(cur[i])


def rule_fr(settings: DriftSettings, kind: str) -> str:
    """The drift rule for one column kind, in French (a p-value test flags below its threshold, a distance above)."""
    name = settings.stattest[kind]
    test = TESTS_FR.get(name, settings.test_name(kind))
    threshold = f"{settings.stattest_threshold[kind]:g}".replace(".", ",")
    if "p_value" in settings.test_name(kind):
        return f"{test}, p\u00a0<\u00a0{threshold}"
    return f"{test} ≥\u00a0{threshold}"


def conclusion_fr(
    table: pd.DataFrame,
    top_features: list[str],
    reference: pd.DataFrame,
    current: pd.DataFrame,
    settings: DriftSettings,
    names: tuple[str, str] = ("application_train", "application_test"),
) -> str:
    """The paragraph the methodological note quotes: how many columns drift, which ones and how strongly (by PSI),
    what moved in the categorical ones, and what it means for a model trained on the reference."""
    n = len(table)
    flagged = table[table["drifted"].fillna(False)].sort_values("psi", ascending=False)
    rules = f"{rule_fr(settings, 'numerical')} pour les variables numériques, " + (
        f"{rule_fr(settings, 'categorical')} pour les catégorielles"
    )
    between = f"entre {names[0]} (référence) et {names[1]} selon evidently ({rules})"
    if flagged.empty:
        parts = [f"Sur {n} variables, aucune ne dérive {between}."]
    else:
        parts = [
            (
                f"Sur {n} variables, {len(flagged)} {verb_for(len(flagged))} {between}, "
                f"soit {french_share(len(flagged) / n)}."
            )
        ]
        levels = []
        for level in ("forte", "modérée", "légère"):
            named = [f"{r.feature} ({french_number(r.psi)})" for r in flagged.itertuples() if strength(r.psi) == level]
            if named:
                levels.append(f"{level}{'s' if len(named) > 1 else ''} : {french_list(named)}")
        parts.append("Dérives mesurées par le PSI — " + " ; ".join(levels) + ".")
        for r in flagged[flagged["kind"] == "categorical"].itertuples():
            label, before, after = main_category_move(reference[r.feature], current[r.feature])
            parts.append(f"Pour {r.feature}, la part de « {label} » passe de {french_share(before)} "
                         f"à {french_share(after)}.")
    psi_only = table[table["psi_drifted"] & ~table["drifted"].fillna(False)].sort_values("psi", ascending=False)
    if not psi_only.empty:
        named = french_list([f"{r.feature} ({french_number(r.psi)})" for r in psi_only.itertuples()])
        parts.append(
            f"Le PSI (déciles de la référence, valeurs manquantes comprises, seuil "
            f"{french_number(settings.psi_threshold)}) signale en outre {named}, sous le seuil d'evidently, qui "
            "écarte les valeurs manquantes."
        )
    top_flagged = [f for f in flagged["feature"] if f in top_features]
    if top_flagged:
        word = "variable" if len(top_flagged) == 1 else "variables"
        parts.append(
            f"Parmi les {len(top_features)} variables clés suivies (celles d'où viennent les facteurs les plus "
            f"influents du modèle), {len(top_flagged)} "
            f"{word} {verb_for(len(top_flagged))} ({french_list(top_flagged)}) : le modèle sera appliqué à des clients "
            "différents de ceux sur lesquels il a été appris, ses probabilités peuvent y être moins bien calibrées et "
            "le seuil moins adapté ; ces variables sont à surveiller en production, et un nouvel apprentissage est à "
            "envisager si la dérive s'accentue."
        )
    elif flagged.empty:
        parts.append("Le modèle est appliqué à une population comparable à celle sur laquelle il a été appris.")
    else:
        parts.append(
            f"Aucune des {len(top_features)} variables clés suivies ne dérive : la dérive touche des "
            "variables secondaires et son effet attendu sur les scores est limité."
        )
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------------
# The drift stage: application_test (current) against application_train (reference)
# ---------------------------------------------------------------------------------------------------------
NOT_COMPARED = ("SK_ID_CURR", "TARGET")  # an id and the label: neither is an input of the model


def application_columns(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """The columns both files share, in Kaggle's order, less the id and the target."""
    return [c for c in reference.columns if c in current.columns and c not in NOT_COMPARED]


def checked_top_features(settings: DriftSettings, columns: list[str]) -> list[str]:
    """The top features must be application columns: a misspelt or engineered name would silently shrink the
    scope the note reports on."""
    unknown = [f for f in settings.top_features if f not in columns]
    if unknown:
        raise ValueError(f"params.yaml drift.top_features: not application columns: {', '.join(unknown)}")
    return list(settings.top_features)


def analyse(reference: pd.DataFrame, current: pd.DataFrame, settings: DriftSettings, seed: int):
    """The per-column table, the summary, and evidently's snapshots for both scopes (all columns, top features)."""
    reference, current = without_sentinels(reference), without_sentinels(current)
    columns = application_columns(reference, current)
    top = checked_top_features(settings, columns)
    table, all_snapshot = compare(reference, current, columns, settings, seed)
    top_table, top_snapshot = compare(reference, current, top, settings, seed)
    table.insert(2, "top_feature", table["feature"].isin(top))
    evidently_rows = min(len(reference), settings.sample_size), min(len(current), settings.sample_size)
    summary = {
        "reference": "application_train",
        "current": "application_test",
        "rows": {"reference": len(reference), "current": len(current)},
        "rows_compared_by_evidently": {"reference": evidently_rows[0], "current": evidently_rows[1]},
        "settings": {
            "stattest": settings.stattest,
            "stattest_threshold": settings.stattest_threshold,
            "psi_bins": settings.psi_bins,
            "psi_threshold": settings.psi_threshold,
            "sample_size": settings.sample_size,
        },
        "all_columns": scope_summary(table),
        "top_features": {**scope_summary(top_table), "features": top},
        "features": feature_records(table),
        "conclusion_fr": conclusion_fr(table, top, reference, current, settings),
    }
    return table, summary, all_snapshot, top_snapshot
