"""Does the champion decide alike for women and men, for young and old clients? (the fairness stage)

The holdout clients are decided at the champion threshold (their scores are in
``models/champion/reference_scores.parquet``, written once by the threshold stage) and compared by group with
fairlearn's MetricFrame: approval rate, false-refusal rate (good clients refused / good clients) and recall
(defaulters refused / defaulters), beside each group's observed default rate (the ground truth the decisions
answer to: a group that defaults more is refused more by any accurate model). The disparate-impact ratio, lowest
approval rate over highest, is held against the four-fifths rule.

Gender and age are read from the raw application table, joined by SK_ID_CURR, never from the features: the
audit runs the same whatever `features.exclude_protected` kept out of the model (by default sex, a forbidden
ground; age stays an input), and records the setting the champion was trained with, so settings can be compared
run against run.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count

from credit_scoring.common.formatting import french_number, french_percent
from credit_scoring.common.paths import APPLICATION_TRAIN, figure
from credit_scoring.common.style import OKABE_ITO, french_axis, new_figure, save
from credit_scoring.features.application import DAYS_PER_YEAR

KEY, TARGET = "SK_ID_CURR", "TARGET"
GENDERS = {"F": "femmes", "M": "hommes"}  # anything else (Kaggle's XNA) is "non renseigné"
ATTRIBUTES = {"sexe": "Sexe", "age": "Âge"}


def age_bands(days_birth: pd.Series, limits: list[int]) -> pd.Series:
    """Age bands from DAYS_BIRTH (negative days before the application): [<l1, l1–l2-1, ..., ≥ln] years."""
    age = -pd.to_numeric(days_birth) / DAYS_PER_YEAR
    names = ([f"moins de {limits[0]} ans"] + [f"{a} à {b - 1} ans" for a, b in pairwise(limits)]
             + [f"{limits[-1]} ans et plus"])
    return pd.Series(pd.cut(age, [-np.inf, *limits, np.inf], right=False, labels=names), index=days_birth.index)


def gender_groups(code_gender: pd.Series) -> pd.Series:
    return code_gender.map(GENDERS).fillna("non renseigné").astype("str")


def approval_rate(y_true, refused) -> float:
    return float(np.mean(np.asarray(refused) == 0))


def false_refusal_rate(y_true, refused) -> float:
    """Good clients refused / good clients (the false-positive rate); undefined without good clients."""
    good = np.asarray(y_true) == 0
    return float(np.mean(np.asarray(refused)[good] == 1)) if good.any() else float("nan")


def default_rate(y_true, refused) -> float:
    """Observed defaulters / clients of the group, whatever the decision."""
    return float(np.mean(np.asarray(y_true) == 1))


def recall(y_true, refused) -> float:
    """Defaulters refused / defaulters; undefined without defaulters."""
    bad = np.asarray(y_true) == 1
    return float(np.mean(np.asarray(refused)[bad] == 1)) if bad.any() else float("nan")


GROUP_METRICS = {"clients": count, "taux_de_defaut": default_rate, "taux_d_accord": approval_rate,
                 "taux_de_refus_a_tort": false_refusal_rate, "rappel": recall}


def audit(y_true: np.ndarray, refused: np.ndarray, groups: pd.Series, min_group_size: int, four_fifths: float):
    """The metrics of each group, and the gaps between the groups of at least `min_group_size` clients
    (a handful of clients, such as Kaggle's few XNA genders, would make any ratio noise)."""
    frame = MetricFrame(metrics=GROUP_METRICS, y_true=np.asarray(y_true), y_pred=np.asarray(refused, dtype=int),
                        sensitive_features=groups.rename("groupe"))
    table = frame.by_group
    if isinstance(groups.dtype, pd.CategoricalDtype):  # age bands in age order, not alphabetical
        table = table.reindex([c for c in groups.cat.categories if c in table.index])
    table = table.reset_index()
    table["clients"] = table["clients"].astype(int)
    table["compte_dans_les_ecarts"] = table["clients"] >= min_group_size
    compared = table[table["compte_dans_les_ecarts"]]
    approval = compared["taux_d_accord"]
    ratio = float(approval.min() / approval.max()) if len(compared) >= 2 and approval.max() > 0 else float("nan")
    summary = {
        "groups": {row.groupe: {"clients": int(row.clients), "default_rate": row.taux_de_defaut,
                                "approval_rate": row.taux_d_accord,
                                "false_refusal_rate": row.taux_de_refus_a_tort, "recall": row.rappel}
                   for row in table.itertuples()},
        "disparate_impact_ratio": ratio,
        "four_fifths_rule_met": bool(ratio >= four_fifths),
        "false_refusal_rate_gap": _gap(compared["taux_de_refus_a_tort"]),
        "recall_gap": _gap(compared["rappel"]),
        "groups_too_small": [str(g) for g in table.loc[~table["compte_dans_les_ecarts"], "groupe"]],
    }
    return table, summary


def _gap(rates: pd.Series) -> float:
    return float(rates.max() - rates.min())


def decided_holdout(scores: pd.DataFrame, application: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Holdout clients with their outcome, decision, gender and age, joined by id (row order never matters)."""
    frame = scores.merge(application, on=KEY, how="left", validate="one_to_one")
    if frame[TARGET].isna().any():
        raise ValueError(f"{int(frame[TARGET].isna().sum())} holdout clients are not in {APPLICATION_TRAIN}")
    frame["refused"] = frame["probability"] >= threshold
    return frame


def fairness_figure(tables: dict[str, pd.DataFrame], summaries: dict[str, dict], four_fifths: float) -> Path:
    fig, _ = new_figure(11.0, 5.0)  # the house style; the axes are rebuilt side by side
    fig.clf()
    axes = fig.subplots(1, len(tables), sharey=True, width_ratios=[len(t) for t in tables.values()])
    bars = {"taux_d_accord": ("taux d'accord", OKABE_ITO["blue"], None),
            "taux_de_refus_a_tort": ("bons clients refusés", OKABE_ITO["orange"], "//"),
            "rappel": ("défauts détectés (rappel)", OKABE_ITO["green"], "..")}
    width = 0.27
    for ax, (attribute, table) in zip(np.atleast_1d(axes), tables.items()):
        x = np.arange(len(table))
        for k, (column, (name, colour, hatch)) in enumerate(bars.items()):
            values = table[column].to_numpy(dtype="float64")
            ax.bar(x + (k - 1) * width, values, width, color=colour, hatch=hatch, edgecolor="white", label=name)
            for xi, v in zip(x, values):
                if not np.isnan(v):
                    ax.text(xi + (k - 1) * width, v + 0.01, french_percent(v), ha="center", fontsize=6.5)
        best = table.loc[table["compte_dans_les_ecarts"], "taux_d_accord"].max()
        ax.axhline(four_fifths * best, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
                   label=f"{french_number(four_fifths, 1)} × meilleur taux d'accord (règle des 4/5)")
        ax.set_xticks(x, [f"{g}\n({french_number(n, 0)} clients)" for g, n in zip(table["groupe"], table["clients"])],
                      fontsize=8)
        ratio = summaries[attribute]["disparate_impact_ratio"]
        ax.set_title(f"{ATTRIBUTES[attribute]} : ratio d'impact {french_number(ratio, 2)}", fontsize=11)
        ax.set_ylim(0, 1.25)  # headroom for the legend
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.grid(axis="x", visible=False)
        french_axis(ax, "y", 0, percent=True)
    np.atleast_1d(axes)[-1].legend(loc="upper left", ncol=2, fontsize=8, frameon=False)  # the widest panel
    fig.suptitle("Décisions du modèle par groupe (validation finale, seuil retenu)", fontsize=12)
    return save(fig, figure("fairness"))


def check_setting(bundle: dict, exclude_protected: list[str]) -> None:
    """The champion (``bundle``: its bundle.json) must be trained with the ``features.exclude_protected`` audited."""
    if list(bundle.get("exclude_protected", [])) != list(exclude_protected):
        raise ValueError("models/champion was trained with another features.exclude_protected: "
                         "rerun the threshold stage")


def audit_groups(frame: pd.DataFrame, settings: dict) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """The `audit` of the decided holdout (`decided_holdout`) by gender and by age band; ``settings`` is
    params.yaml's ``fairness``. Returns each attribute's table and summary."""
    y, refused = frame[TARGET].to_numpy(dtype=int), frame["refused"].to_numpy()
    groups = {"sexe": gender_groups(frame["CODE_GENDER"]), "age": age_bands(frame["DAYS_BIRTH"], settings["age_bands"])}
    tables, summaries = {}, {}
    for attribute, by in groups.items():
        tables[attribute], summaries[attribute] = audit(y, refused, by, settings["min_group_size"],
                                                        settings["four_fifths"])
    return tables, summaries


def fairness_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every attribute's groups in one table, the attribute first."""
    return pd.concat([t.assign(attribut=a) for a, t in tables.items()])[
        ["attribut", "groupe", *GROUP_METRICS, "compte_dans_les_ecarts"]
    ]


def fairness_metrics(frame: pd.DataFrame, bundle: dict, settings: dict, exclude_protected: list[str],
                     summaries: dict[str, dict]) -> dict:
    """fairness.json: the setting audited, the whole holdout's rates, then each attribute's summary."""
    y, refused = frame[TARGET].to_numpy(dtype=int), frame["refused"].to_numpy()
    return {
        "exclude_protected": exclude_protected,
        "model_version": bundle["model_version"],
        "threshold": bundle["threshold"],
        "holdout_clients": len(frame),
        "four_fifths": settings["four_fifths"],
        "min_group_size": settings["min_group_size"],
        "overall": {"default_rate": default_rate(y, refused), "approval_rate": approval_rate(y, refused),
                    "false_refusal_rate": false_refusal_rate(y, refused), "recall": recall(y, refused)},
        **dict(summaries.items()),
    }
