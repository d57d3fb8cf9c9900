"""The note's tables as markdown, section by section."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from credit_scoring.explain.overall import EBM_ROW
from credit_scoring.features.labels import feature_labels
from credit_scoring.modeling.tuning import refined_space
from credit_scoring.note.sources import Reports, best_trial, column_label
from credit_scoring.note.vocabulary import (
    ATTRIBUTE_NAMES,
    DRIFT_SCOPES,
    HYPERPARAMETERS,
    IMPORTANCE_ROWS,
    KIND_NAMES,
    MODEL_NAMES,
    SCALES,
    STRATEGY_NAMES,
    at_edge,
    count,
    hyperparameter,
    interval,
    score,
    seconds,
    share,
    yes_no,
)


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
    winner (`credit_scoring.modeling.tuning.refined_space`), the coarse best of each algorithm and the retained value;
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
    """What information the model relies on: the families of information, by the mean |sum of their features'
    contributions| (`credit_scoring.explain.overall.family_importance`)."""
    return formatted(r.family_importance.nsmallest(rows, "rang"), {
        "Rang": ("rang", count), "Famille d’information": ("libelle", str),
        "Contribution absolue moyenne": ("mean_abs_shap", score), "Part": ("part", share),
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
