"""How the API words what it serves, in French: feature and category labels, values with their units, and the
client sheet's sections. The labels are `credit_scoring.features.labels`' ones, with the explain stage's own on top."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from app.api.bodies import ClientSheet, Field, Section
from credit_scoring.common.formatting import french_percent
from credit_scoring.dataset.bank.database import plain
from credit_scoring.features.application import BINARY_CATEGORIES, category_values
from credit_scoring.features.labels import APPLICATION_CATEGORIES, BINARY_LABELS, MISSING, FeatureLabel, value_label

PROBABILITY = "PROBABILITY"
PROBABILITY_LABEL = "Risque de défaut estimé"
CATEGORIES = ["NAME_CONTRACT_TYPE", "CODE_GENDER", "NAME_EDUCATION_TYPE", "NAME_INCOME_TYPE", "NAME_FAMILY_STATUS",
              "NAME_HOUSING_TYPE", "OCCUPATION_TYPE"]
TEXT_COLUMNS = [*CATEGORIES, "ORGANIZATION_TYPE"]  # raw category columns the comparison table carries

# The client sheet: sections of readable fields, each a feature (its label and unit say how to show it) or a
# raw category column of the application.
SECTIONS = {
    "Identité et famille": ["CODE_GENDER", "AGE_YEARS", "NAME_FAMILY_STATUS", "CNT_CHILDREN", "CNT_FAM_MEMBERS",
                            "NAME_EDUCATION_TYPE"],
    "Revenus et crédit demandé": ["NAME_CONTRACT_TYPE", "AMT_INCOME_TOTAL", "NAME_INCOME_TYPE", "AMT_CREDIT",
                                  "AMT_ANNUITY", "AMT_GOODS_PRICE", "CREDIT_INCOME_RATIO", "ANNUITY_INCOME_RATIO",
                                  "PAYMENT_RATE"],
    "Emploi": ["EMPLOYED_YEARS", "OCCUPATION_TYPE", "ORGANIZATION_TYPE"],
    "Logement": ["NAME_HOUSING_TYPE", "FLAG_OWN_REALTY_Y", "FLAG_OWN_CAR_Y", "OWN_CAR_AGE", "REGION_RATING_CLIENT"],
    "Historique de crédit": ["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3", "BURO_COUNT", "ACTIVE_COUNT",
                             "PREV_COUNT", "APPROVED_COUNT", "REFUSED_COUNT"],
}
PENSIONER_TEXT = "sans emploi salarié déclaré (retraité ou sans activité)"


def finite(value) -> float | None:
    """A JSON-safe number: None for missing or infinite values."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def category_label(column: str) -> str:
    if column in BINARY_LABELS:
        return "Sexe" if column == "CODE_GENDER" else BINARY_LABELS[column][0]
    return APPLICATION_CATEGORIES[column]


def known_categories(column: str) -> list[str]:
    return [v for v in category_values("application_train", column) if v is not None]


def category_text(column: str, value) -> str:
    if value is None:
        return MISSING
    if column == "CODE_GENDER":
        return {"M": "Homme", "F": "Femme"}.get(value, "non précisé")
    if column in BINARY_CATEGORIES:
        return "oui" if value == BINARY_CATEGORIES[column][0] else "non"
    text = value_label(value)
    return text[:1].upper() + text[1:]


class Wording:
    """Labels and readable values of the served features (the explain stage's labels over the generated ones)."""

    def __init__(self, labels: dict[str, FeatureLabel]) -> None:
        self.labels = labels

    def display(self, name: str, value) -> str:
        """A value as the client sheet shows it, in French with its unit."""
        if name in TEXT_COLUMNS:
            return category_text(name, value)
        if name == PROBABILITY:
            return MISSING if value is None else french_percent(value, 1)
        return self.labels[name].value_text(np.nan if value is None else value)

    def feature_label(self, name: str) -> str:
        if name == PROBABILITY:
            return PROBABILITY_LABEL
        if name in TEXT_COLUMNS:
            return category_label(name)
        return self.labels[name].label

    def sheet_sections(self, row: pd.Series, pensioner: bool) -> list[Section]:
        """The client sheet's sections of a comparison-table row (a pensioner's employment in words)."""
        sections = []
        for title, names in SECTIONS.items():
            fields = []
            for name in names:
                value = row[name]
                value = plain(value) if isinstance(value, str) or value is None else finite(value)
                shown = PENSIONER_TEXT if name == "EMPLOYED_YEARS" and pensioner else self.display(name, value)
                fields.append(Field(name=name, label=self.feature_label(name), value=value, display=shown))
            sections.append(Section(title=title, fields=fields))
        return sections

    def client_sheet(self, client_id: int, dataset: str, row: pd.Series, pensioner: bool,
                     values: dict) -> ClientSheet:
        return ClientSheet(sk_id_curr=int(client_id), dataset=dataset, sections=self.sheet_sections(row, pensioner),
                           values=values)
