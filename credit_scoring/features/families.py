"""Information families: every model feature belongs to exactly one family, named by what it is about, in French
for people. A client's principal reasons are given by family (`credit_scoring.explain.local.reason_codes`): the
826 features hold many transformations of one piece of information (five combinations of the external scores, the
age in days and in years, dozens of aggregates of one history table), which, explained apart, would repeat one fact.

History features belong to the family of their table (from `CLIENT_SOURCES`, the specs that build them).
Application features belong to the family of the raw column their meaning is about, declared here by name or by
name prefix (a one-hot column starts with its category column's name); the longest declared prefix wins, and a
feature no declaration covers is an error (`family_of`), so a new feature cannot go unexplained.
"""

from __future__ import annotations

from functools import cache

from credit_scoring.features.history_specs import CLIENT_SOURCES, feature_columns, source_columns

FAMILIES: dict[str, str] = {
    "external_scores": "Scores externes",
    "age": "Âge",
    "employment": "Emploi",
    "income": "Revenus et charges",
    "credit": "Montant et durée du crédit",
    "household": "Situation familiale",
    "education": "Études",
    "housing": "Logement",
    "car": "Véhicule",
    "documents": "Documents fournis",
    "contact": "Coordonnées",
    "region": "Région",
    "identity": "Ancienneté de l'inscription et des papiers d'identité",
    "application": "Moment de la demande",
    "social_circle": "Entourage",
    "bureau_enquiries": "Consultations du bureau de crédit",
    "sex": "Sexe",
    "bureau": "Crédits déclarés au bureau",
    "previous": "Demandes de crédit antérieures",
    "repayments": "Historique chez Prêt à dépenser : remboursements",
    "cards": "Historique chez Prêt à dépenser : cartes de crédit",
}
"""Family key -> its name for people (French)."""

TABLE_FAMILIES = {
    "bureau": "bureau",
    "previous_application": "previous",
    "POS_CASH_balance": "repayments",
    "installments_payments": "repayments",
    "credit_card_balance": "cards",
}
"""History table -> family (bureau_balance's aggregates are built in the bureau source)."""

APPLICATION_FAMILIES: dict[str, tuple[str, ...]] = {
    "external_scores": ("EXT_SOURCE_",),
    "age": ("DAYS_BIRTH", "AGE_YEARS"),
    "employment": ("DAYS_EMPLOYED", "EMPLOYED_YEARS", "EMPLOYED_AGE_RATIO", "NAME_INCOME_TYPE_", "OCCUPATION_TYPE_",
                   "ORGANIZATION_TYPE_", "FLAG_EMP_PHONE"),
    "income": ("AMT_INCOME_TOTAL", "CREDIT_INCOME_RATIO", "ANNUITY_INCOME_RATIO", "INCOME_PER_FAMILY_MEMBER"),
    "credit": ("AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "PAYMENT_RATE", "GOODS_CREDIT_RATIO",
               "NAME_CONTRACT_TYPE_"),
    "household": ("CNT_CHILDREN", "CNT_FAM_MEMBERS", "NAME_FAMILY_STATUS_", "NAME_TYPE_SUITE_"),
    "education": ("NAME_EDUCATION_TYPE_",),
    "housing": ("NAME_HOUSING_TYPE_", "FLAG_OWN_REALTY_", "APARTMENTS_", "BASEMENTAREA_", "YEARS_BEGINEXPLUATATION_",
                "YEARS_BUILD_", "COMMONAREA_", "ELEVATORS_", "ENTRANCES_", "FLOORSMAX_", "FLOORSMIN_", "LANDAREA_",
                "LIVINGAPARTMENTS_", "LIVINGAREA_", "NONLIVINGAPARTMENTS_", "NONLIVINGAREA_", "TOTALAREA_MODE",
                "FONDKAPREMONT_MODE_", "HOUSETYPE_MODE_", "WALLSMATERIAL_MODE_", "EMERGENCYSTATE_MODE_"),
    "car": ("FLAG_OWN_CAR_", "OWN_CAR_AGE"),
    "documents": ("FLAG_DOCUMENT_", "DOCUMENT_COUNT"),
    "contact": ("FLAG_MOBIL", "FLAG_WORK_PHONE", "FLAG_CONT_MOBILE", "FLAG_PHONE", "FLAG_EMAIL",
                "DAYS_LAST_PHONE_CHANGE"),
    "region": ("REGION_POPULATION_RELATIVE", "REGION_RATING_CLIENT", "REG_REGION_", "REG_CITY_", "LIVE_REGION_",
               "LIVE_CITY_"),
    "identity": ("DAYS_REGISTRATION", "DAYS_ID_PUBLISH"),
    "application": ("HOUR_APPR_PROCESS_START", "WEEKDAY_APPR_PROCESS_START_"),
    "social_circle": ("OBS_", "DEF_"),
    "bureau_enquiries": ("AMT_REQ_CREDIT_BUREAU_", "BUREAU_ENQUIRY_COUNT"),
    "sex": ("CODE_GENDER_",),
}
"""Family -> the application features' names or name prefixes it takes (a derived feature goes with the column its
meaning is about: the credit-to-income ratio is about income, the payment rate about the credit)."""


class UnassignedFeature(KeyError):
    """A feature that no family declares."""


@cache
def _history_families() -> dict[str, str]:
    return {name: TABLE_FAMILIES[source.table] for source in CLIENT_SOURCES for name in source_columns(source)}


def family_of(feature: str) -> str:
    """The family key of a feature (UnassignedFeature when none declares it)."""
    history = _history_families()
    if feature in history:
        return history[feature]
    matches = [(len(prefix), family) for family, prefixes in APPLICATION_FAMILIES.items() for prefix in prefixes
               if feature == prefix or (prefix.endswith("_") and feature.startswith(prefix))
               or feature.startswith(prefix + "_")]
    if not matches:
        raise UnassignedFeature(f"feature {feature!r} belongs to no information family: declare it in "
                                "credit_scoring/features/families.py")
    return max(matches)[1]


def families(features: list[str] | None = None) -> dict[str, str]:
    """Feature -> family key, for the given features (every feature by default)."""
    return {feature: family_of(feature) for feature in (features or feature_columns())}
