"""A client's rights through the API over the tiny pipeline's served model: what would change the decision
(`/clients/{id}/recourse`, `POST /recourse`) and the explanation letter (`/clients/{id}/letter`); sex out of the
model. Every proposal is sent back to `/predict` (the normal scoring path) and must be granted there."""

from __future__ import annotations

import io
import re
from itertools import pairwise

import numpy as np
import pytest
from pypdf import PdfReader

from credit_scoring.explain.recourse import ACTIONABLE, AMOUNT, ANNUITY, LESS, MARGIN
from credit_scoring.modeling.bundle import DECISION_GRANTED, DECISION_REFUSED, load_bundle
from credit_scoring.modeling.training import derived_features
from credit_scoring.production.events import create_store, read_events
from tests.conftest import API_KEY, in_process_api

KEY = {"X-API-Key": API_KEY}
NO_KEY = {"X-API-Key": ""}  # the test clients send KEY unless told otherwise


@pytest.fixture(scope="module")
def events_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('rights') / 'events.db'}"


@pytest.fixture(scope="module")
def client(service, events_url):
    with in_process_api(service, events_url) as test_client:
        test_client.headers.update(KEY)  # an application holding the bootstrap key
        yield test_client


@pytest.fixture(scope="module")
def leaning_service(explained_project, service):
    """The service over a model of the project's own making (`make_estimator`, the constraints of params.yaml)
    fitted on the tiny project's training part with 300 rounds: the tiny pipeline's champion stops after a few
    dozen and hardly splits on the loan's amounts, so recourse would have little to move."""
    import yaml

    from app.api.service import ScoringService
    from credit_scoring.explain.local import load_explain_config
    from credit_scoring.modeling.bundle import Bundle
    from credit_scoring.modeling.training import load_training, make_estimator

    p = explained_project
    params = yaml.safe_load((p / "params.yaml").read_text())
    data = load_training(p / "data/features/train.parquet", p / "data/prepared/split.parquet",
                         exclude_protected=params["features"]["exclude_protected"])
    model = make_estimator("lightgbm", {"learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
                                        "colsample_bytree": 0.5}, 0, 300, False, params["estimator"],
                           data.feature_names).fit(data.X, data.y)
    threshold = float(np.quantile(model.predict_proba(data.X_holdout)[:, 1], 0.7))
    bundle = Bundle(model, threshold, data.feature_names, "leaning", {"exclude_protected": ["CODE_GENDER"]})
    return ScoringService(bundle, load_explain_config(p / "models/explain"), service.clients)


@pytest.fixture(scope="module")
def leaning_events(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('leaning') / 'events.db'}"


@pytest.fixture(scope="module")
def leaning(leaning_service, leaning_events):
    with in_process_api(leaning_service, leaning_events) as client:
        client.headers.update(KEY)
        yield client


@pytest.fixture(scope="module")
def refused(leaning) -> list[int]:
    found = leaning.get("/clients", params={"decision": DECISION_REFUSED, "limit": 40}, headers=KEY).json()
    return [c["sk_id_curr"] for c in found["clients"]]


@pytest.fixture(scope="module")
def granted(leaning_service) -> list[int]:
    """Granted clients, the riskiest first (those a larger loan can tip over the threshold)."""
    from app.api.service import PROBABILITY
    from app.api.service.population import DECISION

    table = leaning_service.table
    chosen = table[table[DECISION] == DECISION_GRANTED].sort_values(PROBABILITY, ascending=False)
    return [int(i) for i in chosen.index[:20]]


def test_no_model_feature_derives_from_sex(explained_project):
    bundle = load_bundle(explained_project / "models" / "champion")
    assert bundle.info["exclude_protected"] == ["CODE_GENDER"]
    assert derived_features("CODE_GENDER") and not set(derived_features("CODE_GENDER")) & set(bundle.features)
    assert {"AGE_YEARS", "DAYS_BIRTH"} & set(bundle.features)  # age stays an input, audited


def test_every_proposal_is_granted_by_predict_and_changes_only_the_loan(leaning, refused, service):
    client, with_proposals = leaning, 0
    for client_id in refused:
        answer = client.get(f"/clients/{client_id}/recourse", headers=KEY)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["decision"] == DECISION_REFUSED and body["sk_id_curr"] == client_id
        stored = service.scoring.stored_application(client_id)
        for proposal in body["proposals"]:
            assert set(proposal["changes"]) <= set(ACTIONABLE) and proposal["decision"] == DECISION_GRANTED
            assert proposal["kind"] != MARGIN and proposal["text"].endswith(".")
            if AMOUNT in proposal["changes"]:
                assert proposal["changes"][AMOUNT] <= stored[AMOUNT]  # never "borrow more to be granted"
            again = client.post("/predict", json={"SK_ID_CURR": client_id, **proposal["changes"]}).json()
            assert again["decision"] == DECISION_GRANTED
            assert again["probability"] == pytest.approx(proposal["probability"], rel=1e-9)
        with_proposals += bool(body["proposals"])
    assert with_proposals >= 1  # a refused client gets at least one proposal


