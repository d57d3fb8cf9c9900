"""The threshold stage's figures (French, colour-blind-safe, never colour alone): the cost against the
threshold on out-of-fold predictions, then the holdout's ROC, precision-recall, calibration and confusion matrix,
and how the threshold and the refusal rate move with the FN:FP cost ratio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from credit_scoring.common.formatting import french_number, french_percent
from credit_scoring.common.paths import figure
from credit_scoring.common.style import OKABE_ITO, french_axis, new_figure, save
from credit_scoring.modeling.cost import THRESHOLD_GRID, cost_curve, f1_curve
from credit_scoring.modeling.thresholds import COST, DEFAULT, F1

MARKERS = {DEFAULT: ("s", OKABE_ITO["black"]), F1: ("^", OKABE_ITO["orange"]), COST: ("o", OKABE_ITO["vermillion"])}
"""Marker and colour of each compared threshold (`credit_scoring.modeling.thresholds.THRESHOLDS`) on the cost figure."""


def cost_figure(y, proba, table: pd.DataFrame, cost: dict) -> Path:
    fig, ax = new_figure(6.8, 5.4)
    costs = cost_curve(y, proba, cost["fn"], cost["fp"])
    ax.plot(THRESHOLD_GRID, costs, color=OKABE_ITO["blue"], label="coût moyen par client")
    ax2 = ax.twinx()
    ax2.plot(THRESHOLD_GRID, f1_curve(y, proba), color=OKABE_ITO["orange"], linestyle="--", label="F1")
    ax2.set_ylabel("F1")
    ax2.grid(False)
    for row in table.itertuples():
        marker, colour = MARKERS[row.id]
        ax.plot(row.valeur, row.cout_par_client, marker=marker, color=colour, markersize=9, linestyle="none",
                label=f"seuil {row.seuil} : {french_number(row.valeur, 3)} "
                      f"(coût {french_number(row.cout_par_client, 3)})")
    ax.set_xlabel("seuil de refus (probabilité de défaut)")
    ax.set_ylabel(f"coût par client (FN = {cost['fn']}, FP = {cost['fp']})")
    ax.set_title("Coût métier selon le seuil (prédictions hors échantillon)")
    french_axis(ax)
    french_axis(ax2, "y")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=1, fontsize=8, frameon=False)
    return save(fig, figure("cost_threshold"))


def _finish(fig, ax, xlabel: str, ylabel: str, title: str, legend: str, name: str) -> Path:
    """Axis names, title, French ticks and the legend of a one-panel figure, saved as ``name``."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    french_axis(ax)
    ax.legend(loc=legend)
    return save(fig, figure(name))


def roc_figure(y, proba, oracle_proba) -> Path:
    fig, ax = new_figure(5.2, 4.6)
    fpr, tpr, _ = roc_curve(y, proba)
    ax.plot(fpr, tpr, color=OKABE_ITO["blue"], label="modèle retenu")
    if oracle_proba is not None:
        fpr, tpr, _ = roc_curve(y, oracle_proba)
        ax.plot(fpr, tpr, color=OKABE_ITO["green"], linestyle="--", label="probabilités vraies (oracle)")
    ax.plot([0, 1], [0, 1], color=OKABE_ITO["black"], linestyle=":", label="hasard")
    return _finish(fig, ax, "taux de faux positifs (bons clients refusés)", "taux de vrais positifs (défauts détectés)",
                   "Courbe ROC sur l'échantillon de validation finale", "lower right", "roc")


def precision_recall_figure(y, proba) -> Path:
    fig, ax = new_figure(5.2, 4.6)
    precision, recall, _ = precision_recall_curve(y, proba)
    ax.plot(recall, precision, color=OKABE_ITO["blue"], label="modèle retenu")
    ax.axhline(np.mean(y), color=OKABE_ITO["black"], linestyle=":", label="taux de défaut (hasard)")
    return _finish(fig, ax, "rappel (part des défauts détectés)", "précision (part de défauts parmi les refus)",
                   "Précision et rappel (validation finale)", "upper right", "precision_recall")


def calibration_figure(y, proba, brier: float) -> Path:
    fig, ax = new_figure(5.2, 4.6)
    observed, predicted = calibration_curve(y, proba, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, marker="o", color=OKABE_ITO["blue"], label="modèle retenu (déciles)")
    top = max(predicted.max(), observed.max()) * 1.05
    ax.plot([0, top], [0, top], color=OKABE_ITO["black"], linestyle=":", label="calibration parfaite")
    return _finish(fig, ax, "probabilité de défaut prédite", "taux de défaut observé",
                   f"Calibration (score de Brier {french_number(brier, 4)})", "upper left", "calibration")


