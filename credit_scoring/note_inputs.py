"""What the methodological note quotes, from the files the other stages wrote (the note stage).

Nothing in the note is typed by hand: every value it quotes is read from ``reports/`` (and the cost, search and
monitoring settings of params.yaml), French formatted, and written to ``note_methodologique/_generated/valeurs.yml``;
every table to ``note_methodologique/_generated/*.md``. `credit_scoring.note_render` then renders the note.

Every sentence whose conclusion depends on the numbers picks its words here, from the numbers (an interval that
holds zero is "dans le bruit", one that does not is "nettement" in favour of one side), so the note stays true
when a run changes them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from credit_scoring.formatting import NARROW_NBSP, french_number, french_percent
from credit_scoring.interpretation import EBM_ROW
from credit_scoring.labels import APPLICATION_CATEGORIES, BINARY_LABELS, feature_labels
from credit_scoring.params import load_params
from credit_scoring.paths import NOTE, PARAMS, metrics, plot, table
from credit_scoring.tuning import refined_space

GENERATED = "_generated"  # in note_methodologique/: what this module writes, what the note reads
VALUES_FILE = "valeurs.yml"
IMPORTANCE_ROWS = 6  # features in the note's global-importance table
SUMMARY_DRIVERS = 3  # features the executive summary names
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


def listing(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b et c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


# --------------------------------------------------------------------------------------------------------
# Reading the reports.
# --------------------------------------------------------------------------------------------------------
@dataclass
class Reports:
    metrics: dict[str, dict]
    baseline: pd.DataFrame
    trials: pd.DataFrame
    thresholds: pd.DataFrame
    importance: pd.DataFrame
    ebm: pd.DataFrame
    fairness: pd.DataFrame
    drift: pd.DataFrame
    sensitivity: pd.DataFrame
    calibration: pd.DataFrame


METRIC_FILES = ("prepare", "featurize", "baseline", "tune", "threshold", "explain", "fairness", "drift")
TABLE_FILES = {"baseline": "baseline", "trials": "tune_trials", "thresholds": "thresholds",
               "importance": "shap_importance", "ebm": "ebm_vs_champion", "fairness": "fairness", "drift": "drift_psi",
               "sensitivity": "cost_ratio_sensitivity"}
REQUIRED_KEYS = {  # what this note quotes that older runs did not write: a clear error, never a silent gap
    "threshold": ("intervals.holdout_auc", "intervals.holdout_cost_per_client", "intervals.baseline",
                  "intervals.champion_minus_baseline", "intervals.fold_spread", "intervals.brier_prior",
                  "variants"),
    "explain": ("ebm_intervals", "model_version"),
    "tune": ("choice", "finished_trials", "cv_cost_fold_sd", "coarse_best"),
    "fairness": ("sexe", "age"),
    "drift": ("watched_features", "score"),
}


def dig(data: dict, path: str, source: str):
    """``data[a][b]…`` for ``path`` 'a.b…'; a missing key names the file and the stage to rerun."""
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"{source} has no `{path}`: the note needs it; rerun the stage that writes "
                           f"{source} (`dvc repro`)")
        node = node[part]
    return node


def read_reports(root: Path) -> Reports:
    """Every report the note quotes, from the project at ``root``; a missing one names the stage to run."""
    missing = [p for p in [root / metrics(m) for m in METRIC_FILES] + [root / table(t) for t in TABLE_FILES.values()]
               + [root / plot("calibration")] if not p.exists()]
    if missing:
        raise FileNotFoundError("the note needs reports that are missing (run `dvc repro` first): "
                                + ", ".join(str(p) for p in missing))
    read = {m: json.loads((root / metrics(m)).read_text()) for m in METRIC_FILES}
    for name, keys in REQUIRED_KEYS.items():
        for key in keys:
            dig(read[name], key, str(metrics(name)))
    tables = {k: pd.read_csv(root / table(t)) for k, t in TABLE_FILES.items()}
    return Reports(metrics=read, **tables, calibration=pd.read_csv(root / plot("calibration")))


def best_trial(trials: pd.DataFrame, phase: str, algorithm: str) -> pd.Series:
    """The completed trial of lowest cost in one phase of the search for one algorithm."""
    done = trials[(trials["phase"] == phase) & (trials["algorithm"] == algorithm) & (trials["state"] == "COMPLETE")]
    if done.empty:
        raise ValueError(f"reports/tables/tune_trials.csv has no completed {phase} trial of {algorithm}")
    return done.sort_values("value").iloc[0]


def column_label(name: str, labels: dict) -> str:
    """The French label of a feature or raw application column (the note never prints a raw column name)."""
    if name in labels:
        return labels[name].label
    if name in APPLICATION_CATEGORIES:
        return APPLICATION_CATEGORIES[name]
    if name in PROTECTED_NAMES:
        return PROTECTED_NAMES[name].removeprefix("le ").capitalize()
    if name in BINARY_LABELS:
        return BINARY_LABELS[name][0]
    raise KeyError(f"no French label for {name}: add it to credit_scoring/labels_fr.json")


# --------------------------------------------------------------------------------------------------------
# The values the text quotes.
# --------------------------------------------------------------------------------------------------------
def data_values(prep: dict, feat: dict, params: dict) -> dict:
    """Where the data come from and how large they are (prepare and featurize metrics)."""
    synthetic = prep["source"] == "synthetic"
    n_train = prep["rows"]["application_train"]
    history_rows = sum(v for k, v in prep["rows"].items() if not k.startswith("application"))
    return {
        "phrase": yes_no(
            synthetic,
            "Les données sont synthétiques : un générateur fidèle aux huit fichiers Kaggle « Home Credit Default "
            "Risk » (mêmes colonnes, catégories, valeurs manquantes, sentinelles, relations entre tables, dérive "
            "entre apprentissage et test, montants ronds, corrélations entre colonnes et force de chaque variable "
            "mesurées sur des lignes réelles) tire pour chaque client une probabilité vraie de défaut, puis le "
            "défaut lui-même. Aucun modèle ne lit cette probabilité cachée ; elle donne l’*oracle*, ce que le "
            "meilleur modèle possible obtiendrait sur ces données.",
            "Les données sont les huit fichiers réels de la compétition Kaggle « Home Credit Default Risk ».",
        ),
        "nature": yes_no(synthetic, "synthétiques", "réelles (Kaggle)"),
        "clients": count(n_train),
        "clients_test": count(prep["rows"]["application_test"]),
        "clients_apprentissage": count(n_train - prep["holdout_clients"]),
        "clients_validation": count(prep["holdout_clients"]),
        "part_validation": share(prep["holdout_clients"] / n_train, 0),
        "taux_defaut": share(prep["target_rate"]),
        "lignes_historique": count(history_rows),
        "part_bureau": share(prep["history_coverage"]["bureau"], 0),
        "part_demandes": share(prep["history_coverage"]["previous_application"], 0),
        "part_carte": share(prep["history_coverage"]["credit_card_balance"], 0),
        "variables": count(feat["features"]),
        "variables_suspectes": count(feat["suspicious_features"]),
        "seuil_suspect": french_number(params["featurize"]["suspicious_auc"], 2),
    }


def baseline_values(r: Reports) -> dict:
    """The best logistic regression and the naive classifier."""
    base_lr = r.baseline[r.baseline["model"] == "logistic_regression"].sort_values("cost_per_client").iloc[0]
    return {
        "strategie": STRATEGY_NAMES[base_lr["strategy"]],
        "auc": score(base_lr["auc"]),
        "cout": score(base_lr["cost_per_client"]),
        "seuil": score(base_lr["threshold"]),
        "naif_cout": score(r.baseline.loc[r.baseline["model"] == "dummy_prior", "cost_per_client"].min()),
    }


def choice_sentence(tune: dict) -> str:
    """How the coarse search chose the algorithm, with the uncertainty of the comparison and the rule."""
    choice, best = tune["choice"], tune["coarse_best"]
    chosen, lowest, preferred = choice["chosen"], choice["lowest_cost"], choice["preferred"]
    rival = next((a for a in best if a != lowest), lowest)
    lead = best[rival]["cv_cost_per_client"] - best[lowest]["cv_cost_per_client"]
    costs = (f"{MODEL_NAMES[lowest]} a le coût hors pli le plus bas, {score(best[lowest]['cv_cost_per_client'])} contre "
             f"{score(best[rival]['cv_cost_per_client'])} pour {MODEL_NAMES[rival]} (AUC de "
             f"{score(best[lowest]['cv_auc'])} contre {score(best[rival]['cv_auc'])})")
    sds = listing([f"{score(best[a]['cv_cost_fold_sd'])} pour {MODEL_NAMES[a]}" for a in best])
    if lowest == preferred:
        below = lead < min(best[a]["cv_cost_fold_sd"] for a in best)
        return (f"{costs} ; son avance de {signed(lead)} est {'inférieure' if below else 'supérieure'} à l’écart "
                f"type du coût d’un pli à l’autre ({sds}). Premier de la liste, il est retenu.")
    gap, se = signed(choice["gap"]), french_number(choice["gap_se"], 4)
    if choice["within_noise"]:
        return (f"{costs}, mais son avance de {gap} est inférieure à l’erreur type des différences appariées "
                f"par pli ({se}) : dans le bruit, {MODEL_NAMES[chosen]}, premier de la liste, est gardé.")
    return (f"{costs} et son avance de {gap} dépasse l’erreur type des différences appariées par pli ({se}) : "
            f"{MODEL_NAMES[chosen]} est retenu.")


def search_edges(tune: dict, spaces: dict) -> list[str]:
    """The hyper-parameters whose retained value sits on an edge of its wide range."""
    space = spaces[tune["algorithm"]]  # the learning rate is fixed, not searched: it has no edge
    return [name for name, value in tune["params"].items() if name in space and at_edge(value, *space[name])]


def tune_values(tune: dict, base: dict, search: dict) -> dict:
    """The search (``search``: params.yaml's tune section) and its choice, against the best baseline."""
    finished = tune["finished_trials"]
    coarse = [f"{count(finished[f'coarse_{a}'])} pour {MODEL_NAMES[a]}" for a in search["algorithms"]]
    edges = search_edges(tune, search["spaces"])
    return {
        "essais_grossiers": count(search["coarse_trials"]),
        "essais_challenger": count(search["challenger_coarse_trials"]),
        "essais_complets": count(search["pruner_startup_trials"]),
        "termines_grossiers": listing(coarse),
        "termines_affines": count(finished[f"refined_{tune['algorithm']}"]),
        "part_grossiere": share(search["coarse_sample"], 0),
        "essais_affines": count(tune["refined_trials"]),
        "essais_elagues": count(tune["pruned_trials"]),
        "algorithme": MODEL_NAMES[tune["algorithm"]],
        "algorithmes": " et ".join(MODEL_NAMES[a] for a in search["algorithms"]),
        "premier": MODEL_NAMES[search["algorithms"][0]],
        "choix": choice_sentence(tune),
        "tours": count(tune["rounds"]),
        "tours_max": count(search["max_rounds"]),
        "arret_precoce": count(search["early_stopping_rounds"]),
        "cout": score(tune["cv_cost_per_client"]),
        "ecart_type": score(tune["cv_cost_fold_sd"]),
        "auc": score(tune["cv_auc"]),
        "ecart_reference": "{} de {}".format(
            yes_no(tune["cv_cost_per_client"] <= base["best_cv_cost_per_client"], "inférieur", "supérieur"),
            share(abs(1 - tune["cv_cost_per_client"] / base["best_cv_cost_per_client"]))),
        "tolerance_bord": share(EDGE, 0),
        "bords": ("aucune valeur retenue n’est au bord de son intervalle large" if not edges else
                  f"{listing([f'« {HYPERPARAMETERS[e]} »' for e in edges])} "
                  f"{'restent' if len(edges) > 1 else 'reste'} au bord de l’intervalle large, à élargir de ce côté "
                  f"au prochain passage"),
        "facteur_affine": french_number(search["refine_factor"], 0),
        "taux_large": hyperparameter(search["coarse_learning_rate"]),
        "taux_affine": hyperparameter(search["refined_learning_rate"]),
        "taux_final": hyperparameter(search["final_learning_rate"]),
        "largeur_affinee": share(search["refine_width"], 0),
    }


def cost_values(cost: dict, prep: dict, thr: dict, sensitivity: pd.DataFrame) -> dict:
    """The business cost, the compared thresholds' out-of-fold costs, and how the decision moves with the
    cost ratio (the refusal rate as a trade-off: good clients refused per default avoided)."""
    ratio = cost["fn"] / cost["fp"]
    rows = sensitivity.sort_values("rapport_fn_fp")
    chosen = rows[rows["rapport_fn_fp"].sub(ratio).abs() < 1e-9]
    if chosen.empty:
        raise ValueError(f"reports/tables/cost_ratio_sensitivity.csv has no row for the chosen ratio {ratio:g}")
    chosen = chosen.iloc[0]
    low, high = rows.iloc[0], rows.iloc[-1]
    precision = thr["holdout_precision"]
    return {
        "fn": count(cost["fn"]),
        "fp": count(cost["fp"]),
        "rapport": count(ratio),
        "seuil_theorique": score(cost["fp"] / (cost["fp"] + cost["fn"])),
        "exactitude_naive": share(1 - prep["target_rate"]),
        "seuil": score(thr["threshold"]),
        "seuil_f1": score(thr["f1_threshold"]),
        "cout_seuil": score(thr["oof_cost_at_threshold"]),
        "cout_f1": score(thr["oof_cost_at_f1_threshold"]),
        "cout_05": score(thr["oof_cost_at_0_5"]),
        "refus": share(chosen["taux_de_refus"]),
        "bons_par_defaut": french_number((1 - precision) / precision, 1),
        "prix": yes_no((1 - precision) / precision < ratio,
                       f"moins que les {count(ratio)} que vaut un défaut : un prix rentable en moyenne",
                       f"au moins les {count(ratio)} que vaut un défaut : un prix que la moyenne ne couvre pas"),
        "rapport_bas": count(low["rapport_fn_fp"]),
        "rapport_haut": count(high["rapport_fn_fp"]),
        "refus_bas": share(low["taux_de_refus"]),
        "refus_haut": share(high["taux_de_refus"]),
        "seuil_bas": score(low["seuil"]),
        "seuil_haut": score(high["seuil"]),
        "rappel_bas": share(low["rappel"]),
        "rappel_haut": share(high["rappel"]),
    }


def calibration_gap(points: pd.DataFrame) -> dict:
    """The decile (reports/plots/calibration.csv) where the observed default rate is farthest from the predicted
    probability: what the calibration figure would show at worst."""
    gaps = points["taux_de_defaut_observe"] - points["probabilite_predite"]
    worst = gaps.abs().idxmax()
    points_gap = 100 * abs(gaps[worst])
    return {"ecart_calibration": french_number(points_gap, 1),
            "pluriel_calibration": "s" if round(points_gap, 1) >= 2 else "",  # French: 1,5 point, 2 points
            "sens_calibration": "au-dessus" if gaps[worst] > 0 else "en dessous",
            "decile_calibration": share(points.loc[worst, "probabilite_predite"])}


def validation_values(thr: dict, tune: dict) -> dict:
    """The champion on the holdout, with its intervals, the best baseline beside it, and how the holdout
    reads against the out-of-fold estimate and the prior's Brier score."""
    iv = thr["intervals"]
    base, diff, folds = iv["baseline"], iv["champion_minus_baseline"], iv["fold_spread"]
    oof = tune["cv_cost_per_client"]
    low, high = iv["holdout_cost_per_client"]
    skill = 1 - thr["holdout_brier"] / iv["brier_prior"]
    model, strategy = base["model"].split("/")
    return {
        "auc": score(thr["holdout_auc"]),
        "auc_ic": interval(iv["holdout_auc"]),
        "cout": score(thr["holdout_cost_per_client"]),
        "cout_ic": interval(iv["holdout_cost_per_client"]),
        "niveau": share(iv["level"], 0),
        "tirages": count(iv["resamples"]),
        "seuil": score(thr["threshold"]),
        "exactitude": share(thr["holdout_accuracy"]),
        "rappel": share(thr["holdout_recall"]),
        "precision": share(thr["holdout_precision"]),
        "f1": score(thr["holdout_f1"]),
        "brier": brier(thr["holdout_brier"]),
        "brier_prior": brier(iv["brier_prior"]),
        "brier_phrase": yes_no(skill > 0, f"le modèle réduit l’erreur quadratique de {share(skill)}",
                               "le modèle ne fait pas mieux que la probabilité a priori"),
        "clients": count(thr["holdout_clients"]),
        "reference": f"{MODEL_NAMES[model].lower()} ({STRATEGY_NAMES[strategy]} correction du déséquilibre)"
                     if strategy != "none" else MODEL_NAMES[model].lower(),
        "reference_auc": score(base["holdout_auc"]),
        "reference_auc_ic": interval(base["holdout_auc_interval"]),
        "reference_cout": score(base["holdout_cost_per_client"]),
        "reference_cout_ic": interval(base["holdout_cost_interval"]),
        "ecart_auc_ic": interval(diff["holdout_auc"], signed),
        "ecart_cout_ic": interval(diff["holdout_cost_per_client"], signed),
        "ecart_auc_mots": difference_words(diff["holdout_auc"], True, "du modèle retenu", "de la référence"),
        "ecart_cout_mots": difference_words(diff["holdout_cost_per_client"], False, "du modèle retenu",
                                            "de la référence"),
        "largeur_cout": score(high - low),
        "cout_hors_pli": score(oof),
        "hors_pli_phrase": yes_no(
            low <= oof <= high,
            f"le coût hors pli ({score(oof)}) est dans l’intervalle de la validation finale : l’écart entre les "
            f"deux est du bruit d’échantillonnage",
            f"le coût hors pli ({score(oof)}) est hors de l’intervalle de la validation finale : l’écart dépasse "
            f"le bruit d’échantillonnage et l’estimation hors pli est optimiste"),
        "pli_cout_min": score(folds["champion"]["cv_cost_per_client"]["min"]),
        "pli_cout_max": score(folds["champion"]["cv_cost_per_client"]["max"]),
        "pli_cout_sd": score(folds["champion"]["cv_cost_per_client"]["sd"]),
        "pli_auc_min": score(folds["champion"]["cv_auc"]["min"]),
        "pli_auc_max": score(folds["champion"]["cv_auc"]["max"]),
        "pli_ref_cout_min": score(folds["baseline"]["cv_cost_per_client"]["min"]),
        "pli_ref_cout_max": score(folds["baseline"]["cv_cost_per_client"]["max"]),
    }


def glass_box_conclusion(auc_verdict: str, cost_verdict: str, n: str, champion_n: str) -> str:
    """What the EBM's place against the champion (verdicts of EBM minus champion, `verdict`) means for the
    explanation given to clients and for the choice of the served model."""
    if cost_verdict == "worse":
        return ("L’EBM coûte nettement plus que le modèle retenu : la complexité de celui-ci se paie ; il reste le "
                "modèle servi, et l’EBM sert de contrôle de ses effets.")
    level = "fait mieux que" if cost_verdict == "better" else "fait jeu égal avec"
    auc = {"worse": ", même si son AUC est nettement plus basse", "better": " et son AUC est nettement plus haute",
           "noise": ""}[auc_verdict]
    return (f"Au coût, critère de décision, une boîte de verre de {n} variables {level} le modèle retenu{auc} : "
            f"chaque motif de refus pourrait se lire sur une fonction de forme exacte plutôt que sur une "
            f"contribution SHAP calculée après coup, avec {n} variables à collecter et surveiller au lieu de "
            f"{champion_n}. Le modèle servi reste celui que la règle fixée à l’avance a retenu (SHAP exacts, montants "
            f"monotones sur lesquels reposent les propositions aux clients refusés) ; l’EBM, contraint de même, est "
            f"le premier candidat à le remplacer.")


def explanation_values(r: Reports, params: dict) -> dict:
    """SHAP, and the EBM beside the champion: what a glass box within noise of the champion means."""
    expl = r.metrics["explain"]
    ebm = r.ebm.set_index("id").loc[EBM_ROW]
    champion_features = r.ebm.set_index("id").drop(index=EBM_ROW)["variables"].iloc[0]
    iv = expl["ebm_intervals"]
    n = count(ebm["variables"])
    return {
        "clients": count(expl["shap_clients"]),
        "premiere": r.importance.iloc[0]["libelle"],
        "moteurs": listing([f"« {x} »" for x in r.importance.nsmallest(SUMMARY_DRIVERS, "rang")["libelle"]]),
        "ebm_variables": n,
        "variables_modele": count(champion_features),
        "ebm_auc": score(ebm["auc_validation"]),
        "ebm_auc_ic": interval(iv["holdout_auc"]),
        "ebm_cout": score(ebm["cout_par_client_validation"]),
        "ebm_cout_ic": interval(iv["holdout_cost_per_client"]),
        "ebm_ecart_auc_ic": interval(iv["ebm_minus_champion_auc"], signed),
        "ebm_ecart_cout_ic": interval(iv["ebm_minus_champion_cost"], signed),
        "ebm_ecart_auc_mots": difference_words(iv["ebm_minus_champion_auc"], True, "de l’EBM", "du modèle retenu"),
        "ebm_ecart_cout_mots": difference_words(iv["ebm_minus_champion_cost"], False, "de l’EBM",
                                                "du modèle retenu"),
        "ebm_conclusion": glass_box_conclusion(verdict(iv["ebm_minus_champion_auc"], True),
                                               verdict(iv["ebm_minus_champion_cost"], False), n,
                                               count(champion_features)),
        "ebm_seuil": score(ebm["seuil"]),
        "version": str(expl["model_version"]),
        "raisons": count(params["explain"]["reasons"]["max"]),
    }


def fairness_values(fair: dict, thr: dict) -> dict:
    """Approval and default rates by age and sex, the four-fifths rule as a US reference, and what excluding
    sex and constraining the amounts cost (the threshold stage's variants) against the holdout's noise."""
    ages = fair["age"]["groups"]
    sexes = fair["sexe"]["groups"]
    variants = thr["variants"]
    half_width = (thr["intervals"]["holdout_auc"][1] - thr["intervals"]["holdout_auc"][0]) / 2
    cost_half_width = (thr["intervals"]["holdout_cost_per_client"][1] - thr["intervals"]["holdout_cost_per_client"][0]) / 2
    widths = (f"les demi-largeurs des intervalles de la validation finale ({french_number(half_width, 4)} pour "
              f"l’AUC, {french_number(cost_half_width, 4)} pour le coût)")
    lowest_age = min(ages, key=lambda g: ages[g]["approval_rate"])
    highest_age = max(ages, key=lambda g: ages[g]["approval_rate"])
    sex_gain = variants["with_protected"]["auc_given_up"]
    return {
        "ratio_age": french_number(fair["age"]["disparate_impact_ratio"], 2),
        "ratio_sexe": french_number(fair["sexe"]["disparate_impact_ratio"], 2),
        "regle": french_number(fair["four_fifths"], 1),
        "age_respecte": yes_no(fair["age"]["four_fifths_rule_met"], "l’atteint", "ne l’atteint pas"),
        "sexe_respecte": yes_no(fair["sexe"]["four_fifths_rule_met"], "l’atteint", "ne l’atteint pas"),
        "age_bas": lowest_age,
        "age_bas_accord": share(ages[lowest_age]["approval_rate"], 0),
        "age_haut": highest_age,
        "age_haut_accord": share(ages[highest_age]["approval_rate"], 0),
        "exclues": listing([PROTECTED_NAMES.get(c, c) for c in fair["exclude_protected"]]) or "aucune variable",
        "sens_ecart": yes_no(
            (sexes["femmes"]["approval_rate"] > sexes["hommes"]["approval_rate"])
            == (sexes["femmes"]["default_rate"] < sexes["hommes"]["default_rate"]),
            "l’écart va dans le sens du risque observé, que portent d’autres variables",
            "l’écart va à rebours du risque observé : à examiner en priorité"),
        "accord_femmes": share(sexes["femmes"]["approval_rate"], 0),
        "accord_hommes": share(sexes["hommes"]["approval_rate"], 0),
        "defaut_femmes": share(sexes["femmes"]["default_rate"]),
        "defaut_hommes": share(sexes["hommes"]["default_rate"]),
        "age_bas_defaut": share(ages[lowest_age]["default_rate"]),
        "age_haut_defaut": share(ages[highest_age]["default_rate"]),
        "sexe_auc": signed(sex_gain),
        "sexe_cout": signed(-variants["with_protected"]["cost_added"]),
        "sexe_bruit": yes_no(
            abs(sex_gain) < half_width and abs(variants["with_protected"]["cost_added"]) < cost_half_width,
            f"deux écarts plus petits que {widths} : l’exclusion ne coûte rien de mesurable",
            f"au moins un écart plus grand que {widths} : l’exclusion a un coût mesurable, accepté"),
        "monotone_auc": signed(variants["unconstrained"]["auc_given_up"]),
        "monotone_cout": signed(-variants["unconstrained"]["cost_added"]),
    }


def watched_phrase(flagged: list[str], watched: str, labels: dict) -> str:
    """Which of the model's most influential features drift (evidently or PSI), by their labels."""
    if not flagged:
        return f"aucune des {watched} variables les plus influentes ne dérive"
    plural = len(flagged) > 1
    return (f"parmi les {watched} variables les plus influentes, seule{'s' if plural else ''} "
            f"{listing([f'« {column_label(f, labels)} »' for f in flagged])} dépasse{'nt' if plural else ''} "
            f"un seuil")


def drift_values(drift: dict, synthetic: bool, monitor: dict, labels: dict) -> dict:
    """The drift between the training and the test applications, of the raw columns, of the model's most
    influential features and of its score, and the production alerts (params.yaml's monitor section)."""
    watched, score_drift, everything = drift["watched_features"], drift["score"], drift["all_columns"]
    flagged = [f for f, d in watched["per_feature"].items() if d["drifted"] or d["psi_drifted"]]
    refused = score_drift["refused_share"]
    return {
        "colonnes": count(everything["columns"]),
        "colonnes_derivent": count(everything["drifted_columns"]),
        "colonnes_psi": count(everything["psi_drifted_columns"]),
        "seuil_psi": french_number(drift["settings"]["psi_threshold"], 2),
        "echantillon": count(drift["rows_compared_by_evidently"]["reference"]),
        "regle_numerique": drift["rules_fr"]["numerical"],
        "regle_categorielle": drift["rules_fr"]["categorical"],
        "suivies": count(watched["columns"]),
        "suivies_phrase": watched_phrase(flagged, count(watched["columns"]), labels),
        "score_phrase": yes_no(
            score_drift["drifted"] or score_drift["psi_drifted"],
            f"la distribution du score dérive (PSI de {score(score_drift['psi'])})",
            f"la distribution du score ne dérive pas (PSI de {score(score_drift['psi'])})"),
        "portee": ("La dérive touche des variables secondaires pour le modèle : ni ses variables les plus influentes "
                   "(selon evidently) ni son score ne dérivent."
                   if watched["drifted_columns"] == 0 and not score_drift["drifted"] else
                   "La dérive atteint le modèle lui-même : à surveiller de près, un réapprentissage est à envisager."),
        "score_reference": count(score_drift["rows"]["reference"]),
        "refus_reference": share(refused["reference"]),
        "refus_test": share(refused["current"]),
        "origine": yes_no(
            synthetic,
            "Cette dérive est voulue : le générateur tire les clients de test d’après les distributions du vrai "
            "fichier de test de Kaggle, qui diffère de celui d’apprentissage ; la mesurer vérifie que les outils "
            "la trouvent là où elle est.",
            "Sur données réelles, cette dérive est celle des fichiers de Kaggle."),
        "alerte_psi": french_number(monitor["psi_alert"], 2),
        "alerte_part": share(monitor["drift_share_alert"], 0),
        "fenetre": count(monitor["window_events"]),
        "alpha": share(monitor["alpha"], 0),
        "issues_min": count(monitor["min_outcomes"]),
        "revision_bas": share(monitor["override_band"][0], 0),
        "revision_haut": share(monitor["override_band"][1], 0),
    }


def summary_values(thr: dict, expl: dict, today: date) -> dict:
    """The executive summary's line of identity: date and served model version."""
    return {"date": french_date(today), "version": str(expl["model_version"]),
            "algorithme": MODEL_NAMES[thr["algorithm"]]}


def note_values(r: Reports, params: dict, today: date | None = None) -> dict:
    """Every number and data-dependent word of the note, as the note prints it (nested, all strings)."""
    m = r.metrics
    labels = feature_labels()
    return {
        "resume": summary_values(m["threshold"], m["explain"], today or render_date()),
        "donnees": data_values(m["prepare"], m["featurize"], params),
        "cv": {"plis": count(params["cv"]["folds"])},
        "baseline": baseline_values(r),
        "tune": tune_values(m["tune"], m["baseline"], params["tune"]),
        "cout": cost_values(params["cost"], m["prepare"], m["threshold"], r.sensitivity),
        "validation": validation_values(m["threshold"], m["tune"]) | calibration_gap(r.calibration),
        "explication": explanation_values(r, params),
        "equite": fairness_values(m["fairness"], m["threshold"]),
        "derive": drift_values(m["drift"], m["prepare"]["source"] == "synthetic", params["monitor"], labels),
        "oracle": oracle_values(m["threshold"], m["prepare"]),
    }


def oracle_values(thr: dict, prep: dict) -> dict:
    """The hidden true probabilities' scores on synthetic data; on real data the note says there is none."""
    if "oracle_holdout_auc" not in thr:
        return {"phrase": "Sur données réelles, la probabilité vraie de défaut est inconnue : aucun oracle ne "
                          "borne ces résultats.",
                "limite": "sur données réelles, aucun oracle ne mesure la marge de progrès."}
    auc, cost = thr["oracle_holdout_auc"], thr["oracle_holdout_cost_per_client"]
    return {
        "auc": score(auc),
        "cout": score(cost),
        "seuil": score(thr["oracle_threshold"]),
        "auc_tous": score(prep["oracle_auc"]),
        "ecart_auc": score(auc - thr["holdout_auc"]),
        "ecart_cout": share(thr["holdout_cost_per_client"] / cost - 1),
        "phrase": (f"Les probabilités vraies du générateur (l’oracle) atteignent sur la même validation une AUC de "
                   f"{score(auc)} et un coût de {score(cost)} par client : c’est la borne de ce que tout modèle "
                   f"peut faire sur ces données."),
        "limite": (f"le modèle reste à {score(auc - thr['holdout_auc'])} d’AUC de l’oracle et coûte "
                   f"{share(thr['holdout_cost_per_client'] / cost - 1)} de plus : c’est la marge de progrès sur "
                   f"ces données."),
    }


# --------------------------------------------------------------------------------------------------------
# The tables the note includes (markdown pipe tables; captions live in note.qmd).
# --------------------------------------------------------------------------------------------------------
def markdown_table(frame: pd.DataFrame, right: tuple[str, ...] = ()) -> str:
    """A pipe table of already formatted strings; the named columns right-aligned (numbers)."""
    align = tuple("right" if c in right else "left" for c in frame.columns)
    return frame.to_markdown(index=False, tablefmt="pipe", colalign=align, disable_numparse=True) + "\n"


def formatted(frame: pd.DataFrame, columns: dict[str, tuple[str, Callable]]) -> pd.DataFrame:
    """A table for the note: each French column is a source column passed through its formatter."""
    return pd.DataFrame({name: frame[source].map(fmt) for name, (source, fmt) in columns.items()})


def optional(fmt: Callable) -> Callable:
    """``fmt`` for present values, a dash for missing ones."""
    return lambda x: "—" if x is None or (isinstance(x, float) and pd.isna(x)) else fmt(x)


MODEL_COLUMNS = {"AUC": ("auc", score), "Coût / client": ("cost", score), "Seuil": ("threshold", score)}


def summary_table(r: Reports, coarse_sample: float) -> pd.DataFrame:
    """Models from the simplest to the most complex, each judged by the same cross-validation (the wide search on
    a ``coarse_sample`` share of the rows, as the tune stage ran it), with the cost's spread over the folds where
    the stages measured it. Only the best logistic regression, and no imbalance column: the imbalance table shows
    the others, and the boosting models learn from the real proportions."""
    tune = r.metrics["tune"]
    base = r.baseline.sort_values("cost_per_client")
    best_lr = base[base["model"] == "logistic_regression"].iloc[0]
    naive = base[(base["model"] == "dummy_prior") & (base["strategy"] == "none")].iloc[0]
    baseline_sd = r.metrics["threshold"]["intervals"]["fold_spread"]["baseline"]["cv_cost_per_client"]["sd"]
    rows = [(MODEL_NAMES[row["model"]], 1.0, row["auc"], row["cost_per_client"], sd,
             row["threshold"], row["fit_seconds"]) for row, sd in ((naive, None), (best_lr, baseline_sd))]
    trials = [("coarse", a, f"{MODEL_NAMES[a]}, recherche large", min(coarse_sample, 1.0))
              for a in dict.fromkeys(r.trials.loc[r.trials["phase"] == "coarse", "algorithm"])]
    trials.append(("refined", tune["algorithm"], f"{MODEL_NAMES[tune['algorithm']]}, recherche affinée", 1.0))
    for phase, algorithm, name, rows_share in trials:
        t = best_trial(r.trials, phase, algorithm)
        sd = float(np.std(json.loads(t["user_attrs_fold_costs"]), ddof=1))
        rows.append((name, rows_share, t["user_attrs_cv_auc"], t["value"], sd,
                     t["user_attrs_threshold"], t["user_attrs_fit_seconds"]))
    # the served configuration, fitted again on the same folds at the final learning rate (no search trial)
    rows.append((f"{MODEL_NAMES[tune['algorithm']]}, modèle final (retenu)", 1.0, tune["cv_auc"],
                 tune["cv_cost_per_client"], tune["cv_cost_fold_sd"], r.metrics["threshold"]["threshold"], None))
    raw = pd.DataFrame(rows, columns=["model", "rows", "auc", "cost", "sd", "threshold", "fit_seconds"])
    return formatted(raw, {"Modèle": ("model", str), "Clients": ("rows", lambda x: share(x, 0)), "AUC": ("auc", score),
                           "Coût / client": ("cost", score), "Écart type par pli": ("sd", optional(score)),
                           "Seuil": ("threshold", score),
                           "Apprentissage (s)": ("fit_seconds", optional(seconds))})


def holdout_table(r: Reports) -> pd.DataFrame:
    """The champion, the best baseline, the glass-box EBM and (synthetic data) the true probabilities on the
    holdout, each at the threshold chosen on its own training predictions, with 95 % bootstrap intervals."""
    thr, ebm = r.metrics["threshold"], r.ebm.set_index("id").loc[EBM_ROW]
    iv, ebm_iv = thr["intervals"], r.metrics["explain"]["ebm_intervals"]
    base = iv["baseline"]
    model, _ = base["model"].split("/")
    rows = [(f"{MODEL_NAMES[thr['algorithm']]} (retenu)", thr["holdout_auc"], iv["holdout_auc"],
             thr["holdout_cost_per_client"], iv["holdout_cost_per_client"], thr["threshold"], thr["holdout_recall"],
             thr["holdout_precision"]),
            (f"{MODEL_NAMES[model]} (référence)", base["holdout_auc"], base["holdout_auc_interval"],
             base["holdout_cost_per_client"], base["holdout_cost_interval"], base["threshold"], None, None),
            (f"EBM ({count(ebm['variables'])} variables)", ebm["auc_validation"], ebm_iv["holdout_auc"],
             ebm["cout_par_client_validation"], ebm_iv["holdout_cost_per_client"], ebm["seuil"],
             ebm["rappel_validation"], ebm["precision_validation"])]
    if "oracle_holdout_auc" in thr:
        rows.append(("Probabilités vraies (oracle)", thr["oracle_holdout_auc"], None,
                     thr["oracle_holdout_cost_per_client"], None, thr["oracle_threshold"], None, None))
    raw = pd.DataFrame(rows, columns=["model", "auc", "auc_ic", "cost", "cost_ic", "threshold", "recall",
                                      "precision"])
    return formatted(raw, {"Validation finale": ("model", str), "AUC": ("auc", score),
                           "IC 95 % de l’AUC": ("auc_ic", optional(interval)), "Coût / client": ("cost", score),
                           "IC 95 % du coût": ("cost_ic", optional(interval)), "Seuil": ("threshold", score),
                           "Rappel": ("recall", optional(share)), "Précision": ("precision", optional(share))})


def imbalance_table(r: Reports) -> pd.DataFrame:
    return formatted(r.baseline[r.baseline["model"] == "logistic_regression"], {
        "Stratégie": ("strategy", STRATEGY_NAMES.get), "AUC": ("auc", score),
        "Coût / client": ("cost_per_client", score), "Seuil optimal": ("threshold", score),
        "Rappel": ("recall", share), "Précision": ("precision", share), "F1": ("f1", score),
    })


def thresholds_table(r: Reports) -> pd.DataFrame:
    return formatted(r.thresholds, {
        "Règle": ("seuil", str), "Seuil": ("valeur", score), "Coût / client": ("cout_par_client", score),
        "Rappel": ("rappel", share), "Précision": ("precision", share), "F1": ("f1", score),
        "Clients refusés": ("taux_de_refus", share),
    })


def sensitivity_table(r: Reports) -> pd.DataFrame:
    """The decision for each FN:FP cost ratio (the threshold stage's sensitivity table, holdout)."""
    return formatted(r.sensitivity.sort_values("rapport_fn_fp"), {
        "FN:FP": ("rapport_fn_fp", lambda x: f"{count(x)}:1"), "Seuil": ("seuil", score),
        "Refus": ("taux_de_refus", share), "Rappel": ("rappel", share), "Précision": ("precision", share),
        "Coût / client": ("cout_par_client", score),
    })


def search_table(tune: dict, search: dict) -> pd.DataFrame:
    """The search spaces as params.yaml gives them, the refined space the tune stage derives around the coarse
    winner (`credit_scoring.tuning.refined_space`), the coarse best of each algorithm and the retained value;
    a value on an edge of its wide range is marked."""
    chosen = tune["algorithm"]
    refined = refined_space(search["spaces"][chosen], tune["coarse_best"][chosen]["params"], search["refine_factor"],
                            search["refine_width"])
    rows = []
    for algorithm in search["algorithms"]:
        for name, (kind, low, high) in search["spaces"][algorithm].items():
            def shown(value, kind=kind, low=low, high=high):
                return hyperparameter(value) + yes_no(at_edge(value, kind, low, high), " (bord)", "")
            coarse = tune["coarse_best"][algorithm]["params"][name]
            rows.append({
                "Algorithme": MODEL_NAMES[algorithm], "Hyperparamètre": HYPERPARAMETERS[name],
                "Échelle": SCALES[kind], "Intervalle large": f"{hyperparameter(low)} à {hyperparameter(high)}",
                "Meilleur (large)": shown(coarse),
                "Intervalle affiné": (f"{hyperparameter(refined[name][1])} à {hyperparameter(refined[name][2])}"
                                      if algorithm == chosen else "—"),
                "Retenu": shown(tune["params"][name]) if algorithm == chosen else "—",
            })
        rows.append({  # not searched: every trial at one rate, the retained model refitted at a smaller one
            "Algorithme": MODEL_NAMES[algorithm], "Hyperparamètre": HYPERPARAMETERS["learning_rate"],
            "Échelle": "fixé", "Intervalle large": hyperparameter(search["coarse_learning_rate"]),
            "Meilleur (large)": "—",
            "Intervalle affiné": hyperparameter(search["refined_learning_rate"]) if algorithm == chosen else "—",
            "Retenu": hyperparameter(tune["params"]["learning_rate"]) if algorithm == chosen else "—",
        })
    return pd.DataFrame(rows)


def importance_table(r: Reports, rows: int = IMPORTANCE_ROWS) -> pd.DataFrame:
    return formatted(r.importance.nsmallest(rows, "rang"), {
        "Rang": ("rang", count), "Variable": ("libelle", str),
        "Contribution absolue moyenne": ("mean_abs_shap", score),
    })


def drift_table(r: Reports, labels: dict | None = None) -> pd.DataFrame:
    """Columns flagged by evidently or by our PSI, strongest first: the application columns, then the model's
    watched features (with their rank by mean |SHAP|), then the score; each named by its French label."""
    labels = labels if labels is not None else feature_labels()
    d = r.drift
    flagged = d[d["drifted"].fillna(False).astype(bool) | d["psi_drifted"].astype(bool)]
    flagged = flagged.assign(order=flagged["scope"].ne("application")).sort_values(["order", "psi"],
                                                                                   ascending=[True, False])
    flagged = flagged.assign(label=flagged["feature"].map(lambda f: column_label(f, labels)))
    s = r.metrics["drift"]["score"]
    score_row = pd.DataFrame([{"label": "Score (probabilité de défaut)", "kind": "numerical", "scope": "score",
                               "shap_rank": None, "psi": s["psi"], "evidently_score": s["evidently_score"],
                               "drifted": s["drifted"]}])
    return formatted(pd.concat([flagged, score_row], ignore_index=True), {
        "Variable": ("label", str), "Type": ("kind", KIND_NAMES.get), "Comparée sur": ("scope", DRIFT_SCOPES.get),
        "Rang SHAP": ("shap_rank", lambda rank: "" if pd.isna(rank) else count(rank)), "PSI": ("psi", score),
        "Score evidently": ("evidently_score", score),
        "Dérive (evidently)": ("drifted", lambda b: yes_no(bool(b), "oui", "non")),
    })


def fairness_table(r: Reports) -> pd.DataFrame:
    return formatted(r.fairness, {
        "Attribut": ("attribut", ATTRIBUTE_NAMES.get), "Groupe": ("groupe", str), "Clients": ("clients", count),
        "Taux de défaut": ("taux_de_defaut", share), "Taux d’accord": ("taux_d_accord", share),
        "Refus à tort": ("taux_de_refus_a_tort", share),
        "Rappel": ("rappel", share),
    })


NUMERIC = ("AUC", "Coût / client", "Seuil", "Apprentissage (s)", "Seuil optimal", "Rappel", "Précision", "F1",
           "Clients refusés", "Contribution absolue moyenne", "PSI", "Rang SHAP", "Score evidently", "Clients",
           "Taux de défaut", "Taux d’accord", "Refus à tort", "Rang", "Écart type par pli", "IC 95 % de l’AUC",
           "IC 95 % du coût", "FN:FP", "Refus", "Meilleur (large)", "Retenu")


def note_tables(r: Reports, params: dict) -> dict[str, str]:
    builders = {"synthese": lambda r: summary_table(r, params["tune"]["coarse_sample"]), "validation": holdout_table,
                "desequilibre": imbalance_table, "seuils": thresholds_table, "sensibilite": sensitivity_table,
                "recherche": lambda r: search_table(r.metrics["tune"], params["tune"]),
                "importance": importance_table, "derive": drift_table, "equite": fairness_table}
    return {name: markdown_table(build(r), right=NUMERIC) for name, build in builders.items()}


def write_inputs(note_dir: Path, values: dict, tables: dict[str, str]) -> None:
    out = note_dir / GENERATED
    out.mkdir(parents=True, exist_ok=True)
    (out / VALUES_FILE).write_text(
        "# Written by `python -m stages.note` from reports/: do not edit.\n"
        + yaml.safe_dump({"v": values}, allow_unicode=True, sort_keys=False, width=1000)
    )
    for name, text in tables.items():
        (out / f"{name}.md").write_text(text)


def write_note_inputs(root: Path = Path(".")) -> None:
    """The note's values and tables from ``root/reports`` (all Quarto needs besides the figures)."""
    reports = read_reports(root)
    params = load_params(root / PARAMS)
    write_inputs(root / NOTE, note_values(reports, params), note_tables(reports, params))