def test_a_loan_raised_until_refused_gets_an_amount_back_within_what_was_granted(leaning, granted, service):
    """A granted client asking for more and more credit (same duration) is refused at some point; recourse then
    proposes an amount the model grants, below the one asked and at least the largest one seen granted (to the
    rounding step): a proposal exists whenever a smaller loan is granted."""
    client = leaning
    for client_id in granted:
        stored = service.scoring.stored_application(client_id)
        last_granted = 1.0
        for factor in (1.5, 2.0, 3.0, 5.0, 8.0):
            asked = {"SK_ID_CURR": client_id, AMOUNT: stored[AMOUNT] * factor, ANNUITY: stored[ANNUITY] * factor}
            if client.post("/predict", json=asked).json()["decision"] == DECISION_REFUSED:
                body = client.post("/recourse", json=asked, headers=KEY).json()
                assert body["decision"] == DECISION_REFUSED and body["sk_id_curr"] == client_id
                amounts = [p for p in body["proposals"] if p["kind"] == LESS]
                assert len(amounts) == 1, body
                proposed = amounts[0]["changes"]
                assert stored[AMOUNT] * last_granted - 1000 <= proposed[AMOUNT] < asked[AMOUNT]
                again = client.post("/predict", json={"SK_ID_CURR": client_id, **proposed}).json()
                assert again["decision"] == DECISION_GRANTED
                return
            last_granted = factor
    pytest.fail("no granted client is refused even at 8 times its credit")


def test_more_credit_never_lowers_the_risk_along_the_proposals(leaning, refused, service):
    """Along the amount proposal's path (same purchase and duration, amount and instalment in proportion), the
    risk rises with the amount: the served model is monotone there."""
    checked = 0
    for client_id in refused:
        stored = service.scoring.stored_application(client_id)
        if not stored.get(ANNUITY) or not stored.get(AMOUNT):
            continue  # no instalment to scale with the amount
        factors = [0.2 + 0.1 * i for i in range(20)]
        batch = [{"SK_ID_CURR": client_id, AMOUNT: stored[AMOUNT] * f, ANNUITY: stored[ANNUITY] * f}
                 for f in factors]
        answer = leaning.post("/predict/batch", json={"applications": batch}).json()
        probabilities = [p["probability"] for p in answer["predictions"]]
        assert all(b >= a - 1e-12 for a, b in pairwise(probabilities))
        checked += 1
        if checked == 5:
            break
    assert checked == 5, f"only {checked} refused clients have an amount and an instalment to scale"


def test_a_granted_client_gets_the_margin(leaning, granted):
    for client_id in granted:
        body = leaning.get(f"/clients/{client_id}/recourse", headers=KEY).json()
        assert body["decision"] == DECISION_GRANTED
        assert all(p["kind"] == MARGIN and p["decision"] == DECISION_GRANTED for p in body["proposals"])
        if body["proposals"]:
            assert body["proposals"][0]["text"].startswith("Le client pourrait emprunter jusqu")
            return
    pytest.fail("no granted client has a margin")


def test_post_recourse_takes_an_application_in_the_body(client, refused, service):
    client_id = refused[0]
    stored = service.scoring.stored_application(client_id)
    sent = {k: v for k, v in stored.items() if v is not None and k != "SK_ID_CURR"}
    by_body = client.post("/recourse", json=sent, headers=KEY)
    assert by_body.status_code == 200, by_body.text
    assert by_body.json()["sk_id_curr"] is None
    assert client.post("/recourse", json={"AMT_CREDIT": -5}, headers=KEY).status_code == 400
    assert client.post("/recourse", json={"NOT_A_FIELD": 1}, headers=KEY).status_code == 400
    assert client.post("/recourse", json=sent, headers=NO_KEY).status_code == 401
    assert client.get(f"/clients/{client_id}/recourse", headers=NO_KEY).status_code == 401
    assert client.get("/clients/1/recourse", headers=KEY).status_code == 404


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u202f", " ").replace("\xa0", " "))


def test_the_letter_holds_the_decision_reasons_recourse_and_the_right_to_a_review(leaning, refused,
                                                                                  leaning_events):
    client = leaning
    for client_id in refused:
        recourse = client.get(f"/clients/{client_id}/recourse", headers=KEY).json()
        if recourse["proposals"]:
            break
    answer = client.get(f"/clients/{client_id}/letter", headers=KEY)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert f'filename="lettre-{client_id}.pdf"' in answer.headers["content-disposition"]
    assert 1 <= len(PdfReader(io.BytesIO(answer.content)).pages) <= 2
    text = text_of(answer.content)
    assert "nous ne pouvons pas accepter votre demande" in text
    explanation = client.get(f"/clients/{client_id}/explanation", headers=KEY).json()
    raising = [r["text"] for r in explanation["reasons"] if r["direction"] == "hausse"]
    assert raising and raising[0].replace("\u202f", " ").replace("\xa0", " ").replace("\u2019", "'") in text
    first = recourse["proposals"][0]
    kind_words = "Un crédit de" if first["kind"] == LESS else "Le même montant remboursé en"
    assert "Ce qui changerait la décision" in text and kind_words in text and "pourrait vous être accordé" in text
    assert "réexamen de la décision par une personne" in text and "votre point de vue" in text
    request_id = answer.headers["x-request-id"]
    assert f"PAD-{client_id}-{request_id[:8]}" in text
    events = read_events(create_store(leaning_events)).set_index("request_id")
    assert events.loc[request_id, "endpoint"] == "client_letter"  # the decision the letter states is recorded
    assert events.loc[request_id, "decision"] == DECISION_REFUSED
    assert client.get(f"/clients/{client_id}/letter", headers=NO_KEY).status_code == 401
