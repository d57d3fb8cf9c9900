"""French numbers, one format for the figures, the reasons, the note, the drift summary and the page."""

from credit_scoring.common.formatting import NARROW_NBSP, french_list, french_number, french_percent


def test_french_numbers_have_a_decimal_comma_and_narrow_spaced_thousands():
    assert french_number(1234567.891) == f"1{NARROW_NBSP}234{NARROW_NBSP}567,89"
    assert french_number(0.0742) == "0,07"
    assert french_number(-1500, 0) == f"-1{NARROW_NBSP}500"


def test_a_share_is_a_percentage_with_a_narrow_space_before_its_sign():
    assert french_percent(0.0833, 1) == f"8,3{NARROW_NBSP}%"
    assert french_percent(0.5) == f"50{NARROW_NBSP}%"


def test_a_list_reads_as_a_french_enumeration():
    assert french_list([]) == ""
    assert french_list(["a"]) == "a"
    assert french_list(["a", "b"]) == "a et b"
    assert french_list(["a", "b", "c"]) == "a, b et c"
