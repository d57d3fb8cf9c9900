"""French labels of every feature, and each feature's value as a relationship manager would say it.

Labels are generated from the specs `features.py` builds the names from (block prefix, source column,
aggregation, one-hot value), never parsed back from the names, so a new aggregate gets its label as soon as it
gets its column. What is hand-written is the vocabulary: a French noun phrase and a unit per source column, a
phrase per block of rows, a word per aggregation, a translation per category value (Kaggle's own value, in
quotes, when there is none).

Every label carries a unit, which says how to show a value in readable terms: ages in years, amounts in
euros, day offsets as durations, shares in per cent, 0/1 flags as a statement or its negation. Shares of
rows keep the name of their block's row count, so a reason can say "3 sur 12" rather than "25 %".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import cache

import pandas as pd

from credit_scoring.features import (
    BB_STATUS_SHARES,
    BINARY_CATEGORIES,
    CLIENT_SOURCES,
    DAYS_PER_YEAR,
    application_feature_names,
    block_aggregates,
    category_name,
    category_values,
    feature_columns,
)
from credit_scoring.formatting import french_number, french_percent
from credit_scoring.schema import table

DAYS_PER_MONTH = DAYS_PER_YEAR / 12
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


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


# ---------------------------------------------------------------------------------------------------------
# Category values.
# ---------------------------------------------------------------------------------------------------------
VALUES = {
    None: MISSING, "XNA": MISSING, "XAP": "sans objet",
    # contracts and statuses
    "Cash loans": "prêt personnel", "Revolving loans": "crédit renouvelable",
    "Consumer loans": "crédit à la consommation",
    "Approved": "acceptée", "Refused": "refusée", "Canceled": "annulée", "Unused offer": "offre non utilisée",
    "Active": "en cours", "Closed": "clos", "Sold": "cédé", "Completed": "terminé", "Signed": "signé",
    "Demand": "mise en demeure", "Returned to the store": "retourné au magasin", "Amortized debt": "dette amortie",
    "Sent proposal": "proposition envoyée",
    # people
    "Unaccompanied": "seul", "Family": "famille", "Spouse, partner": "conjoint", "Children": "enfants",
    "Other_A": "autre (A)", "Other_B": "autre (B)", "Group of people": "groupe de personnes",
    "Working": "salarié", "Commercial associate": "associé commercial", "Pensioner": "retraité",
    "State servant": "fonctionnaire", "Unemployed": "sans emploi", "Businessman": "chef d'entreprise",
    "Student": "étudiant", "Maternity leave": "congé maternité",
    "Secondary / secondary special": "secondaire", "Higher education": "supérieur",
    "Incomplete higher": "supérieur non terminé", "Lower secondary": "premier cycle du secondaire",
    "Academic degree": "doctorat",
    "Married": "marié", "Single / not married": "célibataire", "Civil marriage": "union civile",
    "Separated": "séparé", "Widow": "veuf", "Unknown": "inconnue",
    "House / apartment": "maison ou appartement", "With parents": "chez ses parents",
    "Municipal apartment": "logement municipal", "Rented apartment": "location",
    "Office apartment": "logement de fonction", "Co-op apartment": "coopérative",
    # occupations
    "Laborers": "ouvrier", "Sales staff": "commerce", "Core staff": "employé", "Managers": "cadre",
    "Drivers": "chauffeur", "High skill tech staff": "technicien qualifié", "Accountants": "comptable",
    "Medicine staff": "personnel médical", "Security staff": "sécurité", "Cooking staff": "cuisine",
    "Cleaning staff": "nettoyage", "Private service staff": "services à la personne",
    "Low-skill Laborers": "ouvrier non qualifié", "Secretaries": "secrétariat", "Waiters/barmen staff": "serveur",
    "Realty agents": "agent immobilier", "HR staff": "ressources humaines", "IT staff": "informatique",
    # days
    "MONDAY": "lundi", "TUESDAY": "mardi", "WEDNESDAY": "mercredi", "THURSDAY": "jeudi", "FRIDAY": "vendredi",
    "SATURDAY": "samedi", "SUNDAY": "dimanche",
    # employers
    "Self-employed": "indépendant", "Other": "autre", "Medicine": "santé", "Government": "administration",
    "School": "école", "Kindergarten": "crèche", "Construction": "construction", "Housing": "logement",
    "Security": "sécurité", "Military": "armée", "Agriculture": "agriculture", "Bank": "banque", "Police": "police",
    "Services": "services", "Postal": "poste", "Security Ministries": "ministères de la sécurité",
    "Restaurant": "restauration", "University": "université", "Electricity": "électricité", "Hotel": "hôtellerie",
    "Telecom": "télécommunications", "Emergency": "secours", "Insurance": "assurance", "Culture": "culture",
    "Mobile": "téléphonie mobile", "Realtor": "immobilier", "Legal Services": "services juridiques",
    "Advertising": "publicité", "Cleaning": "nettoyage", "Religion": "culte",
    # building
    "reg oper account": "compte d'exploitation", "reg oper spec account": "compte d'exploitation spécial",
    "org spec account": "compte spécial de l'organisme", "not specified": "non précisé",
    "block of flats": "immeuble collectif", "specific housing": "logement spécifique",
    "terraced house": "maison mitoyenne", "Panel": "panneaux", "Stone, brick": "pierre ou brique", "Block": "parpaings",
    "Wooden": "bois", "Mixed": "mixte", "Monolithic": "béton coulé", "Others": "autres", "No": "non", "Yes": "oui",
    "Y": "oui", "N": "non",
    # bureau
    "currency 1": "devise 1", "currency 2": "devise 2", "currency 3": "devise 3",
    "Consumer credit": "crédit à la consommation", "Credit card": "carte de crédit", "Car loan": "prêt auto",
    "Mortgage": "prêt immobilier", "Microloan": "microcrédit", "Loan for business development": "prêt professionnel",
    "Another type of loan": "autre type de prêt", "Unknown type of loan": "type de prêt inconnu",
    "Loan for working capital replenishment": "prêt de trésorerie",
    "Cash loan (non-earmarked)": "prêt personnel non affecté",
    # previous applications
    "Repairs": "travaux", "Urgent needs": "besoins urgents", "Everyday expenses": "dépenses courantes",
    "Education": "études", "Buying a used car": "voiture d'occasion", "Journey": "voyage",
    "Building a house or an annex": "construction", "Payments on other loans": "remboursement d'autres prêts",
    "Buying a new car": "voiture neuve", "Purchase of electronic equipment": "matériel électronique",
    "Buying a holiday home / land": "résidence secondaire ou terrain", "Car repairs": "réparation automobile",
    "Furniture": "ameublement", "Wedding / gift / holiday": "mariage, cadeau ou vacances",
    "Buying a home": "achat immobilier",
    "Business development": "développement d'activité", "Gasification / water supply": "raccordement gaz ou eau",
    "Buying a garage": "garage", "Hobby": "loisirs",
    "Cash through the bank": "espèces par la banque", "Non-cash from your account": "prélèvement sur compte",
    "Cashless from the account of the employer": "prélèvement chez l'employeur",
    "Repeater": "client déjà connu", "New": "nouveau client", "Refreshed": "client revenu",
    "Consumer Electronics": "électronique grand public", "Computers": "informatique", "Audio/Video": "audio et vidéo",
    "Construction Materials": "matériaux", "Photo / Cinema Equipment": "photo et cinéma",
    "Clothing and Accessories": "habillement", "Auto Accessories": "accessoires auto",
    "Homewares": "équipement de la maison",
    "Medical Supplies": "matériel médical", "Office Appliances": "bureautique", "Sport and Leisure": "sport et loisirs",
    "Jewelry": "bijouterie", "Gardening": "jardinage", "Vehicles": "véhicules", "Tourism": "tourisme",
    "Direct Sales": "vente directe", "Fitness": "remise en forme",
    "POS": "point de vente", "Cash": "espèces", "Cards": "cartes", "Cars": "automobile",
    "x-sell": "vente croisée", "walk-in": "demande spontanée",
    "Credit and cash offices": "agence", "Country-wide": "réseau national", "Stone": "magasin",
    "Regional / Local": "réseau régional", "AP+ (Cash loan)": "prêt personnel AP+", "Contact center": "centre d'appels",
    "Channel of corporate sales": "ventes aux entreprises", "Car dealer": "concessionnaire",
    "Consumer electronics": "électronique grand public", "Connectivity": "téléphonie", "Clothing": "habillement",
    "Industry": "industrie", "Auto technology": "automobile", "MLM partners": "vente en réseau",
    "middle": "moyen", "high": "élevé", "low_normal": "bas", "low_action": "très bas (promotion)",
    "Card Street": "carte, en magasin", "Card X-Sell": "carte, vente croisée",
    "Cash Street: high": "espèces en magasin, rendement élevé",
    "Cash Street: middle": "espèces en magasin, rendement moyen",
    "Cash Street: low": "espèces en magasin, rendement bas",
    "Cash X-Sell: high": "espèces, vente croisée, rendement élevé",
    "Cash X-Sell: middle": "espèces, vente croisée, rendement moyen",
    "Cash X-Sell: low": "espèces, vente croisée, rendement bas",
    "POS household with interest": "magasin, équipement de la maison, avec intérêts",
    "POS household without interest": "magasin, équipement de la maison, sans intérêts",
    "POS mobile with interest": "magasin, téléphonie, avec intérêts",
    "POS mobile without interest": "magasin, téléphonie, sans intérêts",
    "POS industry with interest": "magasin, industrie, avec intérêts",
    "POS industry without interest": "magasin, industrie, sans intérêts",
    "POS other with interest": "magasin, autres, avec intérêts",
    "POS others without interest": "magasin, autres, sans intérêts",
    "HC": "motif HC", "LIMIT": "plafond", "SCO": "score", "CLIENT": "choix du client", "SCOFR": "score (fraude)",
    "VERIF": "vérification",
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
    # name: (label, unit[, negation or template])
    "CNT_CHILDREN": ("Nombre d'enfants", "count"),
    "AMT_INCOME_TOTAL": ("Revenus annuels déclarés", "amount"),
    "AMT_CREDIT": ("Montant du crédit demandé", "amount"),
    "AMT_ANNUITY": ("Annuité du crédit demandé", "amount"),
    "AMT_GOODS_PRICE": ("Prix du bien financé", "amount"),
    "REGION_POPULATION_RELATIVE": ("Densité de population de la région (normalisée)", "number"),
    "DAYS_BIRTH": ("Âge du client (d'après la date de naissance)", "age_days"),
    "DAYS_EMPLOYED": ("Ancienneté dans l'emploi actuel (d'après la date d'embauche)", "days_ago"),
    "DAYS_REGISTRATION": ("Temps écoulé depuis la dernière modification de l'état civil", "days_ago"),
    "DAYS_ID_PUBLISH": ("Temps écoulé depuis le renouvellement de la pièce d'identité", "days_ago"),
    "OWN_CAR_AGE": ("Âge de la voiture", "years"),
    "FLAG_MOBIL": ("A donné un téléphone mobile", "flag", "N'a pas donné de téléphone mobile"),
    "FLAG_EMP_PHONE": ("A donné un téléphone professionnel", "flag", "N'a pas donné de téléphone professionnel"),
    "FLAG_WORK_PHONE": ("A donné un téléphone fixe au travail", "flag", "N'a pas donné de téléphone fixe au travail"),
    "FLAG_CONT_MOBILE": ("Téléphone mobile joignable", "flag", "Téléphone mobile injoignable"),
    "FLAG_PHONE": ("A donné un téléphone fixe personnel", "flag", "N'a pas donné de téléphone fixe personnel"),
    "FLAG_EMAIL": ("A donné une adresse électronique", "flag", "N'a pas donné d'adresse électronique"),
    "CNT_FAM_MEMBERS": ("Nombre de personnes au foyer", "count"),
    "REGION_RATING_CLIENT": ("Note de la région de résidence (1 à 3)", "count"),
    "REGION_RATING_CLIENT_W_CITY": ("Note de la région et de la ville de résidence (1 à 3)", "count"),
    "HOUR_APPR_PROCESS_START": ("Heure de la demande", "hour"),
    "REG_REGION_NOT_LIVE_REGION": ("Adresse déclarée et résidence dans des régions différentes", "flag",
                                   "Adresse déclarée et résidence dans la même région"),
    "REG_REGION_NOT_WORK_REGION": ("Adresse déclarée et travail dans des régions différentes", "flag",
                                   "Adresse déclarée et travail dans la même région"),
    "LIVE_REGION_NOT_WORK_REGION": ("Résidence et travail dans des régions différentes", "flag",
                                    "Résidence et travail dans la même région"),
    "REG_CITY_NOT_LIVE_CITY": ("Adresse déclarée et résidence dans des villes différentes", "flag",
                               "Adresse déclarée et résidence dans la même ville"),
    "REG_CITY_NOT_WORK_CITY": ("Adresse déclarée et travail dans des villes différentes", "flag",
                               "Adresse déclarée et travail dans la même ville"),
    "LIVE_CITY_NOT_WORK_CITY": ("Résidence et travail dans des villes différentes", "flag",
                                "Résidence et travail dans la même ville"),
    "EXT_SOURCE_1": ("Score externe n° 1", "score", "Le score externe n° 1 vaut {value}"),
    "EXT_SOURCE_2": ("Score externe n° 2", "score", "Le score externe n° 2 vaut {value}"),
    "EXT_SOURCE_3": ("Score externe n° 3", "score", "Le score externe n° 3 vaut {value}"),
    "OBS_30_CNT_SOCIAL_CIRCLE": ("Proches connus avec un retard de 30 jours observable", "count"),
    "DEF_30_CNT_SOCIAL_CIRCLE": ("Proches connus en défaut de 30 jours", "count"),
    "OBS_60_CNT_SOCIAL_CIRCLE": ("Proches connus avec un retard de 60 jours observable", "count"),
    "DEF_60_CNT_SOCIAL_CIRCLE": ("Proches connus en défaut de 60 jours", "count"),
    "DAYS_LAST_PHONE_CHANGE": ("Temps écoulé depuis le dernier changement de téléphone", "days_ago"),
    # Engineered in features.py
    "AGE_YEARS": ("Âge du client", "age_years"),
    "EMPLOYED_YEARS": ("Ancienneté dans l'emploi actuel", "years"),
    "DAYS_EMPLOYED_SENTINEL": ("Aucun emploi déclaré (retraité ou sans activité)", "flag", "Emploi déclaré"),
    "EMPLOYED_AGE_RATIO": ("Part de la vie passée dans l'emploi actuel", "share"),
    "CREDIT_INCOME_RATIO": ("Montant du crédit rapporté aux revenus annuels", "times",
                            "Le montant du crédit représente {value} les revenus annuels déclarés"),
    "ANNUITY_INCOME_RATIO": ("Part des revenus consacrée à l'annuité", "share",
                             "L'annuité du crédit représente {value} des revenus déclarés"),
    "PAYMENT_RATE": ("Annuité rapportée au montant du crédit", "share",
                     "L'annuité représente {value} du montant emprunté"),
    "GOODS_CREDIT_RATIO": ("Prix du bien rapporté au montant du crédit", "share",
                           "Le prix du bien financé représente {value} du montant du crédit"),
    "INCOME_PER_FAMILY_MEMBER": ("Revenus par personne du foyer", "amount"),
    "DOCUMENT_COUNT": ("Nombre de justificatifs fournis", "count"),
    "BUREAU_ENQUIRY_COUNT": ("Nombre de consultations du bureau de crédit avant la demande", "count"),
    "EXT_SOURCE_MEAN": ("Moyenne des scores externes", "score", "La moyenne des scores externes vaut {value}"),
    "EXT_SOURCE_MIN": ("Plus faible des scores externes", "score", "Le plus faible des scores externes vaut {value}"),
    "EXT_SOURCE_MAX": ("Plus élevé des scores externes", "score", "Le plus élevé des scores externes vaut {value}"),
    "EXT_SOURCE_STD": ("Écart entre les scores externes (écart type)", "number"),
    "EXT_SOURCE_PROD": ("Produit des trois scores externes", "number"),
    "EXT_SOURCE_WEIGHTED": ("Moyenne pondérée des scores externes", "score",
                            "La moyenne pondérée des scores externes vaut {value}"),
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

APPLICATION_CATEGORIES = {
    "NAME_CONTRACT_TYPE": "Type de crédit demandé", "NAME_TYPE_SUITE": "Accompagnant lors de la demande",
    "NAME_INCOME_TYPE": "Type de revenus", "NAME_EDUCATION_TYPE": "Niveau d'études",
    "NAME_FAMILY_STATUS": "Situation familiale", "NAME_HOUSING_TYPE": "Type de logement",
    "OCCUPATION_TYPE": "Profession", "WEEKDAY_APPR_PROCESS_START": "Jour de la demande",
    "ORGANIZATION_TYPE": "Secteur de l'employeur", "FONDKAPREMONT_MODE": "Immeuble du logement – fonds de travaux",
    "HOUSETYPE_MODE": "Immeuble du logement – type", "WALLSMATERIAL_MODE": "Immeuble du logement – murs",
    "EMERGENCYSTATE_MODE": "Immeuble du logement – état d'urgence",
}
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
    for column, (one, zero) in BINARY_CATEGORIES.items():
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
HISTORY_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    # source table: column -> (noun phrase with its article, unit of one row's value)
    "bureau": {
        "DAYS_CREDIT": ("l'ancienneté de la demande de crédit", "days_ago"),
        "DAYS_CREDIT_ENDDATE": ("l'échéance prévue du crédit", "days_offset"),
        "DAYS_CREDIT_UPDATE": ("l'ancienneté de la dernière mise à jour", "days_ago"),
        "CREDIT_DAY_OVERDUE": ("les jours de retard en cours", "day_count"),
        "AMT_CREDIT_MAX_OVERDUE": ("le plus fort impayé", "amount"),
        "AMT_CREDIT_SUM": ("le montant du crédit", "amount"),
        "AMT_CREDIT_SUM_DEBT": ("la dette restante", "amount"),
        "AMT_CREDIT_SUM_OVERDUE": ("le montant impayé", "amount"),
        "AMT_CREDIT_SUM_LIMIT": ("le plafond de crédit", "amount"),
        "AMT_ANNUITY": ("l'annuité", "amount"),
        "CNT_CREDIT_PROLONG": ("le nombre de prolongations", "count"),
        "DEBT_CREDIT_RATIO": ("la part du crédit restant due", "share"),
        "BB_MONTHS_BALANCE_MIN": ("l'ancienneté du premier relevé mensuel", "months_ago"),
        "BB_MONTHS_BALANCE_MAX": ("l'ancienneté du dernier relevé mensuel", "months_ago"),
        "BB_COUNT": ("le nombre de relevés mensuels", "count"),
        "BB_DPD_STATUS_MAX": ("la pire tranche de retard mensuelle", "dpd_bucket"),
        "BB_L12_DPD_STATUS_MAX": ("la pire tranche de retard sur 12 mois", "dpd_bucket"),
        **{share: (f"la part des mois {BB_STATUS[status]}", "share")
           for share, status in zip(BB_STATUS_SHARES, category_values("bureau_balance", "STATUS"))},
    },
    "previous_application": {
        "AMT_ANNUITY": ("l'annuité", "amount"),
        "AMT_APPLICATION": ("le montant demandé", "amount"),
        "AMT_CREDIT": ("le montant accordé", "amount"),
        "APP_CREDIT_PERC": ("le montant demandé rapporté au montant accordé", "share"),
        "CREDIT_GOODS_RATIO": ("le montant accordé rapporté au prix du bien", "share"),
        "AMT_DOWN_PAYMENT": ("l'apport personnel", "amount"),
        "AMT_GOODS_PRICE": ("le prix du bien", "amount"),
        "HOUR_APPR_PROCESS_START": ("l'heure de la demande", "hour"),
        "RATE_DOWN_PAYMENT": ("le taux d'apport", "share"),
        "DAYS_DECISION": ("l'ancienneté de la décision", "days_ago"),
        "CNT_PAYMENT": ("le nombre d'échéances prévues", "count"),
        "DAYS_LAST_DUE_1ST_VERSION": ("la dernière échéance prévue", "days_offset"),
        "DAYS_TERMINATION": ("la fin prévue du contrat", "days_offset"),
    },
    "POS_CASH_balance": {
        "MONTHS_BALANCE": ("l'ancienneté du relevé", "months_ago"),
        "CNT_INSTALMENT": ("la durée du crédit en échéances", "count"),
        "CNT_INSTALMENT_FUTURE": ("le nombre d'échéances restant à payer", "count"),
        **_DPD,
    },
    "installments_payments": {
        "NUM_INSTALMENT_VERSION": ("la version du calendrier de remboursement", "count"),
        "DPD": ("les jours de retard de paiement", "day_count"),
        "DBD": ("les jours d'avance de paiement", "day_count"),
        "PAYMENT_PERC": ("la part de l'échéance payée", "share"),
        "PAYMENT_DIFF": ("le reste dû par échéance", "amount"),
        "AMT_INSTALMENT": ("le montant de l'échéance", "amount"),
        "AMT_PAYMENT": ("le montant payé", "amount"),
        "DAYS_ENTRY_PAYMENT": ("l'ancienneté du paiement", "days_ago"),
    },
    "credit_card_balance": {
        "MONTHS_BALANCE": ("l'ancienneté du relevé", "months_ago"),
        "AMT_BALANCE": ("le solde", "amount"),
        "AMT_CREDIT_LIMIT_ACTUAL": ("le plafond de la carte", "amount"),
        "AMT_DRAWINGS_ATM_CURRENT": ("les retraits au distributeur du mois", "amount"),
        "AMT_DRAWINGS_CURRENT": ("les retraits et achats du mois", "amount"),
        "AMT_DRAWINGS_OTHER_CURRENT": ("les autres retraits du mois", "amount"),
        "AMT_DRAWINGS_POS_CURRENT": ("les achats en magasin du mois", "amount"),
        "AMT_INST_MIN_REGULARITY": ("le remboursement minimal exigé", "amount"),
        "AMT_PAYMENT_CURRENT": ("le remboursement du mois", "amount"),
        "AMT_PAYMENT_TOTAL_CURRENT": ("le remboursement total du mois", "amount"),
        "AMT_RECEIVABLE_PRINCIPAL": ("le capital restant dû", "amount"),
        "AMT_RECIVABLE": ("le montant dû", "amount"),
        "AMT_TOTAL_RECEIVABLE": ("le montant total dû", "amount"),
        "CNT_DRAWINGS_ATM_CURRENT": ("le nombre de retraits au distributeur du mois", "count"),
        "CNT_DRAWINGS_CURRENT": ("le nombre de retraits et achats du mois", "count"),
        "CNT_DRAWINGS_OTHER_CURRENT": ("le nombre d'autres retraits du mois", "count"),
        "CNT_DRAWINGS_POS_CURRENT": ("le nombre d'achats en magasin du mois", "count"),
        "CNT_INSTALMENT_MATURE_CUM": ("le nombre d'échéances payées", "count"),
        "UTILISATION": ("le taux d'utilisation du plafond", "share"),
        "PAYMENT_MIN_RATIO": ("le remboursement rapporté au minimum exigé", "times"),
        **_DPD,
    },
}
# LATE is a 0/1 per row: its mean is a share of the block's rows and its sum a number of them.
LATE_ROWS = {"POS_CASH_balance": "en retard", "installments_payments": "payées en retard",
             "credit_card_balance": "en retard"}
HISTORY_CATEGORIES = {
    # category column -> what a row "is" when it holds the value {v}
    "CREDIT_ACTIVE": "au statut « {v} »", "CREDIT_CURRENCY": "en « {v} »", "CREDIT_TYPE": "de type « {v} »",
    "NAME_CONTRACT_TYPE": "de type « {v} »", "WEEKDAY_APPR_PROCESS_START": "déposées un « {v} »",
    "FLAG_LAST_APPL_PER_CONTRACT": "dont « dernière demande du contrat » vaut « {v} »",
    "NAME_CASH_LOAN_PURPOSE": "dont l'objet est « {v} »", "NAME_CONTRACT_STATUS": "au statut « {v} »",
    "NAME_PAYMENT_TYPE": "dont le mode de paiement est « {v} »", "CODE_REJECT_REASON": "au motif de refus « {v} »",
    "NAME_TYPE_SUITE": "dont l'accompagnant est « {v} »", "NAME_CLIENT_TYPE": "où le client était « {v} »",
    "NAME_GOODS_CATEGORY": "dont le bien est de catégorie « {v} »", "NAME_PORTFOLIO": "du portefeuille « {v} »",
    "NAME_PRODUCT_TYPE": "de type de vente « {v} »", "CHANNEL_TYPE": "venues du canal « {v} »",
    "NAME_SELLER_INDUSTRY": "dont le vendeur est du secteur « {v} »", "NAME_YIELD_GROUP": "de rendement « {v} »",
    "PRODUCT_COMBINATION": "de produit « {v} »",
}
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


def label_of(name: str) -> str:
    """The French label of a feature, or its name when it is not one of ours (never fails on a figure)."""
    label = _generated().get(name)
    return label.label if label else name


def labels_from_dict(data: Mapping[str, Mapping]) -> dict[str, FeatureLabel]:
    """Labels read back from their JSON export (`FeatureLabel.as_dict` per name)."""
    return {name: FeatureLabel(name=name, **fields) for name, fields in data.items()}
