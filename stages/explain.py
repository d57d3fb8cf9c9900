"""explain stage: what drives the champion's scores, a glass-box model beside it, and what reason codes need.

- SHAP on the holdout (exact TreeSHAP, `credit_scoring.explain`): mean |SHAP| per feature (table and bar
  chart), a beeswarm of the top features, dependence plots of the top 4, and the waterfall of one refused and
  one granted client (the median probability of each decision, so neither is an extreme case).
- An Explainable Boosting Machine (interpret) on the top K features by mean |SHAP|: a model whose every term
  can be drawn. Its threshold is chosen on out-of-fold predictions of the training part, as the champion's
  was, then the holdout is scored once; both sit side by side in one table. Shape functions of its top 4
  terms are drawn.
- `models/explain/`: the French labels of the model's features and the reason-code settings the API loads
  beside `models/champion/` (the champion folder belongs to the threshold stage).
"""

from __future__ import annotations

import json
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from sklearn.model_selection import train_test_split

from credit_scoring.bundle import DECISION_GRANTED, DECISION_REFUSED, load_bundle
from credit_scoring.cost import best_threshold, scores_at
from credit_scoring.explain import (
    EXPLAIN_DIR,
    ExplainConfig,
    LocalExplanation,
    explain_frame,
    local_explanation,
    write_explain_config,
)
from credit_scoring.io import write_json
from credit_scoring.labels import FeatureLabel, feature_labels
from credit_scoring.modeling import load_training, out_of_fold, stratified_folds
from credit_scoring.params import load_params
from credit_scoring.formatting import french_number, french_percent
from credit_scoring.plots import OKABE_ITO, french_axis, new_figure, save

CHAMPION = Path("models/champion")
THRESHOLD_METRICS = Path("reports/metrics/threshold.json")
DESCRIPTIONS = Path("data/prepared/columns_description.parquet")
FIGURES = Path("reports/figures")
IMPORTANCE_TABLE = Path("reports/tables/shap_importance.csv")
EBM_TABLE = Path("reports/tables/ebm_vs_champion.csv")
METRICS = Path("reports/metrics/explain.json")
DRAWN = 4  # dependence plots and EBM shape functions: one figure per feature, file names numbered 1..4
WATERFALL_BARS = 10
LABEL_WIDTH = 48  # characters per line of a feature label on a figure axis

# Low to high value of a feature: Okabe-Ito blue to vermillion (distinct for every colour-vision type).
VALUE_COLOURS = LinearSegmentedColormap.from_list("valeur", [OKABE_ITO["blue"], "#BBBBBB", OKABE_ITO["vermillion"]])


