"""The explain report's figures (French, Okabe-Ito, never colour alone): global SHAP importance, the beeswarm,
dependence plots, the waterfalls of two clients and the EBM's shape functions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from credit_scoring.common.formatting import french_number, french_percent
from credit_scoring.common.paths import figure
from credit_scoring.common.style import OKABE_ITO, french_axis, new_figure, save
from credit_scoring.explain.local import (
    LocalExplanation,
    family_contributions,
    family_statements,
    local_explanation,
)
from credit_scoring.explain.overall import HoldoutShap, main_terms, median_client, sample_rows
from credit_scoring.features.families import FAMILIES
from credit_scoring.features.labels import FeatureLabel
from credit_scoring.modeling.bundle import DECISION_GRANTED, DECISION_REFUSED, Bundle

DRAWN = 4  # dependence plots and EBM shape functions: one figure per feature, file names numbered 1..4
WATERFALL_BARS = 7  # families shown one by one; the others summed in one bar
LABEL_WIDTH = 48  # characters per line of a feature label on a figure axis

# Low to high value of a feature: Okabe-Ito blue to vermillion (distinct for every colour-vision type).
VALUE_COLOURS = LinearSegmentedColormap.from_list("valeur", [OKABE_ITO["blue"], "#BBBBBB", OKABE_ITO["vermillion"]])


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
    return save(fig, figure("shap_importance"))


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
    return save(fig, figure("shap_beeswarm"))


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
    return save(fig, figure(f"shap_dependence_{rank}"))


# Printed at about 4.8 in in the note (72 % of its 17 cm text width): at 6.5 in, 10-point text prints at 7.4 points
# and the 9-point feature labels at 6.6.
WATERFALL_WIDTH = 6.5
WATERFALL_LABEL_WIDTH = 58  # a feature and its value on at most two lines, mostly


def _waterfall_label(text: str) -> str:
    """A feature and its value, wrapped for the waterfall; French quotes stay with their word (the spaces
    inside them made non-breaking, which textwrap does not break on)."""
    return textwrap.fill(text.replace("« ", "«\u00a0").replace(" »", "\u00a0»"), WATERFALL_LABEL_WIDTH)


def waterfall_figure(explanation: LocalExplanation, labels: dict[str, FeatureLabel], family_map: dict[str, str],
                     threshold: float, decision: str, path: Path) -> Path:
    """From the base value (average client) to this client's raw score, the information families one by one, the
    largest first, each named with what its reason says of the client (as the API and the letter say it)."""
    sums = family_contributions(explanation, family_map)
    shown, rest = list(sums.index[:WATERFALL_BARS]), sums.iloc[WATERFALL_BARS:].sum()
    steps = []
    for family in shown:
        said = family_statements(explanation, labels, family_map, family, most=1)
        steps.append((_waterfall_label(FAMILIES[family] + (f" ({said[0]})" if said else "")), sums[family]))
    steps.append((f"{len(sums) - len(shown)} autres familles", rest))
    # Each row is as tall as its label needs (a label wrapped on three lines would run into its neighbours').
    rows = [max(1.0, 0.4 * text.count("\n") + 0.9) for text, _ in reversed(steps)]
    ys = np.cumsum(rows) - np.asarray(rows) / 2
    fig, ax = new_figure(WATERFALL_WIDTH, 0.36 * sum(rows) + 1.9)
    start = explanation.base_value
    for i, (y, (_text, value)) in enumerate(zip(ys, reversed(steps))):
        left = start + sum(v for _, v in steps[: len(steps) - 1 - i])
        up = value > 0
        ax.barh(y, value, left=left, color=OKABE_ITO["vermillion"] if up else OKABE_ITO["blue"],
                hatch="///" if up else None, edgecolor="white", height=0.7)
        ax.text(left + value, y, f" {'+' if up else '−'}{french_number(abs(value), 2)} ", va="center",
                ha="left" if up else "right", fontsize=10)
    ax.set_yticks(ys, [t for t, _ in reversed(steps)], fontsize=9)
    ax.set_ylim(0, sum(rows))
    ax.axvline(explanation.base_value, color=OKABE_ITO["black"], linestyle=":", linewidth=1,
               label=f"score de référence : {french_percent(1 / (1 + np.exp(-explanation.base_value)), 1)}")
    ax.axvline(explanation.raw_score, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
               label=f"ce client : {french_percent(explanation.probability, 1)}")
    up = Patch(facecolor=OKABE_ITO["vermillion"], hatch="///", edgecolor="white", label="augmente le risque")
    down = Patch(facecolor=OKABE_ITO["blue"], label="diminue le risque")
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], up, down],
              loc="upper right", bbox_to_anchor=(1.0, -0.16), ncol=2, fontsize=10, frameon=False)
    path_points = start + np.cumsum([0.0] + [v for _, v in steps])
    low, high = path_points.min(), path_points.max()
    ax.set_xlim(low - 0.15 * (high - low), high + 0.2 * (high - low))  # room for the value labels
    ax.set_xlabel("score (log-cote)", fontsize=10)  # the probabilities are in the legend
    fig.suptitle(f"Client {decision} : probabilité de défaut {french_percent(explanation.probability, 1)}, "
                 f"seuil {french_percent(threshold, 1)}", fontsize=11)  # centred on the figure: labels take the left
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
    return save(fig, figure(f"ebm_shape_{rank}"))


# --------------------------------------------------------------------------------------------------------
# The report's figures, drawn together.
# --------------------------------------------------------------------------------------------------------
def shap_figures(shap: HoldoutShap, labels: dict[str, FeatureLabel], top: int, beeswarm_points: int, seed: int
                 ) -> list[str]:
    """The importance bar chart and the beeswarm of the ``top`` features, and the dependence plots of the first
    `DRAWN`; returns the features of the dependence plots, in figure order."""
    importance_figure(shap.importance, top)
    beeswarm_figure(shap.contributions, shap.X, shap.importance, top, beeswarm_points, seed)
    dependence = list(shap.importance["feature"].head(DRAWN))
    for rank, feature in enumerate(dependence, start=1):
        dependence_figure(labels[feature], shap.X[feature].to_numpy(dtype="float64"),
                          shap.contributions[feature].to_numpy(), rank)
    return dependence


def waterfall_figures(bundle: Bundle, shap: HoldoutShap, labels: dict[str, FeatureLabel], ids_holdout: np.ndarray,
                      family_map: dict[str, str]) -> dict[str, int]:
    """The waterfalls of the median refused and the median granted client; returns their ids by figure name."""
    proba = bundle.probability(shap.X)
    refused = proba >= bundle.threshold
    clients = {}
    for decision, mask, name in ((DECISION_REFUSED, refused, "refuse"), (DECISION_GRANTED, ~refused, "accorde")):
        client = median_client(proba, mask)
        waterfall_figure(local_explanation(bundle, shap.X.iloc[[client]]), labels, family_map, bundle.threshold,
                         decision, figure(f"shap_waterfall_{name}"))
        clients[name] = int(ids_holdout[shap.rows][client])
    return clients


def ebm_shape_figures(ebm, labels: dict[str, FeatureLabel]) -> list[str]:
    """The shape functions of the EBM's first `DRAWN` single-feature terms; returns their features."""
    shapes = []
    for rank, term in enumerate(main_terms(ebm)[:DRAWN], start=1):
        feature = ebm.term_names_[term]
        ebm_shape_figure(ebm, term, labels[feature], rank)
        shapes.append(feature)
    return shapes
