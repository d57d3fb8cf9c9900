"""Outcomes as a bank sends them: the CSV's cells checked one by one with errors that name the line and the
column, moments read in UTC, and refusals summed up in one sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from credit_scoring.production.outcomes import (
    OutcomeError,
    _latest_before,
    in_utc,
    parse_moment,
    read_outcome_csv,
)


def test_a_refusal_names_at_most_ten_outcomes_and_counts_the_others():
    twelve = OutcomeError({i: f"reason {i}" for i in range(12)})
    assert twelve.args == ({i: f"reason {i}" for i in range(12)},) and len(twelve.problems) == 12
    assert str(twelve) == "; ".join(f"outcome {i}: reason {i}" for i in range(10)) + " (and 2 more)"
    ten = OutcomeError(dict.fromkeys(range(10), "x"))
    assert str(ten) == "; ".join(f"outcome {i}: x" for i in range(10))
    assert OutcomeError({3: "late", 1: "early"}).describe(lambda i: f"line {i + 2}") == "line 3: early; line 5: late"


def test_a_decision_made_at_the_very_moment_of_the_outcome_is_the_one_it_belongs_to():
    t = datetime(2026, 3, 1, tzinfo=UTC)
    decisions = [(t - timedelta(days=2), "older"), (t, "same moment"), (t + timedelta(seconds=1), "after")]
    assert _latest_before(decisions, t) == "same moment"
    assert _latest_before(decisions, t - timedelta(days=3)) is None


def test_moments_are_read_in_utc():
    assert parse_moment("2026-03-31") == datetime(2026, 3, 31, tzinfo=UTC)
    paris = parse_moment("2026-03-31T12:00:00+02:00")
    assert paris == datetime(2026, 3, 31, 10, tzinfo=UTC) and paris.tzinfo is UTC and paris.hour == 10
    one_am_in_paris = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert in_utc(one_am_in_paris).isoformat() == "2026-01-01T00:00:00+00:00"
    with pytest.raises(ValueError, match=r"^0001-01-01T00:00:00\+14:00 is out of range in UTC$"):
        in_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))


def write(tmp_path, text: str):
    path = tmp_path / "outcomes.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("client", [0, 2**63 - 1])
def test_the_extreme_client_ids_are_accepted(tmp_path, client):
    path = write(tmp_path, f"SK_ID_CURR,TARGET,observed_at\n{client},1,2026-03-31\n")
    (outcome,) = read_outcome_csv(path)
    assert (outcome.client_id, outcome.target, outcome.request_id) == (client, 1, None)


@pytest.mark.parametrize("cells, message", [
    ("-1,1,2026-03-31", "line 2, column SK_ID_CURR: expected a non-negative 64-bit id, got -1"),
    (f"{2**63},1,2026-03-31", f"line 2, column SK_ID_CURR: expected a non-negative 64-bit id, got {2**63}"),
    ("12.5,1,2026-03-31", "line 2, column SK_ID_CURR: expected a whole number, got '12.5'"),
    ("7,,2026-03-31", "line 2, column TARGET: expected 0 or 1, got ''"),
    ("7,2,2026-03-31", "line 2, column TARGET: expected 0 or 1, got '2'"),
    ("7,1,", "line 2, column observed_at: expected an ISO date or date-time (2026-03-31 or "
             "2026-03-31T12:00:00+00:00), got ''"),
])
def test_a_bad_cell_is_named_by_file_line_and_column(tmp_path, cells, message):
    path = write(tmp_path, f"SK_ID_CURR,TARGET,observed_at\n{cells}\n")
    with pytest.raises(ValueError) as refused:
        read_outcome_csv(path)
    assert str(refused.value) == f"{path} {message}"


def test_a_request_id_is_read_whole_with_its_accents_and_its_quoted_line_break(tmp_path):
    path = tmp_path / "outcomes.csv"
    path.write_bytes('request_id,TARGET,observed_at\r\n"décision\r\nn°1",0,2026-03-31\r\n'.encode())
    (outcome,) = read_outcome_csv(path)
    assert outcome.request_id == "décision\r\nn°1" and outcome.client_id is None


def test_a_file_without_the_needed_columns_says_which_are_expected(tmp_path):
    path = write(tmp_path, "client,TARGET\n1,0\n")
    with pytest.raises(ValueError) as refused:
        read_outcome_csv(path)
    assert str(refused.value) == (f"{path}: missing columns ['observed_at', 'request_id or SK_ID_CURR'], unknown "
                                  "columns ['client'] (expected request_id, SK_ID_CURR, TARGET, observed_at)")
