"""The client's explanation letter: rendered to PDF with the real template and typst, read back with pypdf."""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from credit_scoring.modeling.bundle import DECISION_GRANTED, DECISION_REFUSED
from credit_scoring.production import letter as L

NNBSP = "\u202f"
REASONS = [
    "Vos remboursements passés auprès d'autres organismes ont connu des retards.",
    "Le montant des mensualités représente une part élevée de vos revenus.",
    "Votre emploi actuel est récent (moins d'un an).",
]
PROPOSALS = ["Un crédit de 180\u202f000\u202f€ sur la même durée aurait été accepté."]
REFUSAL = L.LetterContent(
    reference="PAD-100002-3f2a9c1b", issued=datetime.date(2026, 11, 30), client_id=100002,
    decision=DECISION_REFUSED, model_version="7", reasons=REASONS, proposals=PROPOSALS,
    amount=250000, annuity=11800.4, duration_months=24,
)
GRANT = replace(REFUSAL, reference="PAD-100003-9b1e77d0", issued=datetime.date(2026, 12, 1), client_id=100003,
                decision=DECISION_GRANTED,
                proposals=["Votre demande resterait acceptée jusqu'à un montant de 320\u202f000\u202f€."])


def plain(text: str) -> str:
    """pypdf's text with the letter's no-break spaces, line breaks and typographic apostrophes made plain."""
    text = text.replace("\u2019", "'").replace(NNBSP, " ").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text)


def read(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), plain(" ".join(page.extract_text() for page in reader.pages))


def test_french_date_names_the_month_and_writes_1er():
    assert L.french_date(datetime.date(2026, 11, 30)) == "30 novembre 2026"
    assert L.french_date(datetime.date(2026, 12, 1)) == "1er décembre 2026"
    assert L.french_date(datetime.date(2027, 2, 2)) == "2 février 2027"
    assert L.french_date(datetime.date(2027, 8, 15)) == "15 août 2027"


def test_euros_rounds_to_the_euro_with_narrow_no_break_spaces():
    assert L.euros(250000) == f"250{NNBSP}000{NNBSP}€"
    assert L.euros(11800.4) == f"11{NNBSP}800{NNBSP}€"
    assert L.euros(2.5) == f"3{NNBSP}€"  # half up, not to even
    assert L.euros(1234567.5) == f"1{NNBSP}234{NNBSP}568{NNBSP}€"
    with pytest.raises(ValueError, match="finite"):
        L.euros(float("nan"))


def test_a_refusal_letter_says_the_decision_reasons_changes_and_rights():
    pages, text = read(L.render_letter(REFUSAL))  # its time: benchmarks/small_timings.py
    assert pages == 1
    assert ("nous ne pouvons pas accepter votre demande d'un crédit de 250 000 € remboursable en 24 mensualités "
            "de 11 800 €.") in text
    for sentence in REASONS + PROPOSALS:
        assert plain(sentence) in text
    assert "Ce qui changerait la décision" in text and "Votre marge" not in text
    assert "préparée par notre outil d'évaluation automatique" in text
    assert "d'obtenir le réexamen de la décision par une personne" in text
    assert "votre point de vue" in text and "une explication" in text
    assert "article 22 du règlement (UE) 2016/679 (RGPD)" in text and "directive (UE) 2023/2225" in text
    assert text.count("PAD-100002-3f2a9c1b") >= 3  # header, how to ask for review, footer
    assert "Paris, le 30 novembre 2026" in text
    assert "version de l'outil : 7" in text
    assert "100002" in text
    for jargon in ("probabilité", "seuil", "SHAP", "modèle"):
        assert jargon not in text


def test_a_grant_letter_has_the_margin_and_no_change_section():
    pages, text = read(L.render_letter(GRANT))
    assert pages == 1
    assert "nous acceptons votre demande d'un crédit de 250 000 €" in text
    assert "Votre marge" in text and plain(GRANT.proposals[0]) in text
    assert "Ce qui changerait" not in text and "ne pouvons pas" not in text
    assert "Paris, le 1er décembre 2026" in text
    assert "réexamen de la décision par une personne" in text


def test_a_grant_without_margin_sentences_has_no_margin_section():
    _, text = read(L.render_letter(replace(GRANT, proposals=[])))
    assert "Votre marge" not in text and "Ce qui changerait" not in text


def test_a_refusal_without_proposals_says_no_change_would_do_and_offers_an_advisor():
    _, text = read(L.render_letter(replace(REFUSAL, proposals=[])))
    assert "Aucune modification du montant ou de la durée du crédit ne conduirait à un accord." in text
    assert "Votre conseiller peut examiner votre dossier avec vous" in text


