"""The methodological note: French number formats, the shortcodes it is written with, and the PDF itself,
rendered (pandoc and typst, as without Quarto) from the committed reports into a temporary copy of the
repository, then read back with pypdf: every quoted interval equals its source file, French typography, the
page budget of each section."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from credit_scoring.common.paths import NOTE
from credit_scoring.note import render as R
from credit_scoring.note.sources import column_label, read_reports
from credit_scoring.note.tables import markdown_table, search_table, summary_table
from credit_scoring.note.values import choice_sentence, glass_box_conclusion
from credit_scoring.note.vocabulary import (
    HYPERPARAMETERS,
    MODEL_NAMES,
    at_edge,
    count,
    difference_words,
    french_date,
    hyperparameter,
    interval,
    score,
    seconds,
    share,
    signed,
    verdict,
)

REPO = Path(__file__).resolve().parents[3]
NNBSP = "\u202f"
NOTE_SOURCES = ("note.qmd", "template.typ", "typst-show.typ", "crossref.lua")


def test_numbers_read_as_a_french_text_prints_them():
    assert score(0.779725221239961) == "0,780"
    assert score(0.084) == "0,084"
    assert count(80000) == f"80{NNBSP}000"
    assert count(12) == "12"
    assert share(0.080875) == f"8,1{NNBSP}%"
    assert share(0.2, 0) == f"20{NNBSP}%"
    assert seconds(5.11043) == "5,1"


def test_intervals_and_hyperparameters_read_as_french_prints_them():
    assert interval([0.76516, 0.79074]) == f"[0,765{NNBSP};\u00a00,791]"
    assert interval([-0.0268, 0.0021], signed) == f"[\u22120,0268{NNBSP};\u00a0+0,0021]"
    assert hyperparameter(0.033494758) == "0,0335"
    assert hyperparameter(70.72114) == "70,7"
    assert hyperparameter(1000.0) == f"1{NNBSP}000"
    assert hyperparameter(44) == "44"
    assert hyperparameter(0.001) == "0,001"
    assert french_date(date(2026, 11, 30)) == "30\u00a0novembre 2026"
    assert french_date(date(2026, 12, 1)) == "1er\u00a0décembre 2026"


def test_an_interval_that_holds_zero_is_noise_else_it_favours_one_side():
    assert verdict([-0.001, 0.002], higher_is_better=True) == "noise"
    assert verdict([0.001, 0.002], higher_is_better=True) == "better"
    assert verdict([0.001, 0.002], higher_is_better=False) == "worse"  # a higher cost
    assert verdict([-0.03, -0.01], higher_is_better=False) == "better"
    assert "dans le bruit" in difference_words([-0.01, 0.01], True, "de A", "de B")
    assert difference_words([0.01, 0.02], True, "de A", "de B") == "nettement en faveur de A"
    assert difference_words([0.01, 0.02], False, "de A", "de B") == "nettement en faveur de B"


def test_the_glass_box_conclusion_follows_its_intervals():
    worse = glass_box_conclusion("noise", "worse", "15", "825")
    assert "coûte nettement plus" in worse and "jeu égal" not in worse
    even = glass_box_conclusion("worse", "noise", "15", "825")
    assert "fait jeu égal avec" in even and "AUC est nettement plus basse" in even and "825" in even
    assert "fait mieux que" in glass_box_conclusion("noise", "better", "15", "825")


def test_a_best_value_on_the_edge_of_its_range_is_flagged_on_the_range_scale():
    assert at_edge(0.0335, "log", 0.03, 0.3)  # 0.0335 is near 0.03 on a log scale
    assert not at_edge(0.0335, "log", 0.01, 0.2)
    assert at_edge(0.51, "float", 0.5, 1.0) and not at_edge(0.51, "float", 0.3, 1.0)
    assert at_edge(700, "int_log", 20, 800) and not at_edge(182, "int_log", 20, 800)


def tune_report(lowest: str, within_noise: bool) -> dict:
    costs = {"lightgbm": 0.482, "hist_gradient_boosting": 0.480} if lowest == "hist_gradient_boosting" \
        else {"lightgbm": 0.480, "hist_gradient_boosting": 0.482}
    chosen = "lightgbm" if within_noise or lowest == "lightgbm" else lowest
    return {"coarse_best": {a: {"cv_cost_per_client": c, "cv_auc": 0.77, "cv_cost_fold_sd": 0.01}
                            for a, c in costs.items()},
            "choice": {"chosen": chosen, "lowest_cost": lowest, "preferred": "lightgbm", "gap": 0.002,
                       "gap_se": 0.003 if within_noise else 0.001, "within_noise": within_noise}}


def test_the_algorithm_choice_is_told_with_its_uncertainty_and_its_rule():
    kept = choice_sentence(tune_report("hist_gradient_boosting", within_noise=True))
    assert kept.startswith("HistGradientBoosting a le coût hors pli le plus bas")
    assert "dans le bruit, LightGBM, premier de la liste, est gardé" in kept and "0,0030" in kept
    beaten = choice_sentence(tune_report("hist_gradient_boosting", within_noise=False))
    assert "dépasse l’erreur type" in beaten and beaten.endswith("HistGradientBoosting est retenu.")
    first = choice_sentence(tune_report("lightgbm", within_noise=False))
    assert "inférieure à l’écart type" in first and first.endswith("il est retenu.")


def test_the_note_never_prints_a_raw_column_name():
    labels = {}
    assert column_label("NAME_CONTRACT_TYPE", labels) == "Type de crédit demandé"
    assert column_label("CODE_GENDER", labels) == "Sexe"
    with pytest.raises(KeyError, match="NOT_A_COLUMN"):
        column_label("NOT_A_COLUMN", labels)


def test_shortcodes_expand_to_values_and_included_files(tmp_path):
    (tmp_path / "_generated").mkdir()
    (tmp_path / "_generated" / "t.md").write_text("| a |\n|--:|\n| {{< meta v.x.y >}} |\n")
    text = "AUC {{< meta v.auc >}} ;\n\n{{< include _generated/t.md >}}"
    expanded = R.expand_shortcodes(text, {"v": {"auc": "0,780", "x": {"y": "1,5"}}}, tmp_path)
    assert expanded == "AUC 0,780 ;\n\n| a |\n|--:|\n| 1,5 |\n"


def test_a_value_the_note_quotes_but_nobody_wrote_is_an_error(tmp_path):
    with pytest.raises(KeyError, match="v.nope"):
        R.expand_shortcodes("{{< meta v.nope >}}", {"v": {}}, tmp_path)
    with pytest.raises(FileNotFoundError, match="absent.md"):
        R.expand_shortcodes("{{< include absent.md >}}", {}, tmp_path)


def test_pipe_tables_right_align_numbers():
    import pandas as pd

    table = markdown_table(pd.DataFrame({"Modèle": ["naïf"], "AUC": ["0,500"]}), right=("AUC",))
    _, rule, row = table.strip().splitlines()
    left, right = rule.strip("|").split("|")
    assert left.startswith(":") and not left.endswith(":")
    assert right.endswith(":") and not right.startswith(":")
    assert "0,500" in row and "naïf" in row


def test_the_summary_runs_from_the_simplest_model_to_the_tuned_one():
    reports = read_reports(REPO)
    table = summary_table(reports, coarse_sample=0.4)
    assert table["Modèle"].iloc[0].startswith("Classifieur naïf")
    assert table["Modèle"].iloc[-1].endswith("(retenu)")
    tune = reports.metrics["tune"]
    assert table["Coût / client"].iloc[-1] == score(tune["cv_cost_per_client"])
    assert table["AUC"].iloc[-1] == score(tune["cv_auc"])
    assert table["Écart type par pli"].iloc[-1] == score(tune["cv_cost_fold_sd"])
    assert table["Écart type par pli"].iloc[0] == "—"  # a constant score has no spread worth a number
    assert list(table.columns) == ["Modèle", "Clients", "AUC", "Coût / client", "Écart type par pli", "Seuil",
                                   "Apprentissage (s)"]


def test_the_search_table_comes_from_params_and_the_refined_space():
    from credit_scoring.common.params import load_params

    reports = read_reports(REPO)
    search = load_params(REPO / "params.yaml")["tune"]
    table = search_table(reports.metrics["tune"], search)
    assert len(table) == sum(len(space) + 1 for space in search["spaces"].values())  # + the fixed learning rate
    chosen = reports.metrics["tune"]["algorithm"]
    rows = table[table["Algorithme"] == MODEL_NAMES[chosen]]
    _, low, high = next(iter(search["spaces"][chosen].values()))
    assert rows["Intervalle large"].iloc[0] == f"{hyperparameter(low)} à {hyperparameter(high)}"
    assert (table.loc[table["Algorithme"] != MODEL_NAMES[chosen], "Retenu"] == "—").all()
    rate = rows[rows["Hyperparamètre"] == HYPERPARAMETERS["learning_rate"]].iloc[0]
    assert rate["Échelle"] == "fixé"
    assert rate["Intervalle large"] == hyperparameter(search["coarse_learning_rate"])
    assert rate["Intervalle affiné"] == hyperparameter(search["refined_learning_rate"])
    assert rate["Retenu"] == hyperparameter(search["final_learning_rate"])


def copy_of_the_repository(tmp_path: Path) -> Path:
    """The note's sources, params.yaml and the committed reports: all `build` reads."""
    root = tmp_path / "repo"
    (root / NOTE).mkdir(parents=True)
    for name in NOTE_SOURCES:
        shutil.copy(REPO / NOTE / name, root / NOTE / name)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copytree(REPO / "reports", root / "reports")
    return root


