"""Golden answers of the prediction API: a few requests whose answers were recorded before the house was
redesigned (issue 14) and must stay the same after it.

The requests go to the real `python -m app.api` process over HTTP, serving the tiny project the pipeline builds
in `explained_project`, so the test does not depend on how the API is organised inside. Numbers are compared to
1e-9 (relative), everything else exactly. `GOLDEN_RECORD=1 pytest tests/test_golden_api.py` writes the answers
anew: do it only for a change that is meant to change them, and say why in the commit.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import httpx
import pytest

GOLDEN = Path(__file__).with_name("golden") / "api_answers.json"
VOLATILE = {"request_id"}  # a fresh identifier per answer, by design


def requests_to_record(ids: list[int]) -> dict[str, tuple[str, str, dict | None, dict | None]]:
    """name -> (method, path, query params, JSON body): one or two requests per domain of the API."""
    first, second = ids
    return {
        "predict_known_client": ("POST", "/predict", None, {"SK_ID_CURR": first}),
        "predict_known_client_changed": ("POST", "/predict", None, {"SK_ID_CURR": second, "EXT_SOURCE_3": 0.2}),
        "predict_new_applicant": ("POST", "/predict", None, {"AMT_INCOME_TOTAL": 150000, "AMT_CREDIT": 500000.0,
                                                              "DAYS_BIRTH": -12000, "CODE_GENDER": "F"}),
        "client_sheet": ("GET", f"/clients/{first}", None, None),
        "client_explanation": ("GET", f"/clients/{first}/explanation", None, None),
        "population_all": ("GET", "/population", {"feature": "AMT_CREDIT", "bins": 10}, None),
        "population_group": ("GET", "/population", {"feature": "NAME_CONTRACT_TYPE", "gender": "F"}, None),
    }


def answers(url: str, key: str) -> dict:
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        listed = http.get("/clients", params={"limit": 2}).json()
        ids = sorted(int(row["sk_id_curr"]) for row in listed["clients"])[:2]
        recorded = {"ids": ids}
        for name, (method, path, params, body) in requests_to_record(ids).items():
            response = http.request(method, path, params=params, json=body)
            body = response.json()
            recorded[name] = {"status": response.status_code,
                              "body": {k: v for k, v in body.items() if k not in VOLATILE}}
    return recorded


def assert_same(actual, expected, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), f"{where}: keys {set(actual) ^ set(expected)}"
        for k in expected:
            assert_same(actual[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: length"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, f"{where}[{i}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), \
            f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def test_api_answers_are_those_recorded(api_service):
    url, key = api_service
    actual = answers(url, key)
    if os.environ.get("GOLDEN_RECORD") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"answers recorded to {GOLDEN}")
    assert GOLDEN.is_file(), f"{GOLDEN} missing: record it with GOLDEN_RECORD=1 on a commit whose answers are right"
    expected = json.loads(GOLDEN.read_text())
    assert actual["ids"] == expected["ids"]
    for name in requests_to_record(expected["ids"]):
        assert actual[name]["status"] == 200, f"{name}: {actual[name]}"
        assert_same(actual[name], expected[name], name)
