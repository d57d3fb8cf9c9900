"""What the methodological note quotes, from the files the other stages wrote (the note stage).

Nothing in the note is typed by hand: every value it quotes is read from ``reports/`` (and the cost and search
settings of params.yaml), French formatted, and written to ``note_methodologique/_generated/valeurs.yml``; every
table to ``note_methodologique/_generated/*.md``. `credit_scoring.note_render` then renders the note.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from credit_scoring.formatting import french_number, french_percent
from credit_scoring.interpretation import EBM_ROW
from credit_scoring.params import load_params
from credit_scoring.paths import NOTE, PARAMS, metrics, table

GENERATED = "_generated"  # in note_methodologique/: what this module writes, what the note reads
VALUES_FILE = "valeurs.yml"
IMPORTANCE_ROWS = 10  # features in the note's global-importance table

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
DRIFT_SCOPES = {"application": "demande", "watched": "variables du modèle"}  # drift_psi.csv's `scope`


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


def yes_no(flag: bool, yes: str, no: str) -> str:
    return yes if flag else no


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


METRIC_FILES = ("prepare", "featurize", "baseline", "tune", "threshold", "explain", "fairness", "drift")
TABLE_FILES = {"baseline": "baseline", "trials": "tune_trials", "thresholds": "thresholds",
               "importance": "shap_importance", "ebm": "ebm_vs_champion", "fairness": "fairness", "drift": "drift_psi"}


def read_reports(root: Path) -> Reports:
    """Every report the note quotes, from the project at ``root``; a missing one names the stage to run."""
    missing = [p for p in [root / metrics(m) for m in METRIC_FILES] + [root / table(t) for t in TABLE_FILES.values()]
               if not p.exists()]
    if missing:
        raise FileNotFoundError("the note needs reports that are missing (run `dvc repro` first): "
                                + ", ".join(str(p) for p in missing))
    read = {m: json.loads((root / metrics(m)).read_text()) for m in METRIC_FILES}
    tables = {k: pd.read_csv(root / table(t)) for k, t in TABLE_FILES.items()}
    return Reports(metrics=read, **tables)


def best_trial(trials: pd.DataFrame, phase: str, algorithm: str) -> pd.Series:
    """The completed trial of lowest cost in one phase of the search for one algorithm."""
    done = trials[(trials["phase"] == phase) & (trials["algorithm"] == algorithm) & (trials["state"] == "COMPLETE")]
    if done.empty:
        raise ValueError(f"reports/tables/tune_trials.csv has no completed {phase} trial of {algorithm}")
    return done.sort_values("value").iloc[0]


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
            "Risk » (mêmes colonnes, catégories, valeurs manquantes, sentinelles, relations entre tables et "
            "dérive entre apprentissage et test, mais aussi les montants ronds, les corrélations entre colonnes "
            "et la force de chaque variable mesurées sur des lignes réelles : les scores externes restent les "
            "variables les plus prédictives, les historiques ajoutent quelques points d'AUC) tire pour chaque "
            "client une probabilité vraie de défaut, puis le défaut lui-même. Cette probabilité cachée n'est "
            "jamais lue par un modèle ; elle donne l'*oracle*, c'est-à-dire ce que le meilleur modèle possible "
            "obtiendrait sur ces données.",
            "Les données sont les huit fichiers réels de la compétition Kaggle « Home Credit Default Risk ».",
        ),
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


def tune_values(tune: dict, base: dict, search: dict) -> dict:
    """The search (``search``: params.yaml's tune section) and its choice, against the best baseline."""
    return {
        "essais_grossiers": count(search["coarse_trials"]),
        "part_grossiere": share(search["coarse_sample"], 0),
        "essais_affines": count(tune["refined_trials"]),
        "essais_elagues": count(tune["pruned_trials"]),
        "algorithme": MODEL_NAMES[tune["algorithm"]],
        "algorithmes": " et ".join(MODEL_NAMES[a] for a in search["algorithms"]),
        "tours": count(tune["rounds"]),
        "tours_max": count(search["max_rounds"]),
        "arret_precoce": count(search["early_stopping_rounds"]),
        "cout": score(tune["cv_cost_per_client"]),
        "auc": score(tune["cv_auc"]),
        "ecart_reference": "{} de {}".format(
            yes_no(tune["cv_cost_per_client"] <= base["best_cv_cost_per_client"], "inférieur", "supérieur"),
            share(abs(1 - tune["cv_cost_per_client"] / base["best_cv_cost_per_client"]))),
        "hyperparametres": ", ".join(f"`{k}` = {french_number(v, 3 if isinstance(v, float) else 0)}"
                                     for k, v in tune["params"].items()),
    }


def cost_values(cost: dict, prep: dict, thr: dict) -> dict:
    """The business cost and the compared thresholds' out-of-fold costs."""
    return {
        "fn": count(cost["fn"]),
        "fp": count(cost["fp"]),
        "seuil_theorique": score(cost["fp"] / (cost["fp"] + cost["fn"])),
        "exactitude_naive": share(1 - prep["target_rate"]),
        "seuil": score(thr["threshold"]),
        "seuil_f1": score(thr["f1_threshold"]),
        "cout_seuil": score(thr["oof_cost_at_threshold"]),
        "cout_f1": score(thr["oof_cost_at_f1_threshold"]),
        "cout_05": score(thr["oof_cost_at_0_5"]),
    }


def validation_values(thr: dict) -> dict:
    """The champion on the holdout."""
    return {
        "auc": score(thr["holdout_auc"]),
        "cout": score(thr["holdout_cost_per_client"]),
        "seuil": score(thr["threshold"]),
        "exactitude": share(thr["holdout_accuracy"]),
        "rappel": share(thr["holdout_recall"]),
        "precision": share(thr["holdout_precision"]),
        "f1": score(thr["holdout_f1"]),
        "brier": french_number(thr["holdout_brier"], 4),
        "clients": count(thr["holdout_clients"]),
    }


def explanation_values(r: Reports, params: dict) -> dict:
    """SHAP, and the EBM beside the champion."""
    expl = r.metrics["explain"]
    ebm = r.ebm.set_index("id").loc[EBM_ROW]
    return {
        "clients": count(expl["shap_clients"]),
        "premiere": r.importance.iloc[0]["libelle"],
        "ebm_variables": count(ebm["variables"]),
        "ebm_auc": score(ebm["auc_validation"]),
        "ebm_cout": score(ebm["cout_par_client_validation"]),
        "ebm_seuil": score(ebm["seuil"]),
        "version": str(expl["model_version"]),
        "raisons": count(params["explain"]["reasons"]["max"]),
    }


def fairness_values(fair: dict, thr: dict) -> dict:
    """Approval and default rates by age and gender against the four-fifths rule, and what excluding sex and
    constraining the amounts cost (the threshold stage's variants)."""
    ages = fair["age"]["groups"]
    sexes = fair["sexe"]["groups"]
    variants = thr["variants"]
    lowest_age = min(ages, key=lambda g: ages[g]["approval_rate"])
    highest_age = max(ages, key=lambda g: ages[g]["approval_rate"])
    return {
        "ratio_age": french_number(fair["age"]["disparate_impact_ratio"], 2),
        "ratio_sexe": french_number(fair["sexe"]["disparate_impact_ratio"], 2),
        "regle": french_number(fair["four_fifths"], 1),
        "age_respecte": yes_no(fair["age"]["four_fifths_rule_met"], "la respecte", "ne la respecte pas"),
        "sexe_respecte": yes_no(fair["sexe"]["four_fifths_rule_met"], "la respecte", "ne la respecte pas"),
        "age_bas": lowest_age,
        "age_bas_accord": share(ages[lowest_age]["approval_rate"], 0),
        "age_haut": highest_age,
        "age_haut_accord": share(ages[highest_age]["approval_rate"], 0),
        "exclues": ", ".join(f"`{c}`" for c in fair["exclude_protected"]) or "aucune variable",
        "defaut_femmes": share(sexes["femmes"]["default_rate"]),
        "defaut_hommes": share(sexes["hommes"]["default_rate"]),
        "age_bas_defaut": share(ages[lowest_age]["default_rate"]),
        "age_haut_defaut": share(ages[highest_age]["default_rate"]),
        "sexe_auc": signed(variants["with_protected"]["auc_given_up"]),
        "sexe_cout": signed(-variants["with_protected"]["cost_added"]),
        "monotone_auc": signed(variants["unconstrained"]["auc_given_up"]),
        "monotone_cout": signed(-variants["unconstrained"]["cost_added"]),
    }


def drift_values(drift: dict) -> dict:
    """The drift between the training and the test applications, of the raw columns, of the model's most
    influential features and of its score."""
    watched, score_drift = drift["watched_features"], drift["score"]
    return {
        "conclusion": drift["conclusion_fr"],
        "colonnes": count(drift["all_columns"]["columns"]),
        "colonnes_derivent": count(drift["all_columns"]["drifted_columns"]),
        "colonnes_psi": count(drift["all_columns"]["psi_drifted_columns"]),
        "seuil_psi": french_number(drift["settings"]["psi_threshold"], 2),
        "echantillon": count(drift["rows_compared_by_evidently"]["reference"]),
        "regle_numerique": drift["rules_fr"]["numerical"],
        "regle_categorielle": drift["rules_fr"]["categorical"],
        "suivies": count(watched["columns"]),
        "score_reference": count(score_drift["rows"]["reference"]),
    }


def note_values(r: Reports, params: dict) -> dict:
    """Every number and data-dependent word of the note, as the note prints it (nested, all strings)."""
    m = r.metrics
    return {
        "donnees": data_values(m["prepare"], m["featurize"], params),
        "cv": {"plis": count(params["cv"]["folds"])},
        "baseline": baseline_values(r),
        "tune": tune_values(m["tune"], m["baseline"], params["tune"]),
        "cout": cost_values(params["cost"], m["prepare"], m["threshold"]),
        "validation": validation_values(m["threshold"]),
        "explication": explanation_values(r, params),
        "equite": fairness_values(m["fairness"], m["threshold"]),
        "derive": drift_values(m["drift"]),
        "oracle": oracle_values(m["threshold"], m["prepare"]),
    }


def oracle_values(thr: dict, prep: dict) -> dict:
    """The hidden true probabilities' scores on synthetic data; on real data the note says there is none."""
    if "oracle_holdout_auc" not in thr:
        return {"phrase": "Sur données réelles, la probabilité vraie de défaut est inconnue : aucun oracle ne "
                          "borne ces résultats."}
    auc, cost = thr["oracle_holdout_auc"], thr["oracle_holdout_cost_per_client"]
    return {
        "auc": score(auc),
        "cout": score(cost),
        "seuil": score(thr["oracle_threshold"]),
        "auc_tous": score(prep["oracle_auc"]),
        "ecart_auc": score(auc - thr["holdout_auc"]),
        "ecart_cout": share(thr["holdout_cost_per_client"] / cost - 1),
        "phrase": (f"Les probabilités vraies du générateur (l'oracle) atteignent sur la même validation une AUC de "
                   f"{score(auc)} et un coût de {score(cost)} par client (seuil {score(thr['oracle_threshold'])}) : "
                   f"c'est la borne de ce que tout modèle peut faire sur ces données."),
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


MODEL_COLUMNS = {"AUC": ("auc", score), "Coût / client": ("cost", score), "Seuil": ("threshold", score)}


def summary_table(r: Reports, coarse_sample: float) -> pd.DataFrame:
    """Models from the simplest to the most complex, each judged by the same cross-validation (the wide search on
    a ``coarse_sample`` share of the rows, as the tune stage ran it)."""
    rows = []
    for row in r.baseline.itertuples():
        if row.model == "dummy_prior" and row.strategy != "none":
            continue  # a constant score: every imbalance strategy gives the same cost
        rows.append((MODEL_NAMES[row.model], STRATEGY_NAMES[row.strategy], 1.0, row.auc, row.cost_per_client,
                     row.threshold, row.fit_seconds))
    trials = [("coarse", a, f"{MODEL_NAMES[a]}, recherche large", min(coarse_sample, 1.0))
              for a in dict.fromkeys(r.trials.loc[r.trials["phase"] == "coarse", "algorithm"])]
    algorithm = r.metrics["tune"]["algorithm"]
    trials.append(("refined", algorithm, f"{MODEL_NAMES[algorithm]}, recherche affinée (retenu)", 1.0))
    for phase, algorithm, name, rows_share in trials:
        t = best_trial(r.trials, phase, algorithm)
        rows.append((name, STRATEGY_NAMES["none"], rows_share, t["user_attrs_cv_auc"], t["value"],
                     t["user_attrs_threshold"], t["user_attrs_fit_seconds"]))
    raw = pd.DataFrame(rows, columns=["model", "strategy", "rows", "auc", "cost", "threshold", "fit_seconds"])
    return formatted(raw, {"Modèle": ("model", str), "Déséquilibre": ("strategy", str),
                           "Clients": ("rows", lambda x: share(x, 0)), **MODEL_COLUMNS,
                           "Apprentissage (s)": ("fit_seconds", seconds)})


def holdout_table(r: Reports) -> pd.DataFrame:
    """The champion, the glass-box EBM and (synthetic data) the true probabilities on the holdout."""
    thr, ebm = r.metrics["threshold"], r.ebm.set_index("id").loc[EBM_ROW]
    rows = [(f"{MODEL_NAMES[thr['algorithm']]} retenu", thr["holdout_auc"], thr["holdout_cost_per_client"],
             thr["threshold"], thr["holdout_recall"], thr["holdout_precision"]),
            (f"EBM ({count(ebm['variables'])} variables)", ebm["auc_validation"], ebm["cout_par_client_validation"],
             ebm["seuil"], ebm["rappel_validation"], ebm["precision_validation"])]
    if "oracle_holdout_auc" in thr:
        rows.append(("Probabilités vraies (oracle)", thr["oracle_holdout_auc"], thr["oracle_holdout_cost_per_client"],
                     thr["oracle_threshold"], None, None))
    raw = pd.DataFrame(rows, columns=["model", "auc", "cost", "threshold", "recall", "precision"])
    optional_share = lambda x: "—" if pd.isna(x) else share(x)
    return formatted(raw, {"Validation finale": ("model", str), **MODEL_COLUMNS,
                           "Rappel": ("recall", optional_share), "Précision": ("precision", optional_share)})


def imbalance_table(r: Reports) -> pd.DataFrame:
    return formatted(r.baseline[r.baseline["model"] == "logistic_regression"], {
        "Stratégie": ("strategy", STRATEGY_NAMES.get), "AUC": ("auc", score),
        "Coût / client": ("cost_per_client", score), "Seuil optimal": ("threshold", score),
        "Rappel": ("recall", share), "Précision": ("precision", share), "F1": ("f1", score),
    })


def thresholds_table(r: Reports) -> pd.DataFrame:
    return formatted(r.thresholds, {
        "Seuil": ("seuil", str), "Valeur": ("valeur", score), "Coût / client": ("cout_par_client", score),
        "Rappel": ("rappel", share), "Précision": ("precision", share), "F1": ("f1", score),
        "Clients refusés": ("taux_de_refus", share),
    })


def importance_table(r: Reports, rows: int = IMPORTANCE_ROWS) -> pd.DataFrame:
    return formatted(r.importance.nsmallest(rows, "rang"), {
        "Rang": ("rang", count), "Variable": ("libelle", str), "|SHAP| moyen": ("mean_abs_shap", score),
    })


def drift_table(r: Reports) -> pd.DataFrame:
    """Columns flagged by evidently or by our PSI, strongest first: the application columns, then the model's
    watched features (with their rank by mean |SHAP|)."""
    d = r.drift
    flagged = d[d["drifted"].fillna(False).astype(bool) | d["psi_drifted"].astype(bool)]
    flagged = flagged.assign(order=flagged["scope"].ne("application")).sort_values(["order", "psi"],
                                                                                   ascending=[True, False])
    return formatted(flagged, {
        "Variable": ("feature", lambda f: f"`{f}`"), "Type": ("kind", KIND_NAMES.get),
        "Comparée sur": ("scope", DRIFT_SCOPES.get),
        "Rang SHAP": ("shap_rank", lambda rank: "" if pd.isna(rank) else count(rank)), "PSI": ("psi", score),
        "Score evidently": ("evidently_score", score),
        "Dérive (evidently)": ("drifted", lambda b: yes_no(bool(b), "oui", "non")),
    })


def fairness_table(r: Reports) -> pd.DataFrame:
    return formatted(r.fairness, {
        "Attribut": ("attribut", ATTRIBUTE_NAMES.get), "Groupe": ("groupe", str), "Clients": ("clients", count),
        "Taux de défaut": ("taux_de_defaut", share), "Taux d'accord": ("taux_d_accord", share),
        "Refus à tort": ("taux_de_refus_a_tort", share),
        "Rappel": ("rappel", share),
    })


NUMERIC = ("AUC", "Coût / client", "Seuil", "Apprentissage (s)", "Seuil optimal", "Rappel", "Précision", "F1",
           "Valeur", "Clients refusés", "|SHAP| moyen", "PSI", "Rang SHAP", "Score evidently", "Clients",
           "Taux de défaut", "Taux d'accord", "Refus à tort", "Rang")


def note_tables(r: Reports, params: dict) -> dict[str, str]:
    builders = {"synthese": lambda r: summary_table(r, params["tune"]["coarse_sample"]), "validation": holdout_table,
                "desequilibre": imbalance_table, "seuils": thresholds_table, "importance": importance_table, "derive": drift_table,
                "equite": fairness_table}
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
