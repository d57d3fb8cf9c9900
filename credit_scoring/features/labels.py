"""French labels of every feature, and each feature's value as a relationship manager would say it.

Labels are generated from the specs `credit_scoring.features` builds the names from (block prefix, source column,
aggregation, one-hot value), never parsed back from the names, so a new aggregate gets its label as soon as it
gets its column. What is hand-written is the vocabulary: a French noun phrase and a unit per source column
(`labels_fr.json`), a phrase per block of rows, a word per aggregation, a translation per category value
(Kaggle's own value, in quotes, when there is none).

Every label carries a unit, which says how to show a value in readable terms: ages in years, amounts in
euros, day offsets as durations, shares in per cent, 0/1 flags as a statement or its negation. Shares of
rows keep the name of their block's row count, so a reason can say "3 sur 12" rather than "25 %".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

import pandas as pd

from credit_scoring.common.formatting import french_number, french_percent
from credit_scoring.dataset.schema import table
from credit_scoring.features.application import BINARY_CATEGORIES, DAYS_PER_YEAR, category_name, category_values
from credit_scoring.features.history_specs import (
    BB_STATUS_SHARES,
    CLIENT_SOURCES,
    application_feature_names,
    block_aggregates,
    feature_columns,
)

DAYS_PER_MONTH = DAYS_PER_YEAR / 12
WORDS_FILE = Path(__file__).with_name("labels_fr.json")  # the French words of the raw columns
_WORDS = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
MISSING = "non renseigné"
NBSP = "\u00a0"  # between a number and its unit: never split across lines


@dataclass(frozen=True)
class FeatureLabel:
    """How to name one feature and show its value in French.

    `unit` is a key of `UNITS`. For 0/1 features (`flag`) `label` states the fact and `negation` its
    opposite; `template`, when set, is a whole statement with a `{value}` slot; `count_feature` names the
    row count of a share's block (its value becomes "k sur n"); `missing` says what a missing value means
    (for history aggregates: no row to aggregate, not an unanswered question); `history_flag` names the
    has-history flag of an aggregate's table, which says it better when the client has no row there at all.
    """

    name: str
    label: str
    unit: str
    negation: str | None = None
    template: str | None = None
    count_feature: str | None = None
    history_flag: str | None = None
    missing: str = MISSING
    description_en: str | None = None

    def value_text(self, value: float) -> str:
        """The value in readable units ("34 ans", "12 500 €", "25 %"), or that it is missing."""
        if _missing(value):
            return self.missing
        return UNITS[self.unit](float(value))

    def statement(self, row: Mapping[str, float]) -> str:
        """What the feature says about a client, as a short French clause without final punctuation."""
        value = row.get(self.name)
        if _missing(value):
            return f"{self.label} : {self.missing}"
        if self.unit == "flag":
            return self.label if value >= 0.5 else self.negation
        if self.template:
            return self.template.format(value=self.value_text(value))
        count = row.get(self.count_feature) if self.count_feature else None
        if not _missing(count) and count > 0:
            return f"{self.label} : {round(value * count)} sur {round(count)} ({self.value_text(value)})"
        return f"{self.label} : {self.value_text(value)}"

    def as_dict(self) -> dict:
        defaults = {"name": self.name, "missing": MISSING}
        return {k: v for k, v in asdict(self).items() if v is not None and defaults.get(k) != v}


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


# ---------------------------------------------------------------------------------------------------------
# Units: numbers as a client hears them.
# ---------------------------------------------------------------------------------------------------------
def _plain(x: float, max_decimals: int = 1) -> str:
    """A number with as few decimals as it needs (12 -> '12', 2.5 -> '2,5')."""
    return french_number(x, 0 if float(x).is_integer() else max_decimals)


def duration(days: float) -> str:
    """A length of time in the unit a person would use: days, then months, then years."""
    days = abs(days)
    if days < 45:
        return f"{_plain(round(days), 0)}{NBSP}jour{'s' if round(days) > 1 else ''}"
    if days < 2 * DAYS_PER_YEAR:
        return f"{_plain(round(days / DAYS_PER_MONTH), 0)}{NBSP}mois"
    years = days / DAYS_PER_YEAR
    return f"{_plain(round(years, 1) if years < 10 else round(years), 1)}{NBSP}ans"


def _share(x: float) -> str:
    return french_percent(x, 0 if abs(x) >= 0.1 or x == 0 else 1)


def _count(x: float) -> str:
    return _plain(round(x, 1))


DPD_BUCKETS = {0: "aucun retard", 1: "1 à 30 jours de retard", 2: "31 à 60 jours de retard",
               3: "61 à 90 jours de retard", 4: "91 à 120 jours de retard",
               5: "plus de 120 jours de retard ou créance passée en perte"}

UNITS = {
    "amount": lambda x: f"{french_number(x, 0)}{NBSP}€",
    "share": _share,
    "times": lambda x: f"{_plain(round(x, 1))}{NBSP}fois",
    "count": _count,
    "number": lambda x: french_number(x, 2),
    "score": lambda x: f"{french_number(x, 2)}{NBSP}sur{NBSP}1",
    "age_days": lambda x: f"{math.floor(-x / DAYS_PER_YEAR)}{NBSP}ans",
    "age_years": lambda x: f"{math.floor(x)}{NBSP}ans",
    "years": lambda x: duration(x * DAYS_PER_YEAR),
    "days_ago": duration,  # a past day offset (negative): how long ago
    "days_offset": lambda x: f"il y a {duration(x)}" if x < 0 else f"dans {duration(x)}",
    "day_total": lambda x: f"{french_number(abs(x), 0)}{NBSP}jours",
    "month_total": lambda x: f"{french_number(abs(x), 0)}{NBSP}mois",
    "months_ago": lambda x: duration(x * DAYS_PER_MONTH),
    "day_count": lambda x: f"{_plain(round(x, 1))}{NBSP}jour{'s' if x >= 2 else ''}",
    "dpd_bucket": lambda x: DPD_BUCKETS[int(x)] if float(x).is_integer() and int(x) in DPD_BUCKETS
    else f"tranche moyenne {french_number(x, 1)}{NBSP}sur{NBSP}5",
    "hour": lambda x: f"{_plain(round(x, 1))}{NBSP}h",
    "flag": lambda x: "oui" if x >= 0.5 else "non",
}
AGO_UNITS = ("days_ago", "months_ago")  # the smallest offset is the longest time ago


def _article_de(phrase: str) -> str:
    """'de' glued to a phrase with its article, as French does: de le -> du, de les -> des."""
    if phrase.startswith("le "):
        return "du " + phrase[3:]
    if phrase.startswith("les "):
        return "des " + phrase[4:]
    return "de " + phrase


def _de(noun: str) -> str:
    """'de' before a plural noun without article, elided before a vowel: d'échéances, de demandes."""
    return ("d'" if noun[0].lower() in "aeéèêiouyh" else "de ") + noun