def test_a_missing_report_names_the_file_and_says_to_run_the_pipeline(tmp_path):
    root = copy_of_the_repository(tmp_path)
    (root / "reports" / "metrics" / "drift.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"dvc repro.*drift\.json"):
        R.build(root, use_quarto=False)


def test_a_report_without_a_key_the_note_quotes_names_the_file_and_the_key(tmp_path):
    root = copy_of_the_repository(tmp_path)
    path = root / "reports" / "metrics" / "threshold.json"
    metrics = json.loads(path.read_text())
    del metrics["intervals"]["champion_minus_baseline"]
    path.write_text(json.dumps(metrics))
    with pytest.raises(KeyError, match=r"threshold\.json has no `intervals\.champion_minus_baseline`"):
        R.build(root, use_quarto=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[str, int]:
    root = copy_of_the_repository(tmp_path_factory.mktemp("note"))
    pdf = R.build(root, pdf=root / "out" / "note.pdf", use_quarto=False)
    reader = PdfReader(pdf)
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages), reader


SECTION_BUDGETS = {"1.": 2, "2.": 1, "3.": 1, "4.": 1, "5.": 1, "6.": 1, "7.": 1}  # pages, from the brief
HEADING_SIZE = 13.0  # template.typ's level-1 headings
TOP, BOTTOM = 841.89 - 1.8 * 72 / 2.54, 2.0 * 72 / 2.54  # A4 and template.typ's margins, in points


def section_lengths(reader: PdfReader) -> dict[str, float]:
    """How many pages each numbered section takes, from the position of its heading to the next one's (the last
    to its last line of text), the part of a page counted from the text area's height."""
    marks, last = [], 0.0
    for index, page in enumerate(reader.pages):
        def visit(text, cm, tm, font, size, index=index):
            nonlocal last
            y = cm[5] + tm[5] * cm[3]
            if not text.strip() or y < BOTTOM:  # the page number sits in the bottom margin
                return
            position = index + (TOP - y) / (TOP - BOTTOM)
            last = max(last, position)
            if size == HEADING_SIZE and text.strip() in SECTION_BUDGETS:
                marks.append((text.strip(), position))
        page.extract_text(visitor_text=visit)
    ends = [p for _, p in marks[1:]] + [last]
    return {name: end - start for (name, start), end in zip(marks, ends, strict=True)}


def test_the_note_fits_its_page_budget_section_by_section(rendered):
    _, pages, reader = rendered
    assert pages <= 8
    lengths = section_lengths(reader)
    assert list(lengths) == list(SECTION_BUDGETS)
    for name, budget in SECTION_BUDGETS.items():
        assert 0 < lengths[name] <= budget, (name, round(lengths[name], 2))


def test_every_interval_the_note_quotes_equals_its_source_file(rendered):
    text = rendered[0].replace("\n", " ")
    threshold = json.loads((REPO / "reports" / "metrics" / "threshold.json").read_text())["intervals"]
    ebm = json.loads((REPO / "reports" / "metrics" / "explain.json").read_text())["ebm_intervals"]
    quoted = {
        "champion AUC": interval(threshold["holdout_auc"]),
        "champion cost": interval(threshold["holdout_cost_per_client"]),
        "baseline AUC": interval(threshold["baseline"]["holdout_auc_interval"]),
        "baseline cost": interval(threshold["baseline"]["holdout_cost_interval"]),
        "champion - baseline AUC": interval(threshold["champion_minus_baseline"]["holdout_auc"], signed),
        "champion - baseline cost": interval(threshold["champion_minus_baseline"]["holdout_cost_per_client"],
                                               signed),
        "EBM AUC": interval(ebm["holdout_auc"]),
        "EBM cost": interval(ebm["holdout_cost_per_client"]),
        "EBM - champion AUC": interval(ebm["ebm_minus_champion_auc"], signed),
        "EBM - champion cost": interval(ebm["ebm_minus_champion_cost"], signed),
    }
    for what, shown in quoted.items():
        assert shown in text, (what, shown)
    summary = text[:text.index("1. Méthodologie")]  # the executive summary, page 1
    assert quoted["champion AUC"] in summary and quoted["champion cost"] in summary
    every_interval = re.findall(r"\[[−+]?\d,\d+\u202f;\u00a0[−+]?\d,\d+\]", text)
    assert set(every_interval) <= set(quoted.values())  # nothing quoted that no file holds


def test_the_pdf_follows_french_typography_and_prints_labels_not_columns(rendered):
    text = rendered[0]
    # justified lines stretch a no-break space, which pypdf may read back as one more space after it
    assert not re.findall(r"(?<![\u00a0\u202f])[ \n][:;!?%»]|«[ \n]", text)
    assert "'" not in text and "\u200b" not in text
    assert not re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", text)  # NAME_CONTRACT_TYPE, EXT_SOURCE_3…
    assert "hors échantillon" not in text  # one wording per idea: « hors pli »


def test_the_pdf_quotes_the_holdout_results_as_the_note_formats_them(rendered):
    text = rendered[0]
    metrics = json.loads((REPO / "reports" / "metrics" / "threshold.json").read_text())
    for key in ("holdout_auc", "holdout_cost_per_client", "threshold"):
        assert score(metrics[key]) in text, key
    assert f"une AUC de {score(metrics['holdout_auc'])}" in text.replace("\n", " ")
    assert f"seuil de {score(metrics['threshold'])}" in text.replace("\n", " ")
    assert share(metrics["holdout_recall"]) in text


def test_the_pdf_has_its_sections_captions_and_no_unexpanded_shortcode(rendered):
    text, pages, _ = rendered
    assert pages <= 8
    for title in ("Méthodologie d’entraînement", "déséquilibre des classes", "Fonction coût métier",
                  "Tableau de synthèse", "Interprétabilité globale et locale", "Limites et améliorations",
                  "Analyse du data drift", "En bref"):
        assert title in text, title
    assert "Figure\u00a01 — " in text and "Tableau\u00a01 — " in text  # typst binds the number
    assert "{{<" not in text and "?@" not in text
    drift = json.loads((REPO / "reports" / "metrics" / "drift.json").read_text())
    flat = text.replace("\n", " ")
    assert f"(PSI de {score(drift['score']['psi'])})" in flat  # the score's drift, in the note's own words
    columns = drift["all_columns"]
    assert (f"Sur {count(columns['columns'])} variables de la demande, {count(columns['drifted_columns'])} "
            f"dérivent selon evidently") in flat