# --------------------------------------------------------------------------------------------------------
# Global SHAP.
# --------------------------------------------------------------------------------------------------------
def sample_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """Sorted row positions: all rows, or a seeded random `max_rows` of them."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def global_importance(contributions: pd.DataFrame, labels: dict[str, FeatureLabel]) -> pd.DataFrame:
    """Mean |SHAP| per feature, largest first (ties in feature order), with its French label and the mean
    signed contribution (which side the feature pushes on average)."""
    table = pd.DataFrame({
        "feature": contributions.columns,
        "libelle": [labels[f].label for f in contributions.columns],
        "mean_abs_shap": contributions.abs().mean().to_numpy(),
        "mean_shap": contributions.mean().to_numpy(),
    })
    table = table.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rang", np.arange(1, len(table) + 1))
    return table


def median_client(proba: np.ndarray, mask: np.ndarray) -> int:
    """The position of the client of `mask` whose probability is the median of theirs (lowest on ties)."""
    candidates = np.flatnonzero(mask)
    if not len(candidates):
        raise ValueError("no explained holdout client has this decision: no waterfall can show one")
    order = candidates[np.argsort(proba[candidates], kind="stable")]
    return int(order[(len(order) - 1) // 2])


# --------------------------------------------------------------------------------------------------------
# EBM.
# --------------------------------------------------------------------------------------------------------
def make_ebm(settings: dict, seed: int):
    from interpret.glassbox import ExplainableBoostingClassifier

    return ExplainableBoostingClassifier(
        interactions=settings["interactions"], outer_bags=settings["outer_bags"], max_bins=settings["max_bins"],
        n_jobs=settings["n_jobs"], random_state=seed,
    )


def fit_ebm(X: pd.DataFrame, y: np.ndarray, settings: dict, seed: int):
    with warnings.catch_warnings():  # "Missing values detected": kept on purpose, as their own bin
        warnings.filterwarnings("ignore", message="Missing values detected")
        return make_ebm(settings, seed).fit(X, y)


def ebm_comparison(data, features: list[str], settings: dict, cost: dict, seed: int) -> dict:
    """Fit the EBM on (a stratified sample of) the training part, choose its cost-optimal threshold on its
    out-of-fold predictions, then score the holdout once. Returns the model and its numbers."""
    X, y = data.X[features], data.y
    if len(X) > settings["max_rows"]:
        X, _, y, _ = train_test_split(X, y, train_size=settings["max_rows"], stratify=y, random_state=seed)
    started = time.perf_counter()

    def fit_predict(X_fit, y_fit, X_valid):
        return fit_ebm(X_fit, y_fit, settings, seed).predict_proba(X_valid)[:, 1], {}

    oof = out_of_fold(fit_predict, X, y, stratified_folds(y, settings["cv_folds"], seed))
    threshold, oof_cost = best_threshold(y, oof.proba, cost["fn"], cost["fp"])
    model = fit_ebm(X, y, settings, seed)
    proba = model.predict_proba(data.X_holdout[features])[:, 1]
    scores = scores_at(data.y_holdout, proba, threshold, cost["fn"], cost["fp"])
    return {"model": model, "scores": scores, "threshold": threshold, "oof_cost": oof_cost,
            "training_rows": len(X), "seconds": time.perf_counter() - started}


def comparison_table(ebm: dict, champion: dict, n_champion_features: int, algorithm: str, folds: int) -> pd.DataFrame:
    """The glass box beside the champion: same holdout, each threshold chosen on its own training predictions."""
    s = ebm["scores"]
    return pd.DataFrame([
        {"modele": f"champion ({algorithm})", "variables": n_champion_features,
         "auc_validation": champion["holdout_auc"], "cout_par_client_validation": champion["holdout_cost_per_client"],
         "seuil": champion["threshold"], "rappel_validation": champion["holdout_recall"],
         "precision_validation": champion["holdout_precision"]},
        {"modele": f"EBM (interpret), seuil hors échantillon sur {folds} plis",
         "variables": len(ebm["model"].feature_names_in_), "auc_validation": s.auc,
         "cout_par_client_validation": s.cost_per_client, "seuil": ebm["threshold"], "rappel_validation": s.recall,
         "precision_validation": s.precision},
    ])


def main_terms(ebm) -> list[int]:
    """Indices of the EBM's single-feature terms, most important first."""
    importances = ebm.term_importances()
    single = [i for i, features in enumerate(ebm.term_features_) if len(features) == 1]
    return sorted(single, key=lambda i: -importances[i])


# --------------------------------------------------------------------------------------------------------
# Figures (French, Okabe-Ito, never colour alone).
# --------------------------------------------------------------------------------------------------------
def _wrapped(text: str) -> str:
    return textwrap.fill(text, LABEL_WIDTH)


def _value_axis(ax, label: FeatureLabel, values: np.ndarray) -> None:
    """Ticks in the feature's own units (ages in years, amounts in euros, ...)."""
    from matplotlib.ticker import FuncFormatter

    past = label.unit in ("days_ago", "months_ago", "age_days") and np.nanmin(values) < 0
    ax.set_xlabel(_wrapped(f"{label.label} (à gauche : plus ancien)" if past else label.label), fontsize=9)
    if label.unit == "flag":
        ax.set_xticks([0, 1], ["non", "oui"])
        return
    if label.unit in ("score", "number"):
        french_axis(ax, "x", 2)
        return
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: label.value_text(v)))
    ax.tick_params(axis="x", labelsize=8)