# ---------------------------------------------------------------------------------------------------------
# Category values.
# ---------------------------------------------------------------------------------------------------------
VALUES = {
    None: MISSING, "XNA": MISSING, "XAP": "sans objet",
    **{value: words for theme in _WORDS["category_values"].values() for value, words in theme.items()},
}
NUMBERED_TYPES = {"Business Entity Type": "entreprise de type", "Industry: type": "industrie de type",
                  "Trade: type": "commerce de type", "Transport: type": "transport de type"}


def value_label(value: str | None) -> str:
    """A category value in French; Kaggle's own spelling when there is no translation."""
    if value in VALUES:
        return VALUES[value]
    for english, french in NUMBERED_TYPES.items():
        if value.startswith(english):
            return f"{french} {value[len(english):].strip()}"
    return value


# ---------------------------------------------------------------------------------------------------------
# Application table.
# ---------------------------------------------------------------------------------------------------------
APPLICATION_NUMERIC: dict[str, tuple] = {
    # name: (label, unit[, negation or template]); the engineered features of credit_scoring.features come last
    name: tuple(words) for name, words in _WORDS["application_numeric"].items()
}

BUILDING_NOUNS = {
    "APARTMENTS": "surface des appartements", "BASEMENTAREA": "surface du sous-sol",
    "YEARS_BEGINEXPLUATATION": "ancienneté d'exploitation", "YEARS_BUILD": "âge du bâtiment",
    "COMMONAREA": "surface des parties communes", "ELEVATORS": "nombre d'ascenseurs", "ENTRANCES": "nombre d'entrées",
    "FLOORSMAX": "nombre d'étages le plus élevé", "FLOORSMIN": "nombre d'étages le plus bas",
    "LANDAREA": "surface du terrain", "LIVINGAPARTMENTS": "appartements habitables", "LIVINGAREA": "surface habitable",
    "NONLIVINGAPARTMENTS": "appartements non habitables", "NONLIVINGAREA": "surface non habitable",
    "TOTALAREA": "surface totale",
}
BUILDING_STATS = {"AVG": "moyenne", "MODE": "valeur la plus fréquente", "MEDI": "médiane"}
BUREAU_ENQUIRY_WINDOWS = {"HOUR": "l'heure", "DAY": "le jour", "WEEK": "la semaine", "MON": "le mois",
                          "QRT": "le trimestre", "YEAR": "l'année"}