def confusion_figure(s) -> Path:
    fig, ax = new_figure(6.4, 4.6)
    cells = np.array([[s.tn, s.fp], [s.fn, s.tp]])
    ax.imshow(cells, cmap="Blues")
    ax.grid(False)
    labels = [["accordés, remboursent\n(vrais négatifs)", "refusés, auraient remboursé\n(faux positifs)"],
              ["accordés, font défaut\n(faux négatifs)", "refusés, auraient fait défaut\n(vrais positifs)"]]
    for i in range(2):
        for j in range(2):
            dark = cells[i, j] > cells.max() / 2
            ax.text(j, i, f"{french_number(cells[i, j], 0)}\n{labels[i][j]}", ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xticks([0, 1], ["accordé", "refusé"])
    ax.set_yticks([0, 1], ["rembourse", "défaut"])
    ax.set_xlabel("décision du modèle")
    ax.set_ylabel("réalité")
    ax.set_title(f"Matrice de confusion au seuil {french_number(s.threshold, 3)}")
    return save(fig, figure("confusion_matrix"))


SENSITIVITY_WIDTH = 4.0
"""Inches. The note prints figures about 8 cm (3.15 in) wide, a scale of 0.79: the smallest text here (9 pt)
prints at 7 pt."""


def sensitivity_figure(sensitivity: pd.DataFrame, chosen_ratio: float) -> Path:
    """The refusal rate (top) and the cost-optimal threshold (bottom) for each FN:FP ratio of the sensitivity
    table (`credit_scoring.modeling.uncertainty.cost_ratio_sensitivity`), ratios on a log scale, the chosen one
    marked."""
    fig, _ = new_figure(SENSITIVITY_WIDTH, 4.6)  # the house style, then two panels in its place
    fig.clear()
    top, bottom = fig.subplots(2, 1, sharex=True)
    ratios = sensitivity["rapport_fn_fp"].to_numpy(dtype=float)
    chosen = np.isclose(ratios, chosen_ratio)
    panels = ((top, sensitivity["taux_de_refus"].to_numpy(), "taux de refus", lambda v: french_percent(v, 1),
               OKABE_ITO["blue"], "o"),
              (bottom, sensitivity["seuil"].to_numpy(), "seuil de refus", lambda v: french_number(v, 3),
               OKABE_ITO["orange"], "s"))
    for ax, values, ylabel, label, colour, marker in panels:
        ax.plot(ratios, values, color=colour, marker=marker, markersize=6, linestyle="-")
        ax.plot(ratios[chosen], values[chosen], marker=marker, markersize=11, linestyle="none",
                markerfacecolor="none", markeredgecolor=OKABE_ITO["vermillion"], markeredgewidth=2)
        for x, v, is_chosen in zip(ratios, values, chosen, strict=True):
            ax.annotate(label(v), (x, v), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=9,
                        fontweight="bold" if is_chosen else "normal")
        ax.axvline(chosen_ratio, color=OKABE_ITO["vermillion"], linestyle=":", linewidth=1.2)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, values.max() * 1.35)
        ax.tick_params(labelsize=9)
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: french_percent(v, 0)))
    french_axis(bottom, "y", decimals=2)
    bottom.set_xscale("log")
    bottom.xaxis.set_major_locator(FixedLocator(ratios))
    bottom.xaxis.set_minor_locator(NullLocator())
    bottom.xaxis.set_major_formatter(FuncFormatter(lambda v, _: french_number(v, 0)))
    bottom.set_xlim(ratios.min() / 1.4, ratios.max() * 1.4)
    bottom.set_xlabel(f"rapport de coûts FN:FP (retenu\u00a0: {french_number(chosen_ratio, 0)})")
    top.set_title("Refus et seuil selon le rapport de coûts")
    return save(fig, figure("cost_ratio_sensitivity"))


def threshold_figures(oof: pd.DataFrame, table: pd.DataFrame, cost: dict, y_holdout, proba, oracle_proba,
                      holdout_scores, brier: float, sensitivity: pd.DataFrame) -> list[Path]:
    """Every figure of the stage, in the order they are logged."""
    return [cost_figure(oof["TARGET"], oof["proba"], table, cost), roc_figure(y_holdout, proba, oracle_proba),
            precision_recall_figure(y_holdout, proba), calibration_figure(y_holdout, proba, brier),
            confusion_figure(holdout_scores), sensitivity_figure(sensitivity, cost["fn"] / cost["fp"])]
