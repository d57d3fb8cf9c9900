"""Drift between a reference population and a current one: PSI, evidently reports, a summary and its French wording.

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


def flagged_by_psi(table: pd.DataFrame) -> str:
    """The drifted rows of a table named with their PSI, grouped by the PSI's usual reading (forte, modérée...)."""
    flagged = table[table["drifted"].fillna(False)].sort_values("psi", ascending=False)
    levels = []
    for level in ("forte", "modérée", "légère"):
        named = [f"{r.feature} ({french_number(r.psi)})" for r in flagged.itertuples() if strength(r.psi) == level]
        if named:
            levels.append(f"{level}{'s' if len(named) > 1 else ''} : {french_list(named)}")
    return " ; ".join(levels)


def psi_only(table: pd.DataFrame) -> str:
    """Rows our PSI flags and evidently does not, named with their PSI ("" when none)."""
    rows = table[table["psi_drifted"] & ~table["drifted"].fillna(False)].sort_values("psi", ascending=False)
    return french_list([f"{r.feature} ({french_number(r.psi)})" for r in rows.itertuples()])


def applications_fr(table: pd.DataFrame, reference: pd.DataFrame, current: pd.DataFrame, settings: DriftSettings,
                    names: tuple[str, str]) -> list[str]:
    """Sentences on the application columns: how many drift, which ones and how strongly (by PSI), what moved in
    the categorical ones, and what our PSI adds."""
    n = len(table)
    flagged = table[table["drifted"].fillna(False)]
    rules = f"{rule_fr(settings, 'numerical')} pour les variables numériques, " + (
        f"{rule_fr(settings, 'categorical')} pour les catégorielles"
    )
    between = f"entre {names[0]} (référence) et {names[1]} selon evidently ({rules})"
    if flagged.empty:
        parts = [f"Sur {n} variables de la demande, aucune ne dérive {between}."]
    else:
        parts = [
            (f"Sur {n} variables de la demande, {len(flagged)} {verb_for(len(flagged))} {between}, "
             f"soit {french_share(len(flagged) / n)}."),
            f"Dérives mesurées par le PSI — {flagged_by_psi(table)}.",
        ]
        for r in flagged[flagged["kind"] == "categorical"].sort_values("psi", ascending=False).itertuples():
            label, before, after = main_category_move(reference[r.feature], current[r.feature])
            parts.append(f"Pour {r.feature}, la part de « {label} » passe de {french_share(before)} "
                         f"à {french_share(after)}.")
    if psi_only(table):
        parts.append(
            f"Le PSI (déciles de la référence, valeurs manquantes comprises, seuil "
            f"{french_number(settings.psi_threshold)}) signale en outre {psi_only(table)}, sous le seuil d'evidently, "
            "qui écarte les valeurs manquantes."
        )
    return parts


def watched_fr(watched: pd.DataFrame) -> list[str]:
    """Sentences on the champion's most influential features, compared on the feature files."""
    n, flagged = len(watched), watched[watched["drifted"].fillna(False)]
    scope = (f"Les {n} variables les plus influentes du modèle (|SHAP| moyen), agrégats d'historique compris, "
             "comparées sur les variables calculées des mêmes clients")
    if flagged.empty:
        parts = [f"{scope} : aucune ne dérive selon evidently."]
    else:
        parts = [f"{scope} : {len(flagged)} {verb_for(len(flagged))} selon evidently — {flagged_by_psi(watched)}."]
    if psi_only(watched):
        parts.append(f"Le PSI signale en outre {psi_only(watched)}, sous le seuil d'evidently.")
    return parts


def score_fr(score: dict, settings: DriftSettings, names: tuple[str, str]) -> str:
    """The sentence on the score: does the distribution of the champion's probabilities move, and what it does to
    the share of clients refused at the threshold."""
    verdict = "dérive" if score["drifted"] else "ne dérive pas"
    if score["psi_drifted"] and not score["drifted"]:
        verdict += f" selon evidently mais son PSI dépasse le seuil de {french_number(settings.psi_threshold)}"
    refused = score["refused_share"]
    return (
        f"La distribution du score (probabilité de défaut donnée par le modèle) des clients de "
        f"{names[1]}, comparée à celle des clients de validation de {names[0]}, que le modèle n'a pas vus, {verdict} "
        f"(PSI {french_number(score['psi'])}, {TESTS_FR.get(settings.stattest['numerical'], score['evidently_test'])} "
        f"{french_number(score['evidently_score'])}) ; la part de clients "
        f"refusés au seuil de {french_number(score['threshold'], 3)} passe de {french_share(refused['reference'])} "
        f"à {french_share(refused['current'])}."
    )


