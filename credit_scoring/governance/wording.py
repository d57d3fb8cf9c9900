"""The drift summary in French words: how strong a PSI is, which columns moved and how, what the score's
drift does to the refusals, and the conclusion the note and the monitoring report quote."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from credit_scoring.common.formatting import french_list, french_number, french_percent
from credit_scoring.governance.stability import bin_shares

if TYPE_CHECKING:
    from credit_scoring.governance.stability import DriftSettings

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
             f"soit {french_percent(len(flagged) / n, 1)}."),
            f"Dérives mesurées par le PSI — {flagged_by_psi(table)}.",
        ]
        for r in flagged[flagged["kind"] == "categorical"].sort_values("psi", ascending=False).itertuples():
            label, before, after = main_category_move(reference[r.feature], current[r.feature])
            parts.append(f"Pour {r.feature}, la part de « {label} » passe de {french_percent(before, 1)} "
                         f"à {french_percent(after, 1)}.")
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
        f"refusés au seuil de {french_number(score['threshold'], 3)} passe de "
        f"{french_percent(refused['reference'], 1)} "
        f"à {french_percent(refused['current'], 1)}."
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