def importance_figure(importance: pd.DataFrame, top: int) -> Path:
    head = importance.head(top).iloc[::-1]
    fig, ax = new_figure(9.0, 0.38 * top + 1.4)
    ax.barh([_wrapped(t) for t in head["libelle"]], head["mean_abs_shap"], color=OKABE_ITO["blue"])
    for y, value in enumerate(head["mean_abs_shap"]):
        ax.text(value, y, " " + french_number(value, 3), va="center", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("contribution absolue moyenne au score (log-cote)")
    fig.suptitle(f"Importance globale des {top} premières variables (SHAP, validation finale)", fontsize=12)
    ax.grid(axis="y", visible=False)
    french_axis(ax, "x", 2)
    return save(fig, FIGURES / "shap_importance.png")


def swarm_offsets(contributions: np.ndarray, bins: int = 60) -> np.ndarray:
    """Vertical offsets (within ±0.4) that spread points of similar contribution, as a beeswarm does."""
    edges = np.linspace(contributions.min(), contributions.max() + 1e-12, bins + 1)
    which = np.clip(np.digitize(contributions, edges) - 1, 0, bins - 1)
    offsets = np.zeros(len(contributions))
    for b in np.unique(which):
        members = np.flatnonzero(which == b)
        k = np.arange(len(members))
        offsets[members] = (k + 1) // 2 * np.where(k % 2 == 0, 1.0, -1.0)
    largest = np.abs(offsets).max()
    return offsets / largest * 0.4 if largest > 0 else offsets


def beeswarm_figure(contributions: pd.DataFrame, X: pd.DataFrame, importance: pd.DataFrame, top: int,
                    points: int, seed: int) -> Path:
    rows = sample_rows(len(X), points, seed)
    features = list(importance["feature"].head(top))
    fig, ax = new_figure(10.0, 0.42 * top + 1.8)
    for y, feature in enumerate(reversed(features)):
        shap_values = contributions[feature].to_numpy()[rows]
        values = X[feature].to_numpy(dtype="float64")[rows]
        ys = y + swarm_offsets(shap_values)
        present = ~np.isnan(values)
        rank = pd.Series(values[present]).rank(pct=True).to_numpy()
        high = np.zeros(len(values), dtype=bool)
        high[present] = rank > 0.5
        low = present & ~high
        colour = np.full(len(values), 0.5)
        colour[present] = rank
        for mask, marker in ((low, "o"), (high, "^")):
            ax.scatter(shap_values[mask], ys[mask], c=colour[mask], cmap=VALUE_COLOURS, vmin=0, vmax=1, s=7,
                       marker=marker, linewidths=0)
        ax.scatter(shap_values[~present], ys[~present], color=OKABE_ITO["black"], s=6, marker="x", linewidths=0.4,
                   alpha=0.6)
    ax.axvline(0, color=OKABE_ITO["black"], linewidth=0.8)
    ax.set_yticks(range(len(features)), [_wrapped(importance.set_index("feature").loc[f, "libelle"])
                                         for f in reversed(features)], fontsize=8)
    ax.set_xlabel("contribution au score (log-cote) ; à droite : le risque augmente")
    fig.suptitle(f"Effet des {top} premières variables sur chaque client (SHAP, validation finale)", fontsize=12)
    ax.grid(axis="y", visible=False)
    french_axis(ax, "x", 1)
    legend = [Line2D([], [], marker=marker, linestyle="none", color=OKABE_ITO[colour], label=text)
              for marker, colour, text in (("o", "blue", "valeur basse (≤ médiane)"),
                                           ("^", "vermillion", "valeur haute (> médiane)"),
                                           ("x", "black", "valeur manquante"))]
    ax.legend(handles=legend, loc="lower right", fontsize=8)
    return save(fig, FIGURES / "shap_beeswarm.png")


def dependence_figure(label: FeatureLabel, values: np.ndarray, shap_values: np.ndarray, rank: int) -> Path:
    fig, ax = new_figure(6.4, 4.4)
    present = ~np.isnan(values)
    ax.scatter(values[present], shap_values[present], s=6, alpha=0.35, color=OKABE_ITO["blue"], marker="o",
               linewidths=0, label="un client")
    if present.sum() >= 20 and len(np.unique(values[present])) > 2:
        deciles = pd.qcut(values[present], 10, duplicates="drop")
        binned = pd.DataFrame({"x": values[present], "s": shap_values[present], "bin": deciles})
        means = binned.groupby("bin", observed=True).mean()
        ax.plot(means["x"], means["s"], color=OKABE_ITO["orange"], linestyle="--", marker="s", markersize=5,
                label="moyenne par décile")
    if (~present).any():
        ax.plot([], [], linestyle="none", label=f"valeur manquante : {french_number((~present).sum(), 0)} clients, "
                f"contribution moyenne {french_number(shap_values[~present].mean(), 2)}")
    ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.8)
    if present.any() and label.unit != "flag":  # a few extreme clients would squeeze everyone else
        low, high = np.quantile(values[present], [0.005, 0.995])
        ax.set_xlim(low - 0.03 * (high - low), high + 0.03 * (high - low))
    _value_axis(ax, label, values)
    ax.set_ylabel("contribution au score (log-cote)")
    ax.set_title(_wrapped(f"Effet sur le score : {label.label}"), fontsize=10)
    french_axis(ax, "y", 2)
    ax.legend(loc="best", fontsize=8)
    return save(fig, FIGURES / f"shap_dependence_{rank}.png")


