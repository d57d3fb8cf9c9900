"""The letter explaining a credit decision to the client, in French, as a PDF (EU directive 2023/2225 art. 18,
GDPR art. 22): the decision, its main reasons, what would change it (refusal) or the margin (grant), and the
client's rights (state their view, a review by a person, an explanation).

`render_letter` fills ``letter.typ`` (next to this module) with the typst package, fonts embedded in Typst only.
The values reach the template as one JSON string in ``sys.inputs``, never spliced into Typst source, so a
sentence holding ``#``, ``$``, ``*``, ``<``, ``@`` or ``\\`` prints as written. The PDF is made in memory.

What fits: the letter shows the first `MAX_REASONS` reasons and the first `MAX_PROPOSALS` proposals (callers give
them most important first; the rest are dropped, not an error) and refuses a sentence longer than
`MAX_SENTENCE_CHARS`; so the letter takes one page, two at most.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from credit_scoring.common.formatting import NARROW_NBSP, french_number
from credit_scoring.modeling.bundle import DECISION_GRANTED, DECISION_REFUSED

TEMPLATE = Path(__file__).with_name("letter.typ")
MAX_REASONS = 4
MAX_PROPOSALS = 4
MAX_SENTENCE_CHARS = 300
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
_LAYOUT_SPACES = re.compile(r"[ \t\r\n]+")


def french_date(day: datetime.date) -> str:
    """2026-11-30 -> '30 novembre 2026'; the first day of a month is '1er'."""
    if not isinstance(day, datetime.date):
        raise TypeError(f"french_date needs a datetime.date, not {type(day).__name__}")
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def euros(amount: float) -> str:
    """250000 -> '250 000 €': rounded to the euro (half up), narrow no-break spaces for thousands and before €."""
    if not math.isfinite(amount):
        raise ValueError(f"an amount in euros must be a finite number, not {amount!r}")
    rounded = Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return french_number(float(rounded), 0) + NARROW_NBSP + "€"


def _sentences(name: str, values) -> list[str]:
    """The sentences of field `name`, layout whitespace collapsed (no-break spaces kept); ValueError if not text."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise TypeError(f"{name} must be a list of sentences, not {type(values).__name__}")
    cleaned = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{name}[{i}] must be a sentence (str), not {type(value).__name__}")
        text = _LAYOUT_SPACES.sub(" ", value).strip()
        if not text:
            raise ValueError(f"{name}[{i}] is empty")
        if len(text) > MAX_SENTENCE_CHARS:
            raise ValueError(f"{name}[{i}] has {len(text)} characters; a letter sentence has at most "
                             f"{MAX_SENTENCE_CHARS}")
        cleaned.append(text)
    return cleaned


def _typed(name: str, value, kind: type | tuple) -> None:
    """TypeError naming the field when `value` is not of `kind` (a bool is no number here)."""
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{name} must be of type {expected}, not {type(value).__name__}")


def _positive(name: str, value, kind: type | tuple = (int, float)) -> None:
    """Checks an optional positive number: TypeError for another type, ValueError for a value not > 0."""
    if value is None:
        return
    _typed(name, value, kind)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number or None, not {value!r}")


@dataclass(frozen=True)
class LetterContent:
    """What a letter says; checked when built: TypeError (wrong type) or ValueError (wrong value), naming the
    field."""

    reference: str  # e.g. "PAD-100002-3f2a9c1b"
    issued: datetime.date
    client_id: int
    decision: str  # DECISION_GRANTED or DECISION_REFUSED
    model_version: str
    reasons: list[str]  # plain-French sentences, most important first (at least one; the letter shows 4)
    proposals: list[str] = field(default_factory=list)  # what would change a refusal, or a grant's margin
    amount: float | None = None  # the requested credit (AMT_CREDIT)
    annuity: float | None = None  # monthly instalment (AMT_ANNUITY)
    duration_months: int | None = None

    def __post_init__(self) -> None:
        if self.decision not in (DECISION_GRANTED, DECISION_REFUSED):
            raise ValueError(f"decision must be {DECISION_GRANTED!r} or {DECISION_REFUSED!r}, not {self.decision!r}")
        for name in ("reference", "model_version"):
            _typed(name, getattr(self, name), str)
            if not getattr(self, name).strip():
                raise ValueError(f"{name} must not be empty")
        _typed("issued", self.issued, datetime.date)
        _typed("client_id", self.client_id, int)
        if self.client_id < 0:
            raise ValueError(f"client_id must not be negative, not {self.client_id!r}")
        if not _sentences("reasons", self.reasons):
            raise ValueError("reasons must hold at least one sentence: the letter explains the decision")
        _sentences("proposals", self.proposals)
        _positive("amount", self.amount)
        _positive("annuity", self.annuity)
        _positive("duration_months", self.duration_months, int)


def letter_data(content: LetterContent) -> dict:
    """The JSON the template reads: French-formatted values, lists cut to what the letter shows."""
    issued = content.issued
    return {
        "reference": content.reference.strip(),
        "date": french_date(issued),
        "issued": [issued.year, issued.month, issued.day],
        "client": str(content.client_id),
        "granted": content.decision == DECISION_GRANTED,
        "version": content.model_version.strip(),
        "reasons": _sentences("reasons", content.reasons)[:MAX_REASONS],
        "proposals": _sentences("proposals", content.proposals)[:MAX_PROPOSALS],
        "amount": None if content.amount is None else euros(content.amount),
        "annuity": None if content.annuity is None else euros(content.annuity),
        "duration": content.duration_months,
    }


def render_letter(content: LetterContent) -> bytes:
    """The letter as PDF bytes (A4, one or two pages), compiled in memory with Typst's embedded fonts only."""
    import typst

    return typst.compile(TEMPLATE.read_bytes(), format="pdf", ignore_system_fonts=True, timestamp=0,
                         sys_inputs={"data": json.dumps(letter_data(content), ensure_ascii=False)})
