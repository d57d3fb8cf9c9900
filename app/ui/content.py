"""The page's fixed choices (filters, bands, sections) and the French HTML and markdown it
shows from the API's answers."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from app.filters import Filters
from app.ui.api_client import ScoringApi
from app.ui.charts import (
    ICONS,
    decision_words,
    euros,
    is_missing,
    percent,
    value_text,
)

TABLE_COLUMNS = ["Identifiant", "Décision", "Risque estimé", "Contrat", "Sexe", "Âge", "Revenu annuel",
                 "Crédit demandé"]

TITLE = "Prêt à dépenser — tableau de bord du score de crédit"
ALL = "tous"
CONTRACT_TYPES = [("Tous les contrats", ALL), ("Prêt en espèces", "Cash loans"),
                  ("Crédit renouvelable", "Revolving loans")]
GENDERS = [("Tous", ALL), ("Femme", "F"), ("Homme", "M")]
DECISIONS = [("Toutes", ALL), ("✔ Accordé", "accordé"), ("✖ Refusé", "refusé")]
# Bands a relationship manager reasons in: (label, lower bound included, upper bound excluded); None = open.
AGE_BANDS = [("moins de 30 ans", None, 30), ("30 à 39 ans", 30, 40), ("40 à 49 ans", 40, 50),
             ("50 à 59 ans", 50, 60), ("60 ans et plus", 60, None)]
INCOME_BANDS = [("moins de 100 000 € par an", None, 100_000), ("100 000 à 150 000 €", 100_000, 150_000),
                ("150 000 à 200 000 €", 150_000, 200_000), ("200 000 à 300 000 €", 200_000, 300_000),
                ("300 000 € et plus", 300_000, None)]
PAGE_SIZE = 20
SIMILAR_K = 100  # similar clients a comparison is drawn on
EXPLAIN_TOP = 10
SCATTER_POINTS = 500
GROUPS = [("Tous les clients", "all"), ("Les 100 clients les plus semblables à ce client", "similar"),
          ("Les clients qui partagent les caractéristiques cochées ci-dessous", "shared")]
TRAITS = [("même type de contrat", "contract_type"), ("même sexe", "gender"), ("même tranche d'âge", "age"),
          ("même tranche de revenus", "income"), ("même décision", "decision")]
WHATIF_FIELDS = [("AMT_INCOME_TOTAL", "Revenu annuel (€)"), ("AMT_CREDIT", "Montant du crédit (€)"),
                 ("AMT_ANNUITY", "Annuité, remboursement par an (€)"), ("AMT_GOODS_PRICE", "Prix du bien financé (€)")]
DEFAULT_COMPARE = ("PROBABILITY", "AMT_INCOME_TOTAL", "AMT_CREDIT")  # distribution, scatter x, scatter y
REVIEW_ACTIONS = [("Confirmer la décision du modèle", "confirm"), ("Infirmer la décision du modèle", "override")]
OTHER_DECISION = {"accordé": "refusé", "refusé": "accordé"}
REVIEW_TIME_ZONE = ZoneInfo("Europe/Paris")  # reviews are dated as the relationship managers read the time
# Gradio's cache of the letters handed out: every LETTER_CACHE[0] seconds, files older than LETTER_CACHE[1] seconds
# are deleted (and all of them when the page stops), so personal letters do not pile up on the server.
LETTER_CACHE = (600, 3600)

CSS = """
.gradio-container { font-size: 1rem; }
.alert { border: 3px solid #8A1C00; background: #FFF4EE; color: #3D0C00; padding: .75rem 1rem; border-radius: 6px; }
.decision { font-size: 1.6rem; font-weight: 700; padding: .6rem 1rem; border: 3px solid; border-radius: 8px;
            display: inline-block; background: #FFFFFF; }
.decision.accordé { color: #004B75; border-color: #004B75; }
.decision.refusé { color: #8A1C00; border-color: #8A1C00; }
.sheets { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr)); gap: 1rem 2rem; }
.sheets table { width: 100%; border-collapse: collapse; }
.sheets caption { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.sheets th, .sheets td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #CBD5E1; color: #111827; }
.sheets th { font-weight: 400; width: 60%; }
.sheets td { font-weight: 600; }
.alt-text { color: #1F2937; font-size: .95rem; border-left: 4px solid #4B5563; padding-left: .6rem; }
.confirmation { border: 3px solid #004B75; background: #F0F7FF; color: #0B2540; padding: .75rem 1rem;
                border-radius: 6px; }
.reviews table { width: 100%; border-collapse: collapse; table-layout: fixed; }
.reviews caption { text-align: left; font-weight: 700; padding-bottom: .4rem; color: #111827; }
.reviews th, .reviews td { text-align: left; vertical-align: top; padding: .35rem .4rem; color: #111827;
                           border-bottom: 1px solid #CBD5E1; overflow-wrap: anywhere; }
.reviews td.reason { white-space: pre-line; }
.reviews th:nth-child(1) { width: 17%; } .reviews th:nth-child(2) { width: 14%; }
.reviews th:nth-child(3), .reviews th:nth-child(4) { width: 16%; }
"""
# The page is French: Gradio's template says lang="en", which would make screen readers mispronounce it.
HEAD = "<script>document.documentElement.lang = 'fr';</script>"


# --------------------------------------------------------------------------------------------------------
# Pure helpers: from the API's answers to what the page shows
# --------------------------------------------------------------------------------------------------------
def alert(text: str) -> str:
    return f'<div class="alert" role="alert"><strong>⚠ Problème :</strong> {html.escape(text)}</div>'


def decision_badge(decision: str) -> str:
    return (f'<div class="decision {html.escape(decision)}" role="status">'
            f'<span aria-hidden="true">{ICONS.get(decision, "")}</span> Crédit {html.escape(decision)}</div>')


def band(bands: list, value: float | None) -> tuple | None:
    """The band holding `value`: (label, lower, upper)."""
    if is_missing(value):
        return None
    return next((b for b in bands if (b[1] is None or value >= b[1]) and (b[2] is None or value < b[2])), None)


def search_filters(contract: str, gender: str, age: str, income: str, decision: str) -> Filters:
    """The /clients filters of the search form's choices ('tous' = no filter, bands by their label)."""
    age_band = next((b for b in AGE_BANDS if b[0] == age), None)
    income_band = next((b for b in INCOME_BANDS if b[0] == income), None)
    return Filters(contract_type=None if contract == ALL else contract, gender=None if gender == ALL else gender,
                         age_min=age_band[1] if age_band else None, age_max=age_band[2] if age_band else None,
                         income_min=income_band[1] if income_band else None,
                         income_max=income_band[2] if income_band else None,
                         decision=None if decision == ALL else decision)


def client_table(clients: list[dict]) -> pd.DataFrame:
    rows = [[str(c["sk_id_curr"]), decision_words(c["decision"]).replace("Crédit ", ""), percent(c["probability"]),
             c["contract_type"], c["gender"], value_text(c["age_years"], "years"),
             value_text(c["income"], "amount"), value_text(c["credit"], "amount")] for c in clients]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def raw_field(client: dict, name: str):
    """A field's stored (Kaggle) value from the client's sections, e.g. NAME_CONTRACT_TYPE -> 'Cash loans'."""
    for section in client["sections"]:
        for field in section["fields"]:
            if field["name"] == name:
                return field["value"]
    return None


def client_sheet_html(client: dict) -> str:
    """The client's descriptive data, one table per section, as the API words it (units, €, years); the
    sections sit side by side on a wide screen and one under the other when zoomed in."""
    e = html.escape
    parts = []
    for section in client["sections"]:
        rows = "".join(f'<tr><th scope="row">{e(f["label"])}</th><td>{e(str(f["display"]))}</td></tr>'
                       for f in section["fields"])
        parts.append(f'<section><h3>{e(section["title"])}</h3><table class="sheet">'
                     f'<caption>{e(section["title"])} du client {client["sk_id_curr"]}</caption>{rows}</table>'
                     f'</section>')
    return f'<div class="sheets">{"".join(parts)}</div>'


def reasons_markdown(explanation: dict) -> str:
    """The reason codes in two lists: what raises this client's risk, what lowers it."""
    reasons = explanation["reasons"]
    if not reasons:
        return ("Aucun facteur ne se détache nettement : le score de ce client résulte de nombreux petits effets. "
                "Le graphique ci-dessous montre les plus importants.")
    parts = []
    for direction, title in (("hausse", "▲ Ce qui augmente le risque"), ("baisse", "▼ Ce qui réduit le risque")):
        lines = [f"- {r['text']}" for r in reasons if r["direction"] == direction]
        if lines:
            parts.append(f"### {title}\n" + "\n".join(lines))
    return "\n\n".join(parts)


def comparison_group(api: ScoringApi, client: dict, decision: str, group: str,
                     traits: list[str]) -> tuple[Filters, str]:
    """The filters (or the ids) of the chosen comparison group, and its name in words for titles and sentences."""
    client_id = client["sk_id_curr"]
    if group == "similar":
        ids = [n["sk_id_curr"] for n in api.similar(client_id, SIMILAR_K)["neighbors"]]
        return Filters(ids=tuple(ids)), f"les {len(ids)} clients les plus semblables"
    if group != "shared" or not traits:
        return Filters(), "l'ensemble des clients"
    values = client["values"]
    chosen, words = {}, []
    if "contract_type" in traits and raw_field(client, "NAME_CONTRACT_TYPE"):
        chosen["contract_type"] = raw_field(client, "NAME_CONTRACT_TYPE")
        words.append("même type de contrat")
    if "gender" in traits and raw_field(client, "CODE_GENDER") in ("F", "M"):
        chosen["gender"] = raw_field(client, "CODE_GENDER")
        words.append("même sexe")
    for trait, bands, feature, key in (("age", AGE_BANDS, "AGE_YEARS", "age"),
                                       ("income", INCOME_BANDS, "AMT_INCOME_TOTAL", "income")):
        found = band(bands, values.get(feature)) if trait in traits else None
        if found:
            chosen[f"{key}_min"], chosen[f"{key}_max"] = found[1], found[2]
            words.append(found[0])
    if "decision" in traits:
        chosen["decision"] = decision
        words.append(f"crédit {decision}")
    return Filters(**chosen), "les clients " + ", ".join(words) if words else "l'ensemble des clients"


def changed_fields(stored: dict, amounts) -> dict[str, float]:
    """The what-if fields the user changed. The boxes show whole euros, so a stored 406 597,50 € shown as 406 598
    is no change: only those fields are sent, and every other value stays the client's stored one."""
    changed = {}
    for (name, _), amount in zip(WHATIF_FIELDS, amounts):
        if amount is None:
            continue
        before = stored.get(name)
        if is_missing(before) or abs(float(amount) - before) >= 0.5 + 1e-9:
            changed[name] = float(amount)
    return changed


def whatif_sentence(explanation: dict, answer: dict, changed: dict[str, float]) -> str:
    """The simulated score in words: what changed, the risk before and after, the decision it would give."""
    before, after = explanation["probability"], answer["probability"]
    labels = dict(WHATIF_FIELDS)
    what = ("Avec " + " ; ".join(f"{labels[name].split(' (')[0].lower()} : {euros(amount)}"
                                 for name, amount in changed.items())
            if changed else "Avec les valeurs du dossier")
    verb = "resterait" if answer["decision"] == explanation["decision"] else "deviendrait"
    move = (f"resterait à **{percent(after)}**" if percent(before) == percent(after)
            else f"passerait de **{percent(before)}** à **{percent(after)}**")
    return (f"{what}, le risque estimé {move} (seuil {percent(answer['threshold'])}) : la décision {verb} "
            f"**{decision_words(answer['decision'])}**.")


def model_markdown(model: dict) -> str:
    return (f"**Modèle en service** : version {html.escape(str(model['model_version']))}. Une demande est "
            f"**refusée** quand le risque estimé de défaut atteint **{percent(model['threshold'])}** ou plus, "
            f"et **accordée** en dessous.")


def recourse_html(recourse: dict) -> str:
    """What would change the decision (/clients/{id}/recourse), one sentence a proposal: for a refused client
    what would be granted, for a granted one the margin; when there is none, a sentence saying so."""
    granted = recourse["decision"] == "accordé"
    texts = [p["text"] for p in recourse["proposals"]]
    if texts:
        intro = ("Le montant le plus élevé que le modèle accorderait encore\u00a0:" if granted
                 else "Le modèle accorderait le crédit avec l'un de ces changements de la demande\u00a0:")
        items = "".join(f"<li>{html.escape(text)}</li>" for text in texts)
        body = f"<p>{intro}</p><ul>{items}</ul>"
    elif recourse["requested_months"] is None:
        body = ("<p>Le montant ou l'annuité du crédit manque au dossier\u00a0: aucun changement de la demande ne "
                "peut être calculé.</p>")
    elif granted:
        body = "<p>Aucun montant plus élevé sur la même durée ne resterait accordé.</p>"
    else:
        body = ("<p>Aucun changement du montant ni de la durée ne mènerait à un accord. Le dossier peut être "
                "réexaminé par une personne\u00a0: voir «\u00a0Revue par une personne\u00a0» plus bas.</p>")
    title = "Marge du client" if granted else "Ce qui changerait la décision"
    return f"<h3>{title}</h3>{body}"


def reviewed_decision(model_decision: str, action: str) -> str:
    """The decision a review keeps: the model's on a confirmation, the other one on an override."""
    return model_decision if action == "confirm" else OTHER_DECISION[model_decision]


def review_outcome(model_decision: str, action: str) -> str:
    """What the chosen review action would make of the model's decision, in a sentence."""
    kept = reviewed_decision(model_decision, action)
    how = "confirmée" if action == "confirm" else "infirmée"
    return (f"Décision retenue après la revue\u00a0: **{decision_words(kept)}** (décision du modèle\u00a0: "
            f"{decision_words(model_decision).lower()}, {how}).")


def review_time(moment: str) -> str:
    """An API timestamp (ISO 8601, UTC) as French relationship managers read it: '30/11/2026 à 18:27'."""
    local = datetime.fromisoformat(moment).astimezone(REVIEW_TIME_ZONE)
    return local.strftime("%d/%m/%Y à %H:%M")


def reviews_html(client_id: int, reviews: list[dict]) -> str:
    """The client's reviews, newest first, as a table with a caption; a sentence when there is none."""
    if not reviews:
        return f"<p>Aucune revue par une personne n'est enregistrée pour le client {client_id}.</p>"
    e = html.escape
    head = "".join(f'<th scope="col">{name}</th>' for name in
                   ("Date (heure de Paris)", "Réviseur", "Action", "Décision retenue", "Motif"))
    rows = "".join(
        f"<tr><td>{review_time(r['reviewed_at'])}</td><td>{e(r['reviewer'])}</td>"
        f"<td>{'Décision confirmée' if r['action'] == 'confirm' else 'Décision infirmée'}</td>"
        f"<td>{e(decision_words(r['reviewed_decision']))}</td><td class=\"reason\">{e(r['reason'])}</td></tr>"
        for r in reviews)
    return (f'<div class="reviews"><table><caption>Revues de la décision pour le client {client_id}, de la plus '
            f"récente à la plus ancienne</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def review_confirmation(review: dict) -> str:
    """The stored review in a sentence (role status: screen readers announce it)."""
    how = "confirmée" if review["action"] == "confirm" else "infirmée"
    return (f'<div class="confirmation" role="status"><strong>✔ Revue enregistrée</strong> le '
            f"{review_time(review['reviewed_at'])}\u00a0: la décision du modèle est {how}, "
            f"<strong>{html.escape(decision_words(review['reviewed_decision']).lower())}</strong> est retenu. "
            "Elle figure dans l'historique ci-dessous.</div>")
