"""What a client is told about a decision (EU directive 2023/2225 art. 18, GDPR art. 22): the recourse proposals in
plain French, for the relationship manager ("le client") and for the client ("vous"), and the explanation
letter's content (`credit_scoring.production.letter`).
"""

from __future__ import annotations

import datetime

from app.api.bodies import Explanation
from credit_scoring.explain.recourse import AMOUNT, ANNUITY, LESS, LONGER, MARGIN, SHORTER, Proposal, positive
from credit_scoring.modeling.bundle import DECISION_REFUSED
from credit_scoring.production.letter import LetterContent, euros

ADVISOR, CLIENT = "advisor", "client"


def proposal_sentence(proposal: Proposal, requested_months: int, audience: str = ADVISOR) -> str:
    """One proposal in a sentence; ``requested_months`` is the duration the application implies."""
    amount, instalment = euros(proposal.changes.get(AMOUNT, 0.0)), euros(proposal.changes[ANNUITY])
    months = proposal.months
    granted = "serait accordé" if audience == ADVISOR else "pourrait vous être accordé"
    if proposal.kind == LESS:
        return f"Un crédit de {amount} sur la même durée ({months} mensualités de {instalment}) {granted}."
    if proposal.kind in (SHORTER, LONGER):
        return (f"Le même montant remboursé en {months} mensualités de {instalment} (au lieu de "
                f"{requested_months}) {granted}.")
    if proposal.kind == MARGIN:
        if audience == ADVISOR:
            return (f"Le client pourrait emprunter jusqu'à {amount} sur la même durée ({months} mensualités de "
                    f"{instalment}) et rester accordé.")
        return (f"Vous pourriez emprunter jusqu'à {amount} sur la même durée ({months} mensualités de "
                f"{instalment}) avec la même réponse favorable.")
    raise ValueError(f"unknown proposal kind {proposal.kind!r}")


def letter_reasons(explanation: Explanation) -> list[str]:
    """The reasons a letter gives: for a refusal those that raised the risk, for a grant those that lowered it
    (all of them if none goes that way), most important first."""
    wanted = "hausse" if explanation.decision == DECISION_REFUSED else "baisse"
    chosen = [r.text for r in explanation.reasons if r.direction == wanted]
    return chosen or [r.text for r in explanation.reasons]


def letter_content(explanation: Explanation, proposals: list[Proposal], requested_months: int | None,
                   application: dict, request_id: str, issued: datetime.date) -> LetterContent:
    """The letter of a known client's decision: its reasons, the proposals in the client's words, the loan asked
    for, and a reference naming the recorded decision (``request_id``)."""
    client_id = explanation.sk_id_curr
    return LetterContent(
        reference=f"PAD-{client_id}-{request_id[:8]}",
        issued=issued,
        client_id=client_id,
        decision=explanation.decision,
        model_version=explanation.model_version,
        reasons=letter_reasons(explanation) or ["Aucun facteur ne se détache dans l'évaluation de votre dossier."],
        proposals=[proposal_sentence(p, requested_months or p.months, CLIENT) for p in proposals],
        amount=_amount(application.get(AMOUNT)),
        annuity=_amount(application.get(ANNUITY)),
        duration_months=requested_months,
    )


def _amount(value) -> float | None:
    """A positive amount, or None (missing, NaN or not positive)."""
    return float(value) if positive(value) else None