def waterfall_figure(explanation: LocalExplanation, labels: dict[str, FeatureLabel], threshold: float,
                     decision: str, path: Path) -> Path:
    """From the base value (average client) to this client's raw score, the largest contributions one by one."""
    contributions = explanation.contributions
    order = contributions.abs().sort_values(ascending=False, kind="stable").index
    shown, rest = list(order[:WATERFALL_BARS]), contributions[order[WATERFALL_BARS:]].sum()
    steps = [(_wrapped(f"{labels[f].label}\u00a0=\u00a0{labels[f].value_text(explanation.values[f])}"),
              contributions[f]) for f in shown]
    steps.append((f"{len(order) - WATERFALL_BARS} autres variables", rest))
    fig, ax = new_figure(10.0, 0.55 * len(steps) + 2.0)
    start = explanation.base_value
    for y, (text, value) in enumerate(reversed(steps)):
        left = start + sum(v for _, v in steps[: len(steps) - 1 - y])
        up = value > 0
        ax.barh(y, value, left=left, color=OKABE_ITO["vermillion"] if up else OKABE_ITO["blue"],
                hatch="///" if up else None, edgecolor="white", height=0.7)
        ax.text(left + value, y, f" {'+' if up else '−'}{french_number(abs(value), 2)} ", va="center",
                ha="left" if up else "right", fontsize=8)
    ax.set_yticks(range(len(steps)), [t for t, _ in reversed(steps)], fontsize=8)
    ax.axvline(explanation.base_value, color=OKABE_ITO["black"], linestyle=":", linewidth=1,
               label=f"score de référence : {french_percent(1 / (1 + np.exp(-explanation.base_value)), 1)}")
    ax.axvline(explanation.raw_score, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
               label=f"ce client : {french_percent(explanation.probability, 1)}")
    up = Patch(facecolor=OKABE_ITO["vermillion"], hatch="///", edgecolor="white", label="augmente le risque")
    down = Patch(facecolor=OKABE_ITO["blue"], label="diminue le risque")
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], up, down],
              loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=8, frameon=False)
    path_points = start + np.cumsum([0.0] + [v for _, v in steps])
    low, high = path_points.min(), path_points.max()
    ax.set_xlim(low - 0.15 * (high - low), high + 0.15 * (high - low))  # room for the value labels
    ax.set_xlabel("score (log-cote) ; probabilités de défaut en légende")
    ax.set_title(f"Client {decision} : probabilité de défaut {french_percent(explanation.probability, 1)}, "
                 f"seuil {french_percent(threshold, 1)}", fontsize=11)
    ax.grid(axis="y", visible=False)
    french_axis(ax, "x", 1)
    return save(fig, path)


def ebm_shape_figure(ebm, term: int, label: FeatureLabel, rank: int) -> Path:
    data = ebm.explain_global().data(term)
    edges, scores = np.asarray(data["names"], dtype="float64"), np.asarray(data["scores"])
    lower, upper = np.asarray(data["lower_bounds"]), np.asarray(data["upper_bounds"])
    fig, ax = new_figure(6.4, 4.4)
    if len(scores) == 2:  # a 0/1 feature: two bars
        ax.bar([0, 1], scores, yerr=[scores - lower, upper - scores], color=OKABE_ITO["blue"], capsize=6, width=0.5,
               label="contribution (barres : dispersion entre sacs)")
        ax.set_xticks([0, 1], ["non", "oui"])
    else:
        ax.stairs(scores, edges, color=OKABE_ITO["blue"], linewidth=1.6, label="fonction de forme")
        ax.stairs(upper, edges, baseline=lower, fill=True, color=OKABE_ITO["sky"], alpha=0.35, hatch="...",
                  label="dispersion entre sacs")
        finite = edges[np.isfinite(edges)]
        ax.set_xlim(np.quantile(finite, 0.01), np.quantile(finite, 0.99))
        _value_axis(ax, label, finite)
    missing_score = float(ebm.term_scores_[term][0])
    if missing_score != 0.0:
        ax.axhline(missing_score, color=OKABE_ITO["orange"], linestyle="--",
                   label=f"valeur manquante : {french_number(missing_score, 2)}")
    ax.axhline(0, color=OKABE_ITO["black"], linewidth=0.8)
    ax.set_ylabel("contribution au score (log-cote)")
    ax.set_title(_wrapped(f"EBM, fonction de forme : {label.label}"), fontsize=10)
    french_axis(ax, "y", 2)
    ax.legend(loc="best", fontsize=8)
    return save(fig, FIGURES / f"ebm_shape_{rank}.png")