APPLICATION_CATEGORIES: dict[str, str] = _WORDS["application_categories"]
BINARY_LABELS = {
    "CODE_GENDER": ("Homme", "Femme"),
    "FLAG_OWN_CAR": ("Possède une voiture", "Ne possède pas de voiture"),
    "FLAG_OWN_REALTY": ("Propriétaire d'un logement", "Non propriétaire d'un logement"),
}


def _application_label(name: str) -> tuple:
    """(label, unit[, negation or template]) of a numeric application column, by pattern for the families."""
    if name in APPLICATION_NUMERIC:
        return APPLICATION_NUMERIC[name]
    if name.startswith("FLAG_DOCUMENT_"):
        number = name.removeprefix("FLAG_DOCUMENT_")
        return f"Justificatif n° {number} fourni", "flag", f"Justificatif n° {number} non fourni"
    if name.startswith("AMT_REQ_CREDIT_BUREAU_"):
        window = BUREAU_ENQUIRY_WINDOWS[name.removeprefix("AMT_REQ_CREDIT_BUREAU_")]
        return f"Consultations du bureau de crédit dans {window} précédant la demande", "count"
    base, _, stat = name.rpartition("_")
    if base in BUILDING_NOUNS and stat in BUILDING_STATS:
        return f"Immeuble du logement – {BUILDING_NOUNS[base]} ({BUILDING_STATS[stat]}, normalisée)", "number"
    raise KeyError(f"no French label for the application feature {name}")


def _one_hot(name: str, column_label: str, value: str | None) -> FeatureLabel:
    if value is None:
        return FeatureLabel(name, f"{column_label} : {MISSING}", "flag", negation=f"{column_label} : renseigné")
    shown = value_label(value)
    return FeatureLabel(name, f"{column_label} : « {shown} »", "flag",
                        negation=f"{column_label} : autre que « {shown} »")


def application_labels() -> dict[str, FeatureLabel]:
    out = {}
    for column, (one, _zero) in BINARY_CATEGORIES.items():
        yes, no = BINARY_LABELS[column]
        out[category_name(column, one)] = FeatureLabel(category_name(column, one), yes, "flag", negation=no)
    for column, column_label in APPLICATION_CATEGORIES.items():
        for value in category_values("application_train", column):
            name = category_name(column, value)
            out[name] = _one_hot(name, column_label, value)
    for name in application_feature_names():
        if name in out:
            continue
        label, unit, *extra = _application_label(name)
        more = {("negation" if unit == "flag" else "template"): extra[0]} if extra else {}
        out[name] = FeatureLabel(name, label, unit, **more)
    return out


