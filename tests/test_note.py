"""The methodological note: French number formats, the shortcodes it is written with, and the PDF itself,
rendered (pandoc and typst, as without Quarto) from the committed reports into a temporary copy of the
repository, then read back with pypdf."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from credit_scoring import note_inputs as N
from credit_scoring import note_render as R
from credit_scoring.paths import NOTE

REPO = Path(__file__).resolve().parents[1]
NNBSP = "\u202f"
NOTE_SOURCES = ("note.qmd", "template.typ", "typst-show.typ", "crossref.lua")


def test_numbers_read_as_a_french_text_prints_them():
    assert N.score(0.779725221239961) == "0,780"
    assert N.score(0.084) == "0,084"
    assert N.count(80000) == f"80{NNBSP}000"
    assert N.count(12) == "12"
    assert N.share(0.080875) == f"8,1{NNBSP}%"
    assert N.share(0.2, 0) == f"20{NNBSP}%"
    assert N.seconds(5.11043) == "5,1"


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

    table = N.markdown_table(pd.DataFrame({"Modèle": ["naïf"], "AUC": ["0,500"]}), right=("AUC",))
    _, rule, row = table.strip().splitlines()
    left, right = rule.strip("|").split("|")
    assert left.startswith(":") and not left.endswith(":")
    assert right.endswith(":") and not right.startswith(":")
    assert "0,500" in row and "naïf" in row


def test_the_summary_runs_from_the_simplest_model_to_the_tuned_one():
    reports = N.read_reports(REPO)
    table = N.summary_table(reports, coarse_sample=0.4)
    assert table["Modèle"].iloc[0].startswith("Classifieur naïf")
    assert table["Modèle"].iloc[-1].endswith("(retenu)")
    tune = reports.metrics["tune"]
    assert table["Coût / client"].iloc[-1] == N.score(tune["cv_cost_per_client"])
    assert table["AUC"].iloc[-1] == N.score(tune["cv_auc"])
    assert list(table.columns) == ["Modèle", "Déséquilibre", "Clients", "AUC", "Coût / client", "Seuil",
                                   "Apprentissage (s)"]


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


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[str, int]:
    root = copy_of_the_repository(tmp_path_factory.mktemp("note"))
    pdf = R.build(root, pdf=root / "out" / "note.pdf", use_quarto=False)
    pages = PdfReader(pdf).pages
    return "\n".join(page.extract_text() for page in pages), len(pages)


def test_the_pdf_quotes_the_holdout_results_as_the_note_formats_them(rendered):
    text, _ = rendered
    metrics = json.loads((REPO / "reports" / "metrics" / "threshold.json").read_text())
    for key in ("holdout_auc", "holdout_cost_per_client", "threshold"):
        assert N.score(metrics[key]) in text, key
    assert f"une AUC de {N.score(metrics['holdout_auc'])}" in text.replace("\n", " ")
    assert f"seuil de {N.score(metrics['threshold'])}" in text.replace("\n", " ")
    assert N.share(metrics["holdout_recall"]) in text


def test_the_pdf_has_its_sections_captions_and_no_unexpanded_shortcode(rendered):
    text, pages = rendered
    assert pages <= 10
    for title in ("Méthodologie d’entraînement", "déséquilibre des classes", "Fonction coût métier",
                  "Tableau de synthèse", "Interprétabilité globale et locale", "Limites et améliorations",
                  "Analyse du data drift"):
        assert title in text, title
    assert "Figure\u00a01 — " in text and "Tableau\u00a01 — " in text  # typst binds the number
    assert "{{<" not in text and "?@" not in text
    drift = json.loads((REPO / "reports" / "metrics" / "drift.json").read_text())
    first_words = " ".join(drift["conclusion_fr"].split()[:4])
    assert first_words in text.replace("\n", " ")
