"""note stage: the methodological note (French), rendered to PDF from the files the other stages wrote, and the
model card (EU AI Act Annex IV outline) rendered from the same files and logged to MLflow with the champion.

The values and tables the note quotes come from `credit_scoring.note`, the rendering (Quarto, or pandoc and
Typst) from `credit_scoring.note.render`; the card from `credit_scoring.governance.model_card`.
"""

from __future__ import annotations

import argparse

from credit_scoring.common.paths import NOTE
from credit_scoring.governance.model_card import MODEL_CARD, log_model_card, model_card_inputs, write_model_card
from credit_scoring.note.inputs import write_note_inputs
from credit_scoring.note.render import build
from credit_scoring.note.vocabulary import GENERATED


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--quarto", dest="use_quarto", action="store_true", default=None, help="render with Quarto")
    way.add_argument("--pandoc", dest="use_quarto", action="store_false", help="render with pandoc and typst")
    way.add_argument("--inputs-only", action="store_true",
                     help="only write _generated/ (Quarto's pre-render step, for a bare `quarto render`; "
                          "no model card)")
    args = parser.parse_args(argv)
    if args.inputs_only:
        write_note_inputs()
        print(f"  wrote {NOTE / GENERATED}")
        return
    print(f"  wrote {build(use_quarto=args.use_quarto)}")
    card = model_card_inputs()
    print(f"  wrote {write_model_card(MODEL_CARD, card)}")
    logged = log_model_card(MODEL_CARD, expected_version=card["model"]["version"])
    if logged:
        print(f"  logged the model card to MLflow: {logged}")


if __name__ == "__main__":
    main()