# ---------------------------------------------------------------------------------------------------------
# History tables: block (which rows), column (what), aggregation (how).
# ---------------------------------------------------------------------------------------------------------
BLOCK_ROWS = {
    # prefix: the rows of the block, as a plural noun phrase
    "BURO": "crédits déclarés au bureau de crédit",
    "ACTIVE": "crédits en cours déclarés au bureau de crédit",
    "CLOSED": "crédits clos déclarés au bureau de crédit",
    "PREV": "demandes de crédit antérieures",
    "APPROVED": "demandes de crédit antérieures acceptées",
    "REFUSED": "demandes de crédit antérieures refusées",
    "PREV_L3": "trois dernières demandes de crédit",
    "POS": "relevés mensuels des crédits antérieurs",
    "POS_L12": "relevés mensuels des crédits antérieurs sur 12 mois",
    "INSTAL": "échéances des crédits antérieurs",
    "INSTAL_L365": "échéances de la dernière année",
    "CC": "relevés mensuels de carte de crédit",
    "CC_L12": "relevés mensuels de carte de crédit sur 12 mois",
}
COUNT_LABELS = {"PREV_L3": "Nombre de demandes de crédit antérieures (jusqu'à trois)"}
BB_STATUS = {"C": "clos", "X": "au statut inconnu", "0": "sans retard", "1": "avec 1 à 30 jours de retard",
             "2": "avec 31 à 60 jours de retard", "3": "avec 61 à 90 jours de retard",
             "4": "avec 91 à 120 jours de retard", "5": "avec plus de 120 jours de retard ou en perte"}

_DPD = {"SK_DPD": ("les jours de retard", "day_count"),
        "SK_DPD_DEF": ("les jours de retard hors petits montants", "day_count")}
_MORE_COLUMNS = {  # after a table's columns of labels_fr.json: those shared by two tables or derived from the schema
    "bureau": {share: (f"la part des mois {BB_STATUS[status]}", "share")
               for share, status in zip(BB_STATUS_SHARES, category_values("bureau_balance", "STATUS"))},
    "POS_CASH_balance": _DPD,
    "credit_card_balance": _DPD,
}
HISTORY_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    # source table: column -> (noun phrase with its article, unit of one row's value)
    table: {**{name: tuple(words) for name, words in columns.items()}, **_MORE_COLUMNS.get(table, {})}
    for table, columns in _WORDS["history_columns"].items()
}
# LATE is a 0/1 per row: its mean is a share of the block's rows and its sum a number of them.
LATE_ROWS = {"POS_CASH_balance": "en retard", "installments_payments": "payées en retard",
             "credit_card_balance": "en retard"}
# category column -> what a row "is" when it holds the value {v}
HISTORY_CATEGORIES: dict[str, str] = _WORDS["history_categories"]
AGGREGATION_WORDS = {"min": "Minimum", "max": "Maximum", "mean": "Moyenne", "sum": "Total", "var": "Variance"}


def _aggregate_unit(func: str, unit: str) -> str:
    """The unit of an aggregate of values in `unit`: a variance has no readable unit, a sum of days offsets is
    a number of days (or months), a mean of counts may have decimals."""
    if func == "var":
        return "number"
    if func == "sum" and unit in ("days_ago", "days_offset"):
        return "day_total"
    if func == "sum" and unit == "months_ago":
        return "month_total"
    if func == "sum" and unit not in ("amount", "count", "day_count"):
        return "number"
    return unit


def _aggregation_word(func: str, unit: str) -> str:
    """For offsets in the past the smallest value is the longest ago: its minimum is the longest time."""
    if unit in AGO_UNITS and func in ("min", "max"):
        func = {"min": "max", "max": "min"}[func]
    return AGGREGATION_WORDS[func]


NO_HISTORY = "aucun historique correspondant"


