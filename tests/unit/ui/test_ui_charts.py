"""The dashboard's pure pieces: French values, the score sentence, charts and their text alternatives, filters.

Fast and without services; the page itself is tested in a real browser against the real API in test_ui.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.ui.charts import (
    contributions_figure,
    distribution_figure,
    scatter_figure,
    score_axis_max,
    score_figure,
    score_sentence,
    share_below,
    value_text,
    whatif_figure,
)
from app.ui.content import (
    AGE_BANDS,
    alert,
    band,
    changed_fields,
    client_sheet_html,
    comparison_group,
    reasons_markdown,
    search_filters,
)

NNBSP, NBSP = "\u202f", "\u00a0"
APP = Path(__file__).resolve().parents[3] / "app"


@pytest.mark.parametrize(("value", "unit", "text"), [
    (202500.0, "amount", f"202{NNBSP}500{NBSP}€"),
    (25.9, "age_years", f"25{NBSP}ans"),
    (3.24, "years", f"3,2{NBSP}ans"),
    (1.5, "years", f"1,5{NBSP}an"),
    (0.084, "share", f"8,4{NNBSP}%"),
    (0.14, "share", f"14{NNBSP}%"),
    (0.1512, "score", "0,15"),
    (None, "amount", "non renseigné"),
    (float("nan"), "years", "non renseigné"),
    ("Cash loans", "category", "Cash loans"),
])
def test_values_read_in_french_with_their_unit(value, unit, text):
    assert value_text(value, unit) == text


def test_the_score_sentence_says_the_risk_the_threshold_the_side_and_why():
    text = score_sentence(0.14, 0.09, "refusé", {"fn": 10, "fp": 1})
    assert f"14{NNBSP}%" in text and f"9,0{NNBSP}%" in text and "au-dessus du seuil" in text
    assert "10 fois" in text and "environ 14 ne rembourseraient pas" in text and "crédit refusé" in text
    below = score_sentence(0.05, 0.09, "accordé")
    assert "en dessous du seuil" in below and "crédit accordé" in below and "fois" not in below


def test_the_score_scale_shows_the_threshold_and_the_score_without_flattening_them():
    assert score_axis_max(0.14, 0.09) == 0.2
    assert score_axis_max(0.03, 0.084) == 0.2
    assert score_axis_max(0.7, 0.084) == 1.0


def test_the_score_chart_marks_the_threshold_and_says_the_decision_in_words():
    fig, alt = score_figure(0.14, 0.09, "refusé")
    texts = [a.text for a in fig.layout.annotations]
    assert f"Seuil 9,0{NNBSP}%" in texts and "◀ accordé" in texts and "refusé ▶" in texts
    assert fig.data[0].text[0].endswith("refusé")
    assert f"14{NNBSP}%" in alt and "au-dessus" in alt and "refusé" in alt


def test_contributions_are_told_apart_by_arrow_and_hatching_not_only_colour():
    contributions = [{"feature": "A", "label": "Score externe 3", "display": "0,15", "contribution": 0.42},
                     {"feature": "B", "label": "Âge", "display": "52 ans", "contribution": -0.2}]
    fig, alt = contributions_figure(contributions)
    bars = fig.data[0]
    assert [y.split()[0] for y in bars.y] == ["▼", "▲"]  # largest at the top, drawn last
    assert list(bars.marker.pattern.shape) == ["", "/"]
    assert "Augmentent le risque : Score externe 3 (0,15)" in alt and "Réduisent le risque : Âge (52 ans)" in alt


def test_where_a_client_stands_is_read_off_the_histogram():
    histogram = {"edges": [0, 10, 20, 30], "counts": [10, 20, 10]}
    assert share_below(histogram, 20) == pytest.approx(0.75)
    assert share_below(histogram, 15) == pytest.approx(0.5)
    assert share_below(histogram, -5) == 0 and share_below(histogram, 99) == 1


POPULATION = {"feature": "AGE_YEARS", "label": "Âge du client", "unit": "age_years", "n": 4000, "n_missing": 0,
              "mean": 43.0, "median": 42.0, "quantiles": {"p10": 27, "p25": 33, "p50": 42, "p75": 52, "p90": 60},
              "histogram": {"edges": [20, 30, 40, 50, 60, 70], "counts": [500, 1000, 1200, 900, 400]}}


def test_the_distribution_marks_the_client_with_a_star_and_a_label_and_its_alternative_gives_the_figures():
    fig, alt = distribution_figure(POPULATION, 35.0, "l'ensemble des clients")
    star = [t for t in fig.data if t.name == "ce client"]
    assert star and star[0].marker.symbol == "star"
    assert any("ce client" in a.text and "35" in a.text for a in fig.layout.annotations)
    assert "4" + NNBSP + "000 clients" in alt and f"médiane 42{NBSP}ans" in alt
    assert f"entre 33{NBSP}ans et 52{NBSP}ans" in alt and "plus qu'environ 25" in alt


def test_a_missing_client_value_is_said_not_drawn():
    fig, alt = distribution_figure(POPULATION, None, "l'ensemble des clients")
    assert not [t for t in fig.data if t.name == "ce client"] and "non renseigné" in alt


def test_a_category_distribution_names_the_client_s_category_and_its_share():
    population = {"feature": "NAME_CONTRACT_TYPE", "label": "Type de contrat", "unit": "category", "n": 100,
                  "n_missing": 0, "categories": [{"value": "Cash loans", "label": "Prêt en espèces", "count": 90},
                                                 {"value": "Revolving loans", "label": "Renouvelable", "count": 10}]}
    fig, alt = distribution_figure(population, "Revolving loans", "l'ensemble des clients")
    assert "Renouvelable ◀ ce client" in fig.data[0].y
    assert f"« Renouvelable », comme 10{NNBSP}% du groupe" in alt


def test_the_scatter_shows_decisions_by_shape_and_the_client_as_a_star():
    points = {"x_label": "Revenu", "y_label": "Crédit", "points": [
        {"sk_id_curr": i, "x": 1000.0 * i, "y": 500.0 * i, "decision": "refusé" if i % 4 == 0 else "accordé"}
        for i in range(1, 41)]}
    fig, alt = scatter_figure(points, 20000.0, 9000.0, ("amount", "amount"), "l'ensemble des clients")
    symbols = {t.name: t.marker.symbol for t in fig.data}
    assert symbols == {"accordé (rond)": "circle", "refusé (croix)": "x", "ce client (étoile)": "star"}
    assert "30 accordés (ronds) et 10 refusés (croix)" in alt
    assert f"Revenu 20{NNBSP}000{NBSP}€, Crédit 9{NNBSP}000{NBSP}€" in alt


def test_the_whatif_chart_says_how_the_risk_would_move():
    _, alt = whatif_figure(0.14, 0.07, 0.09)
    assert "score actuel 14" in alt and "(refusé)" in alt and "(accordé)" in alt and "diminuerait" in alt
    _, same = whatif_figure(0.1401, 0.1402, 0.09)
    assert "ne changerait presque pas" in same


def test_search_filters_map_the_form_to_the_api_s_query():
    filters = search_filters("Cash loans", "tous", "30 à 39 ans", "tous", "refusé")
    assert filters.query() == {"contract_type": "Cash loans", "age_min": 30, "age_max": 40, "decision": "refusé"}
    assert search_filters("tous", "tous", "tous", "tous", "tous").query() == {}
    assert band(AGE_BANDS, 64.0)[0] == "60 ans et plus" and band(AGE_BANDS, None) is None


CLIENT = {"sk_id_curr": 100002, "dataset": "train", "values": {"AGE_YEARS": 35.2, "AMT_INCOME_TOTAL": 120000.0},
          "sections": [{"title": "Identité et famille", "fields": [
              {"name": "CODE_GENDER", "label": "Sexe", "value": "M", "display": "Homme"},
              {"name": "AGE_YEARS", "label": "Âge du client", "value": 35.2, "display": "35 ans"}]},
              {"title": "Revenus et crédit demandé", "fields": [
                  {"name": "NAME_CONTRACT_TYPE", "label": "Type de contrat", "value": "Cash loans",
                   "display": "Prêt en espèces <b>"}]}]}


def test_a_group_sharing_chosen_traits_is_built_from_the_client_s_own_values():
    filters, words = comparison_group(None, CLIENT, "refusé", "shared", ["contract_type", "gender", "age", "income",
                                                                        "decision"])
    assert filters.ids is None
    assert filters.query() == {"contract_type": "Cash loans", "gender": "M", "age_min": 30, "age_max": 40,
                               "income_min": 100_000, "income_max": 150_000, "decision": "refusé"}
    assert words.startswith("les clients même type de contrat, même sexe, 30 à 39 ans")
    filters, words = comparison_group(None, CLIENT, "refusé", "shared", [])
    assert filters.query() == {} and words == "l'ensemble des clients"


def test_the_client_sheet_is_escaped_html_tables_with_row_headers():
    sheet = client_sheet_html(CLIENT)
    assert sheet.count("<table") == 2 and '<th scope="row">Âge du client</th><td>35 ans</td>' in sheet
    assert "&lt;b&gt;" in sheet and "<b>" not in sheet


def test_reasons_are_split_into_what_raises_and_what_lowers_the_risk():
    text = reasons_markdown({"reasons": [{"text": "Revenu bas", "direction": "hausse"},
                                         {"text": "Score externe élevé", "direction": "baisse"}]})
    assert text.index("augmente le risque") < text.index("Revenu bas") < text.index("réduit le risque")
    assert "Aucun facteur" in reasons_markdown({"reasons": []})


def test_a_what_if_sends_only_the_amounts_the_user_changed():
    stored = {"AMT_INCOME_TOTAL": 202500.0, "AMT_CREDIT": 406597.5, "AMT_ANNUITY": None, "AMT_GOODS_PRICE": 351000.0}
    assert changed_fields(stored, [202500, 406598, None, 351000]) == {}  # shown rounded to whole euros
    assert changed_fields(stored, [300000, 406598, 24700, None]) == {"AMT_INCOME_TOTAL": 300000.0,
                                                                     "AMT_ANNUITY": 24700.0}


def test_alerts_are_announced_and_escaped():
    assert alert("a <script>") == ('<div class="alert" role="alert"><strong>⚠ Problème :</strong> a &lt;script&gt;'
                                   '</div>')


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return modules | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def test_the_page_imports_no_model_library_nor_stage():
    """The dashboard only speaks HTTP: no stage, no model or explanation library, no credit_scoring beyond the
    dependency-free number formatting, in its modules and in every app module they import (the shared filters)."""
    seen, todo = set(), ["app.ui.__main__"]
    while todo:
        module = todo.pop()
        seen.add(module)
        path = APP.parent / module.replace(".", "/")
        path = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
        modules = imported_modules(path)
        roots = {m.split(".")[0] for m in modules}
        assert not roots & {"stages", "lightgbm", "shap", "sklearn", "interpret", "mlflow", "litestar"}, module
        assert {m for m in modules if m.startswith("credit_scoring")} <= {"credit_scoring.common.formatting"}, module
        todo += [m for m in modules if m.startswith("app.") and m not in seen]
    assert {"app.ui.dashboard", "app.ui.content", "app.ui.api_client", "app.ui.charts", "app.filters"} <= seen
