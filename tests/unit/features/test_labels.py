"""French labels: every feature has one, readable, unique, and values are said in readable units."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from credit_scoring.dataset.schema import HISTORY_TABLES, table
from credit_scoring.features.history_specs import application_feature_names, feature_columns
from credit_scoring.features.labels import (
    MISSING,
    NO_HISTORY,
    UNITS,
    WORDS_FILE,
    FeatureLabel,
    feature_labels,
    labels_from_dict,
    value_label,
)

NBSP, NNBSP = "\u00a0", "\u202f"
LABELS = feature_labels()
# Pieces of feature names that must never show through a label (outside a quoted category value).
RAW_CODES = re.compile(r"\b(MEAN|MAX|MIN|SUM|VAR|COUNT|NUNIQUE|AMT|DAYS|CNT|FLAG|EXT|BURO|PREV|INSTAL|CC|POS|SK|DPD|"
                       r"BB|L3|L12|L365|ACTIVE|CLOSED|APPROVED|REFUSED|HAS|RATIO|nan|XNA|XAP)\b")


def plain(text: str) -> str:
    """Non-breaking spaces as plain ones, to compare with readable expectations."""
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def test_every_feature_has_a_french_label_without_raw_codes():
    names = feature_columns()
    assert list(LABELS) == names and len(names) == 826
    for name in names:
        label = LABELS[name]
        assert label.label.strip() and label.label != name, name
        assert "_" not in label.label, (name, label.label)
        unquoted = re.sub(r"«[^»]*»", "", label.label)
        assert not RAW_CODES.search(unquoted), (name, label.label)
        assert label.unit in UNITS, (name, label.unit)


def test_labels_are_unique_so_figures_never_show_two_identical_lines():
    seen = {}
    for name, label in LABELS.items():
        assert label.label not in seen, f"{name} and {seen.get(label.label)} share « {label.label} »"
        seen[label.label] = name


def test_flags_have_a_negation_and_shares_of_rows_a_real_count():
    names = set(LABELS)
    for name, label in LABELS.items():
        if label.unit == "flag":
            assert label.negation and label.negation != label.label, name
        if label.count_feature:
            assert label.count_feature in names and label.unit == "share", name


def test_category_values_are_translated_or_kept_as_kaggle_spells_them():
    assert value_label("Pensioner") == "retraité"
    assert value_label("Business Entity Type 3") == "entreprise de type 3"
    assert value_label("Industry: type 11") == "industrie de type 11"
    assert value_label("XNA") == MISSING
    assert value_label("Something new") == "Something new"
    assert LABELS["NAME_INCOME_TYPE_Pensioner"].label == "Type de revenus : « retraité »"


@pytest.mark.parametrize("name, value, expected", [
    ("DAYS_BIRTH", -12784.0, "35 ans"),
    ("AGE_YEARS", 35.9, "35 ans"),
    ("AMT_CREDIT", 12345.6, "12 346 €"),
    ("ANNUITY_INCOME_RATIO", 0.3412, "34 %"),
    ("ANNUITY_INCOME_RATIO", 0.034, "3,4 %"),
    ("CREDIT_INCOME_RATIO", 3.21, "3,2 fois"),
    ("DAYS_EMPLOYED", -600.0, "20 mois"),
    ("DAYS_EMPLOYED", -1000.0, "2,7 ans"),
    ("DAYS_EMPLOYED", -20.0, "20 jours"),
    ("EMPLOYED_YEARS", 12.4, "12 ans"),
    ("BURO_DAYS_CREDIT_ENDDATE_MAX", 300.0, "dans 10 mois"),
    ("BURO_DAYS_CREDIT_ENDDATE_MIN", -400.0, "il y a 13 mois"),
    ("INSTAL_DPD_MEAN", 1.5, "1,5 jour"),
    ("INSTAL_DPD_MAX", 12.0, "12 jours"),
    ("EXT_SOURCE_2", 0.456, "0,46 sur 1"),
    ("CNT_CHILDREN", 2.0, "2"),
    ("HOUR_APPR_PROCESS_START", 14.0, "14 h"),
    ("BURO_BB_DPD_STATUS_MAX_MAX", 2.0, "31 à 60 jours de retard"),
    ("FLAG_OWN_CAR_Y", 1.0, "oui"),
    ("AMT_CREDIT", np.nan, MISSING),
    ("INSTAL_DPD_MEAN", np.nan, NO_HISTORY),
])
def test_values_are_shown_in_readable_units(name, value, expected):
    assert plain(LABELS[name].value_text(value)) == expected


def test_statements_read_as_short_french_clauses():
    row = pd.Series({"ANNUITY_INCOME_RATIO": 0.34, "INSTAL_L365_LATE_MEAN": 0.25, "INSTAL_L365_COUNT": 12.0,
                     "FLAG_OWN_CAR_Y": 0.0, "HAS_BUREAU": 0.0, "NAME_CONTRACT_TYPE_Revolving_loans": 1.0,
                     "EXT_SOURCE_1": np.nan, "POS_LATE_MEAN": np.nan})
    said = {name: plain(LABELS[name].statement(row)) for name in row.index}
    assert said["ANNUITY_INCOME_RATIO"] == "L'annuité du crédit représente 34 % des revenus déclarés"
    assert said["INSTAL_L365_LATE_MEAN"] == "Part des échéances de la dernière année payées en retard : 3 sur 12 (25 %)"
    assert said["FLAG_OWN_CAR_Y"] == "Ne possède pas de voiture"
    assert said["HAS_BUREAU"] == "Aucun crédit connu du bureau de crédit"
    assert said["NAME_CONTRACT_TYPE_Revolving_loans"] == "Type de crédit demandé : « crédit renouvelable »"
    assert said["EXT_SOURCE_1"] == "Score externe n° 1 : non renseigné"
    assert said["POS_LATE_MEAN"] == f"Part des relevés mensuels des crédits antérieurs en retard : {NO_HISTORY}"


def test_the_smallest_past_offset_is_called_the_longest_time_ago():
    """DAYS_CREDIT is negative: its minimum is the oldest credit, i.e. the largest age of a credit."""
    assert LABELS["BURO_DAYS_CREDIT_MIN"].label.startswith("Maximum de l'ancienneté")
    assert LABELS["BURO_DAYS_CREDIT_MAX"].label.startswith("Minimum de l'ancienneté")
    assert LABELS["BURO_DAYS_CREDIT_ENDDATE_MIN"].label.startswith("Minimum de l'échéance")  # a date, not a duration


def test_kaggle_descriptions_add_english_to_raw_columns_only():
    descriptions = pd.DataFrame({
        "Table": ["application_{train|test}.csv", "application_{train|test}.csv", "bureau.csv"],
        "Row": ["AMT_CREDIT", "DAYS_BIRTH", "AMT_CREDIT_SUM"],
        "Description": ["Credit amount of the loan", "Client's age in days", "Current credit amount"],
        "Special": [None, None, None],
    }).astype("string")
    enriched = feature_labels(descriptions)
    assert enriched["AMT_CREDIT"].description_en == "Credit amount of the loan"
    assert enriched["AMT_CREDIT"].label == LABELS["AMT_CREDIT"].label  # French stays primary
    assert enriched["AGE_YEARS"].description_en is None
    assert enriched["BURO_AMT_CREDIT_SUM_MEAN"].description_en is None


def test_labels_survive_their_json_export():
    exported = {name: label.as_dict() for name, label in LABELS.items()}
    assert labels_from_dict(exported) == LABELS
    assert "name" not in exported["AMT_CREDIT"] and "missing" not in exported["AMT_CREDIT"]
    assert exported["INSTAL_DPD_MEAN"]["missing"] == NO_HISTORY
    assert isinstance(labels_from_dict(exported)["AMT_CREDIT"], FeatureLabel)


def test_the_words_file_names_each_known_column_once_and_only_known_columns():
    """labels_fr.json is the hand-written vocabulary: a key written twice would silently drop one translation,
    and a column the schema no longer has would be dead words."""
    def no_duplicate(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    words = json.loads(WORDS_FILE.read_text(encoding="utf-8"), object_pairs_hook=no_duplicate)
    application = set(table("application_train").column_names) | set(application_feature_names())
    assert set(words["application_numeric"]) <= application
    assert set(words["application_categories"]) <= set(table("application_train").column_names)
    assert set(words["history_columns"]) <= set(HISTORY_TABLES)
    values = [v for theme in words["category_values"].values() for v in theme]
    assert len(values) == len(set(values))
    assert all(isinstance(v, list) and len(v) in (2, 3) for v in words["application_numeric"].values())