def _history_label(aggregate, prefix: str, table_name: str, count_feature: str | None) -> FeatureLabel:
    rows = BLOCK_ROWS[prefix]
    name = aggregate.name
    if aggregate.func == "count":
        return FeatureLabel(name, COUNT_LABELS.get(prefix, f"Nombre {_de(rows)}"), "count")
    if aggregate.func == "share":
        qualifier = HISTORY_CATEGORIES[aggregate.column].format(v=value_label(aggregate.value))
        return FeatureLabel(name, f"Part des {rows} {qualifier}", "share", count_feature=count_feature)
    if aggregate.column == "LATE":
        late = LATE_ROWS[table_name]
        if aggregate.func == "mean":
            return FeatureLabel(name, f"Part des {rows} {late}", "share", count_feature=count_feature)
        return FeatureLabel(name, f"Nombre {_de(rows)} {late}", "count")
    phrase, unit = HISTORY_COLUMNS[table_name][aggregate.column]
    if aggregate.func == "nunique":
        return FeatureLabel(name, f"Nombre de valeurs distinctes {_article_de(phrase)} ({rows})", "count")
    word = _aggregation_word(aggregate.func, unit)
    return FeatureLabel(name, f"{word} {_article_de(phrase)} ({rows})", _aggregate_unit(aggregate.func, unit))


def history_labels() -> dict[str, FeatureLabel]:
    out = {}
    for source in CLIENT_SOURCES:
        for flag in source.flags:
            present, absent = HISTORY_FLAG_LABELS[flag]
            out[flag] = FeatureLabel(flag, present, "flag", negation=absent)
        for block in source.blocks:
            count_feature = f"{block.prefix}_COUNT" if block.count else None
            for aggregate in block_aggregates(block, source.table):
                label = _history_label(aggregate, block.prefix, source.table, count_feature)
                out[aggregate.name] = replace(label, missing=NO_HISTORY, history_flag=next(iter(source.flags)))
    return out


HISTORY_FLAG_LABELS = {
    "HAS_BUREAU": ("Crédits connus du bureau de crédit", "Aucun crédit connu du bureau de crédit"),
    "HAS_BUREAU_BALANCE": ("Relevés mensuels connus du bureau de crédit", "Aucun relevé mensuel au bureau de crédit"),
    "HAS_PREVIOUS_APPLICATION": ("Demandes de crédit antérieures", "Aucune demande de crédit antérieure"),
    "HAS_POS_CASH": ("Crédits antérieurs en point de vente ou en espèces",
                     "Aucun crédit antérieur en point de vente ou en espèces"),
    "HAS_INSTALLMENTS": ("Échéances de crédits antérieurs", "Aucune échéance de crédit antérieur"),
    "HAS_CREDIT_CARD": ("Carte de crédit antérieure", "Aucune carte de crédit antérieure"),
}


# ---------------------------------------------------------------------------------------------------------
# All of them.
# ---------------------------------------------------------------------------------------------------------
@cache
def _generated() -> dict[str, FeatureLabel]:
    labels = {**application_labels(), **history_labels()}
    missing = [name for name in feature_columns() if name not in labels]
    if missing:
        raise KeyError(f"{len(missing)} feature(s) without a French label, e.g. {missing[:5]}")
    return {name: labels[name] for name in feature_columns()}


def feature_labels(descriptions: pd.DataFrame | None = None) -> dict[str, FeatureLabel]:
    """The label of every feature of `feature_columns()`, in that order.

    `descriptions` (Kaggle's HomeCredit_columns_description, as the prepare stage stores it) adds the English
    description of each raw application column: a second reading for analysts, never replacing the French.
    """
    labels = _generated()
    if descriptions is None:
        return dict(labels)
    application = descriptions[descriptions["Table"].str.startswith("application")]
    english = dict(zip(application["Row"], application["Description"]))
    raw_columns = set(table("application_train").column_names)
    return {name: FeatureLabel(**{**asdict(label), "description_en": english[name]})
            if name in raw_columns and name in english else label for name, label in labels.items()}


def labels_from_dict(data: Mapping[str, Mapping]) -> dict[str, FeatureLabel]:
    """Labels read back from their JSON export (`FeatureLabel.as_dict` per name)."""
    return {name: FeatureLabel(name=name, **fields) for name, fields in data.items()}