def test_the_request_sentence_follows_what_is_known_of_it():
    _, text = read(L.render_letter(replace(REFUSAL, amount=None, annuity=None, duration_months=None)))
    assert "nous ne pouvons pas accepter votre demande de crédit." in text
    _, text = read(L.render_letter(replace(REFUSAL, duration_months=None)))
    assert "un crédit de 250 000 € remboursable par mensualités de 11 800 €." in text


def test_typst_markup_in_a_sentence_is_printed_as_written():
    hostile = r'#import "x": * $x$ <a> @b \ [y] *gras* _it_ #panic("no") // fin'
    _, text = read(L.render_letter(replace(REFUSAL, reasons=[hostile], proposals=[r"C:\dossier #1"])))
    assert hostile in text
    assert r"C:\dossier #1" in text



def test_long_reasons_and_the_reference_copy_out_of_the_pdf_as_written():
    """Words are never split by the layout: a client copies the reasons and the reference into a complaint or a
    search as they were written (with hyphenation, pypdf read 'établisse\\xadments' and the footer's reference as
    'PAD\\xad100002\\xad3f2a9c1b')."""
    long_words = [
        "Nombre de contrats de crédit aux consommateurs actuellement actifs et déclarés par les établissements, "
        "ce qui pèse sur le risque.",
        "Ancienneté de la demande de crédit (crédits clos déclarés au bureau de crédit) : 18\xa0mois, ce qui pèse "
        "sur le risque.",
        "Durée de remboursement demandée anormalement longue au regard des revenus déclarés par le demandeur "
        "principal, ce qui pèse sur le risque.",
    ]
    reader = PdfReader(io.BytesIO(L.render_letter(replace(REFUSAL, reasons=long_words))))
    raw = " ".join(page.extract_text() for page in reader.pages)
    assert "\xad" not in raw
    flat = "".join(raw.split())  # line breaks and spaces are the layout's: compare the words' letters
    places = [flat.find("".join(reason.split())) for reason in long_words]
    assert -1 not in places and places == sorted(places)
    assert plain(raw).count("PAD-100002-3f2a9c1b") >= 3

def test_the_letter_shows_four_reasons_and_four_proposals_and_takes_two_pages_at_most():
    reasons = [f"Raison {i} : " + "un élément de votre dossier pèse sur la décision. " * 5 for i in range(12)]
    proposals = [f"Proposition {i} : " + "un autre montant ou une autre durée aurait suffi. " * 5 for i in range(12)]
    longest = replace(REFUSAL, reasons=[r[:L.MAX_SENTENCE_CHARS] for r in reasons],
                      proposals=[p[:L.MAX_SENTENCE_CHARS] for p in proposals])
    pages, text = read(L.render_letter(longest))
    assert pages <= 2
    assert "Raison 3 :" in text and "Raison 4 :" not in text
    assert "Proposition 3 :" in text and "Proposition 4 :" not in text
    assert "version de l'outil : 7" in text


@pytest.mark.parametrize(("change", "field"), [
    ({"decision": "approuvé"}, "decision"),
    ({"decision": "Refusé"}, "decision"),
    ({"reference": " "}, "reference"),
    ({"model_version": ""}, "model_version"),
    ({"reasons": []}, "reasons"),
    ({"reasons": ["ok", "  "]}, r"reasons\[1\]"),
    ({"proposals": ["x" * (L.MAX_SENTENCE_CHARS + 1)]}, r"proposals\[0\]"),
    ({"amount": -5.0}, "amount"),
    ({"annuity": float("inf")}, "annuity"),
    ({"duration_months": 0}, "duration_months"),
    ({"client_id": -1}, "client_id"),
])
def test_a_wrong_value_is_refused_naming_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        replace(REFUSAL, **change)


@pytest.mark.parametrize(("change", "field"), [
    ({"reasons": "une seule phrase"}, "reasons"),
    ({"proposals": [None]}, r"proposals\[0\]"),
    ({"duration_months": 12.5}, "duration_months"),
    ({"amount": True}, "amount"),
    ({"client_id": "100002"}, "client_id"),
    ({"issued": "2026-11-30"}, "issued"),
    ({"reference": None}, "reference"),
])
def test_a_wrong_type_is_refused_naming_the_field(change, field):
    with pytest.raises(TypeError, match=field):
        replace(REFUSAL, **change)