def conclusion_fr(
    table: pd.DataFrame,
    watched: pd.DataFrame,
    score: dict,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    settings: DriftSettings,
    names: tuple[str, str] = ("application_train", "application_test"),
) -> str:
    """The paragraph the methodological note quotes: the application columns that drift (which, how strongly, what
    moved in the categorical ones), then the model's own view, its most influential features (``watched``, in
    their rank order) and its score, and what it means for a model trained on the reference."""
    parts = [*applications_fr(table, reference, current, settings, names), *watched_fr(watched),
             score_fr(score, settings, names)]
    moved = list(watched.loc[watched["drifted"].fillna(False), "feature"])
    if score["drifted"] or moved:
        what = french_list([*moved, *(["le score"] if score["drifted"] else [])])
        parts.append(
            f"Le modèle sera appliqué à des clients différents de ceux sur lesquels il a été appris ({what}) : ses "
            "probabilités peuvent y être moins bien calibrées et le seuil moins adapté ; la production est à suivre "
            "sur ces mêmes mesures, et un nouvel apprentissage est à envisager si la dérive s'accentue."
        )
    elif table["drifted"].fillna(False).any():
        parts.append(
            "La dérive touche des variables secondaires pour le modèle : ni ses variables les plus influentes ni son "
            "score ne dérivent selon evidently, et son effet mesuré sur les décisions est limité."
        )
    else:
        parts.append("Le modèle est appliqué à une population comparable à celle sur laquelle il a été appris.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------------
# The drift stage: application_test (current) against application_train (reference)
# ---------------------------------------------------------------------------------------------------------
NOT_COMPARED = ("SK_ID_CURR", "TARGET")  # an id and the label: neither is an input of the model
SCORE = "score"  # the champion's probability of default, as a column of its own


def application_columns(reference: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """The columns both files share, in Kaggle's order, less the id and the target."""
    return [c for c in reference.columns if c in current.columns and c not in NOT_COMPARED]


@dataclass(frozen=True)
class DriftInputs:
    """What the drift stage compares, reference first: the raw application tables, the feature rows of the same
    clients (the model's inputs, engineered history aggregates included), the champion's scores, and which
    features are watched."""

    applications: tuple[pd.DataFrame, pd.DataFrame]
    features: tuple[pd.DataFrame, pd.DataFrame]
    scores: tuple[np.ndarray, np.ndarray]  # reference: the holdout of the training clients, which the model never saw
    watched: list[str]
    threshold: float  # the champion's decision threshold

    def checked(self) -> DriftInputs:
        """Watched features must be columns of both feature files: a missing one would silently shrink the scope."""
        for side, frame in zip(("reference", "current"), self.features):
            missing = [f for f in self.watched if f not in frame.columns]
            if missing:
                raise ValueError(f"watched features absent from the {side} feature rows: {', '.join(missing)} "
                                 "(are models/explain and data/features from the same run?)")
        for side, scores in zip(("reference", "current"), self.scores):
            if not len(scores) or not np.all((scores >= 0) & (scores <= 1)):
                raise ValueError(f"{side} scores must be probabilities, at least one")
        return self


def score_drift(inputs: DriftInputs, settings: DriftSettings, seed: int) -> tuple[dict, Snapshot]:
    """The train->test drift of the champion's score: our PSI and evidently's test (those of numerical columns),
    the mean probabilities and the shares refused at the threshold, and evidently's snapshot."""
    reference, current = (pd.DataFrame({SCORE: np.asarray(s, dtype="float64")}) for s in inputs.scores)
    table, snapshot = compare(reference, current, [SCORE], settings, seed)
    record = feature_records(table)[SCORE]
    record.update({
        "reference": "holdout of application_train (clients the model never saw)", "current": "application_test",
        "rows": {"reference": len(reference), "current": len(current)},
        "mean": {"reference": float(reference[SCORE].mean()), "current": float(current[SCORE].mean())},
        "threshold": inputs.threshold,
        "refused_share": {"reference": float((reference[SCORE] >= inputs.threshold).mean()),
                          "current": float((current[SCORE] >= inputs.threshold).mean())},
    })
    return record, snapshot


def analyse(inputs: DriftInputs, settings: DriftSettings, seed: int):
    """The per-column table (application columns, then the watched features with their SHAP rank), the summary,
    and evidently's snapshots: all application columns, watched features, score."""
    inputs = inputs.checked()
    reference, current = (without_sentinels(f) for f in inputs.applications)
    features = [without_sentinels(f) for f in inputs.features]
    table, all_snapshot = compare(reference, current, application_columns(reference, current), settings, seed)
    watched, watched_snapshot = compare(*features, inputs.watched, settings, seed)
    score, score_snapshot = score_drift(inputs, settings, seed)
    table.insert(1, "scope", "application")
    watched.insert(1, "scope", "watched")
    watched.insert(2, "shap_rank", np.arange(1, len(watched) + 1))
    summary = {
        "reference": "application_train",
        "current": "application_test",
        "rows": {"reference": len(reference), "current": len(current)},
        "rows_compared_by_evidently": {"reference": min(len(reference), settings.sample_size),
                                       "current": min(len(current), settings.sample_size)},
        "settings": {
            "stattest": settings.stattest,
            "stattest_threshold": settings.stattest_threshold,
            "psi_bins": settings.psi_bins,
            "psi_threshold": settings.psi_threshold,
            "sample_size": settings.sample_size,
            "watched_features": settings.watched_features,
        },
        "rules_fr": {kind: rule_fr(settings, kind) for kind in KINDS},
        "all_columns": scope_summary(table),
        "watched_features": {
            **scope_summary(watched), "source": "models/explain (mean |SHAP| of the champion, best first)",
            "features": list(inputs.watched), "per_feature": feature_records(watched.drop(columns="scope")),
        },
        "score": score,
        "features": feature_records(table.drop(columns="scope")),
        "conclusion_fr": conclusion_fr(table, watched, score, reference, current, settings),
    }
    both = pd.concat([table, watched], ignore_index=True).astype({"shap_rank": "Int64"})
    return both, summary, {"all": all_snapshot, "watched": watched_snapshot, "score": score_snapshot}
