"""Every value the note quotes, section by section, French formatted."""

from __future__ import annotations

from datetime import date

import pandas as pd

from credit_scoring.common.formatting import french_list, french_number
from credit_scoring.explain.overall import EBM_ROW
from credit_scoring.features.labels import feature_labels
from credit_scoring.note.sources import Reports, column_label
from credit_scoring.note.vocabulary import (
    EDGE,
    HYPERPARAMETERS,
    MODEL_NAMES,
    PROTECTED_NAMES,
    STRATEGY_NAMES,
    SUMMARY_DRIVERS,
    at_edge,
    brier,
    count,
    difference_words,
    french_date,
    hyperparameter,
    interval,
    render_date,
    score,
    share,
    signed,
    verdict,
    yes_no,
)


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
    costs = (f"{MODEL_NAMES[lowest]} a le coût hors pli le plus bas, "
             f"{score(best[lowest]['cv_cost_per_client'])} contre "
             f"{score(best[rival]['cv_cost_per_client'])} pour {MODEL_NAMES[rival]} (AUC de "
             f"{score(best[lowest]['cv_auc'])} contre {score(best[rival]['cv_auc'])})")
    sds = french_list([f"{score(best[a]['cv_cost_fold_sd'])} pour {MODEL_NAMES[a]}" for a in best])
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
        "termines_grossiers": french_list(coarse),
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
                  f"{french_list([f'« {HYPERPARAMETERS[e]} »' for e in edges])} "
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


def compared(name: str, gap_name: str, figures: tuple, gaps: tuple, sides: tuple[str, str]) -> dict:
    """A model's holdout AUC and cost with their intervals (keys ``{name}auc…``), and its gap to the model it is
    compared with, as an interval and in words (keys ``{gap_name}ecart_…``; `sides` names the two models)."""
    auc, auc_interval, cost, cost_interval = figures
    auc_gap, cost_gap = gaps
    return {
        f"{name}auc": score(auc),
        f"{name}auc_ic": interval(auc_interval),
        f"{name}cout": score(cost),
        f"{name}cout_ic": interval(cost_interval),
        f"{gap_name}ecart_auc_ic": interval(auc_gap, signed),
        f"{gap_name}ecart_cout_ic": interval(cost_gap, signed),
        f"{gap_name}ecart_auc_mots": difference_words(auc_gap, True, *sides),
        f"{gap_name}ecart_cout_mots": difference_words(cost_gap, False, *sides),
    }


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
        **compared("reference_", "", (base["holdout_auc"], base["holdout_auc_interval"],
                                      base["holdout_cost_per_client"], base["holdout_cost_interval"]),
                   (diff["holdout_auc"], diff["holdout_cost_per_client"]), ("du modèle retenu", "de la référence")),
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
        "familles": count(len(r.family_importance)),
        "moteurs": french_list([f"« {x} »" for x in
                                r.family_importance.nsmallest(SUMMARY_DRIVERS, "rang")["libelle"]]),
        "part_moteurs": share(r.family_importance.nsmallest(SUMMARY_DRIVERS, "rang")["part"].sum()),
        "ebm_variables": n,
        "variables_modele": count(champion_features),
        **compared("ebm_", "ebm_", (ebm["auc_validation"], iv["holdout_auc"], ebm["cout_par_client_validation"],
                                    iv["holdout_cost_per_client"]),
                   (iv["ebm_minus_champion_auc"], iv["ebm_minus_champion_cost"]), ("de l’EBM", "du modèle retenu")),
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
    cost_low, cost_high = thr["intervals"]["holdout_cost_per_client"]
    cost_half_width = (cost_high - cost_low) / 2
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
        "exclues": french_list([PROTECTED_NAMES.get(c, c) for c in fair["exclude_protected"]]) or "aucune variable",
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
            f"{french_list([f'« {column_label(f, labels)} »' for f in flagged])} dépasse{'nt' if plural else ''} "
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