# --------------------------------------------------------------------------------------------------------
def main() -> None:
    params = load_params()
    settings, cost, seed = params["explain"], params["cost"], params["seed"]
    started = time.perf_counter()
    bundle = load_bundle(CHAMPION)
    champion = json.loads(THRESHOLD_METRICS.read_text())
    data = load_training(exclude_protected=params["features"]["exclude_protected"])
    if list(data.feature_names) != bundle.features:
        raise ValueError("the champion's features differ from data/features: rerun the threshold stage")
    descriptions = pd.read_parquet(DESCRIPTIONS) if DESCRIPTIONS.exists() else None
    labels = {f: label for f, label in feature_labels(descriptions).items() if f in bundle.features}

    rows = sample_rows(len(data.X_holdout), settings["shap_max_rows"], seed)
    X = data.X_holdout.iloc[rows].reset_index(drop=True)
    shap_started = time.perf_counter()
    contributions, base = explain_frame(bundle, X)
    shap_seconds = time.perf_counter() - shap_started
    importance = global_importance(contributions, labels)
    IMPORTANCE_TABLE.parent.mkdir(parents=True, exist_ok=True)
    importance.to_csv(IMPORTANCE_TABLE, index=False, float_format="%.6f")

    top = settings["top_features"]
    importance_figure(importance, top)
    beeswarm_figure(contributions, X, importance, top, settings["beeswarm_points"], seed)
    dependence = list(importance["feature"].head(DRAWN))
    for rank, feature in enumerate(dependence, start=1):
        dependence_figure(labels[feature], X[feature].to_numpy(dtype="float64"),
                          contributions[feature].to_numpy(), rank)
    proba = bundle.probability(X)
    refused = proba >= bundle.threshold
    waterfalls = {}
    for decision, mask, name in ((DECISION_REFUSED, refused, "refuse"), (DECISION_GRANTED, ~refused, "accorde")):
        client = median_client(proba, mask)
        waterfall_figure(local_explanation(bundle, X.iloc[[client]]), labels, bundle.threshold, decision,
                         FIGURES / f"shap_waterfall_{name}.png")
        waterfalls[name] = int(data.ids_holdout[rows][client])

    ebm_settings = settings["ebm"]
    head = importance.head(ebm_settings["top_features"])
    ebm_features = list(head.loc[head["mean_abs_shap"] > 0, "feature"])  # a feature the model never uses: none
    ebm = ebm_comparison(data, ebm_features, ebm_settings, cost, seed)
    table = comparison_table(ebm, champion, len(bundle.features), bundle.info["algorithm"], ebm_settings["cv_folds"])
    table.to_csv(EBM_TABLE, index=False, float_format="%.6f")
    shapes = []
    for rank, term in enumerate(main_terms(ebm["model"])[:DRAWN], start=1):
        feature = ebm["model"].term_names_[term]
        ebm_shape_figure(ebm["model"], term, labels[feature], rank)
        shapes.append(feature)

    global_top = [{"feature": r.feature, "label": r.libelle, "mean_abs_shap": round(float(r.mean_abs_shap), 6)}
                  for r in importance.head(top).itertuples()]
    write_explain_config(ExplainConfig(
        model_version=bundle.model_version,
        model_run_id=bundle.info.get("mlflow_run_id"),
        max_reasons=settings["reasons"]["max"],
        min_contribution=settings["reasons"]["min_contribution"],
        expected_value=float(base[0]),
        global_importance=global_top,
        labels=labels,
    ), EXPLAIN_DIR)
    s = ebm["scores"]
    write_json(METRICS, {
        "model_version": bundle.model_version,
        "algorithm": bundle.info["algorithm"],
        "exclude_protected": bool(bundle.info.get("exclude_protected", False)),
        "shap_clients": int(len(X)),
        "expected_value": float(base[0]),
        "top_features": [g["feature"] for g in global_top],
        "dependence_figures": dependence,
        "waterfall_clients": waterfalls,
        "ebm_features": ebm_features,
        "ebm_shape_figures": shapes,
        "ebm_training_rows": ebm["training_rows"],
        "ebm_threshold": ebm["threshold"],
        "ebm_oof_cost_per_client": ebm["oof_cost"],
        "ebm_holdout_auc": s.auc,
        "ebm_holdout_cost_per_client": s.cost_per_client,
        "champion_holdout_auc": champion["holdout_auc"],
        "champion_holdout_cost_per_client": champion["holdout_cost_per_client"],
        "shap_seconds": round(shap_seconds, 1),
        "ebm_seconds": round(ebm["seconds"], 1),
        "seconds": round(time.perf_counter() - started, 1),
    })


if __name__ == "__main__":
    main()
