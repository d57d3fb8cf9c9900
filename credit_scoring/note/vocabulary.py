"""The note's vocabulary: model and strategy names in French, number formats, and the words
a sentence picks from the numbers (an interval that holds zero is "dans le bruit")."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from datetime import UTC, date, datetime

from credit_scoring.common.formatting import NARROW_NBSP, french_number, french_percent

GENERATED = "_generated"  # in note_methodologique/: what this module writes, what the note reads
VALUES_FILE = "valeurs.yml"
IMPORTANCE_ROWS = 5  # information families in the note's global-importance table
SUMMARY_DRIVERS = 3  # information families the executive summary names
EDGE = 0.05  # a best value this close to an end of its range (share of the range, on its scale) sits on the edge
NBSP = "\u00a0"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")

MODEL_NAMES = {
    "dummy_prior": "Classifieur naïf (a priori)",
    "logistic_regression": "Régression logistique",
    "hist_gradient_boosting": "HistGradientBoosting",
    "lightgbm": "LightGBM",
}
STRATEGY_NAMES = {
    "none": "aucune",
    "class_weight": "pondération des classes",
    "undersample": "sous-échantillonnage",
    "smote": "SMOTE",
}
ATTRIBUTE_NAMES = {"sexe": "sexe", "age": "âge"}
KIND_NAMES = {"numerical": "numérique", "categorical": "catégorielle"}
DRIFT_SCOPES = {"application": "demande", "watched": "variables du modèle", "score": "score"}
PROTECTED_NAMES = {"CODE_GENDER": "le sexe"}  # the raw columns the model may not read, as the note names them
SCALES = {"log": "log.", "int_log": "entier, log.", "float": "linéaire", "int": "entier"}
HYPERPARAMETERS = {  # what each searched hyper-parameter does, in the note's words
    "learning_rate": "taux d’apprentissage",
    "num_leaves": "feuilles par arbre",
    "max_leaf_nodes": "feuilles par arbre",
    "min_child_samples": "clients par feuille (min.)",
    "min_samples_leaf": "clients par feuille (min.)",
    "colsample_bytree": "part des variables par arbre",
    "max_features": "part des variables par division",
    "subsample": "part des clients par arbre",
    "reg_lambda": "pénalité L2",
    "l2_regularization": "pénalité L2",
}


# --------------------------------------------------------------------------------------------------------
# Formatting: one place decides how each kind of number reads in the note (the test reads them back).
# --------------------------------------------------------------------------------------------------------
def score(x: float) -> str:
    """AUC, cost per client, threshold, F1, PSI: three decimals, decimal comma (0.7797 -> '0,780')."""
    return french_number(x, 3)


def count(n: float) -> str:
    """A number of clients, rows or features (80000 -> '80 000', narrow no-break space)."""
    return french_number(n, 0)


def share(x: float, decimals: int = 1) -> str:
    """A rate or share as a percentage (0.0809 -> '8,1 %')."""
    return french_percent(x, decimals)


def signed(x: float) -> str:
    """A small difference of AUC or cost, four decimals and its sign always written (0.00193 -> '+0,0019',
    -0.0004 -> '−0,0004')."""
    return ("+" if x >= 0 else "\u2212") + french_number(abs(x), 4)


def seconds(x: float) -> str:
    return french_number(x, 1)


def brier(x: float) -> str:
    """A Brier score: four decimals, its differences live in the third."""
    return french_number(x, 4)


def interval(pair, fmt: Callable[[float], str] = score) -> str:
    """A 95 % interval as French prints it, never split across lines ([0.765, 0.791] -> '[0,765 ; 0,791]')."""
    low, high = pair
    return f"[{fmt(low)}{NARROW_NBSP};{NBSP}{fmt(high)}]"


def hyperparameter(x: float) -> str:
    """A hyper-parameter value: integers as counts, floats to three significant digits (0.0335 -> '0,0335',
    70.72 -> '70,7', 1000.0 -> '1 000')."""
    if float(x).is_integer() and abs(x) >= 1:
        return count(x)
    decimals = max(0, 2 - math.floor(math.log10(abs(x)))) if x else 0
    return french_number(x, decimals).rstrip("0").rstrip(",") if decimals else french_number(x, 0)


def yes_no(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


def french_date(day: date) -> str:
    """2026-11-30 -> '30 novembre 2026'; the first of a month is written « 1er »."""
    return f"{'1er' if day.day == 1 else day.day}{NBSP}{MONTHS[day.month - 1]} {day.year}"


def render_date() -> date:
    """The note's date: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else today (UTC)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), UTC).date() if epoch else datetime.now(UTC).date()


# --------------------------------------------------------------------------------------------------------
# Words picked from numbers.
# --------------------------------------------------------------------------------------------------------
def verdict(pair, higher_is_better: bool) -> str:
    """'better', 'worse' or 'noise': where a 95 % interval of a difference (first minus second) lies against
    zero, for a measure where higher (AUC) or lower (cost) is better."""
    low, high = pair
    if low <= 0 <= high:
        return "noise"
    return "better" if (low > 0) == higher_is_better else "worse"


def difference_words(pair, higher_is_better: bool, first: str, second: str) -> str:
    """How the note reads an interval of a difference between ``first`` and ``second``."""
    return {"noise": "dans le bruit (l’intervalle contient zéro)",
            "better": f"nettement en faveur {first}",
            "worse": f"nettement en faveur {second}"}[verdict(pair, higher_is_better)]


def at_edge(value: float, kind: str, low: float, high: float, tolerance: float = EDGE) -> bool:
    """Whether ``value`` sits within ``tolerance`` of either end of [low, high], measured on the range's own
    scale (log for log ranges): a best value there says the range should have been wider."""
    if kind in ("log", "int_log"):
        value, low, high = math.log(value), math.log(low), math.log(high)
    position = (value - low) / (high - low)
    return position <= tolerance or position >= 1 - tolerance


