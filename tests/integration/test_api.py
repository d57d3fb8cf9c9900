"""The prediction API: every endpoint, every kind of bad input, the bootstrap key, rate limits, CORS, the event
store.

Most tests drive the app in process (Litestar's TestClient runs its lifespan) over the tiny project the pipeline
built in `explained_project`, as an application holding the bootstrap key (`keyed`); the real `python -m app.api`
process is tested in tests/integration/test_api_server.py, people's accounts and roles in
tests/integration/test_access_control.py.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pandas as pd
import pytest
from litestar.testing import TestClient
from sqlalchemy.exc import OperationalError

from app.api.bodies import Application, bounds
from app.api.server import create_app
from app.api.settings import Settings, parse_rate_limit
from credit_scoring.dataset.schema import table
from credit_scoring.modeling.bundle import load_bundle
from credit_scoring.production.events import create_store, read_events
from tests.conftest import API_KEY

KEY = {"X-API-Key": API_KEY}


@contextmanager
def keyed(app) -> Iterator[TestClient]:
    """The app in process, every request sent with the bootstrap key unless it says otherwise."""
    with TestClient(app) as client:
        client.headers.update(KEY)
        yield client


def settings(tmp_path, **overrides) -> Settings:
    values = {"api_key": API_KEY, "events_url": f"sqlite:///{tmp_path / 'events.db'}",
              "rate_limit": ("second", 100_000), **overrides}
    return Settings(**values)


@pytest.fixture(scope="module")
def client(service, tmp_path_factory):
    with keyed(create_app(settings(tmp_path_factory.mktemp("events")), service=service)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def known(service) -> list[int]:
    return [int(i) for i in service.table.index[:5]]


def no_traceback(response) -> None:
    assert "Traceback" not in response.text and 'File "' not in response.text


# -- routes without a key ------------------------------------------------------------------------------------
def test_health_and_model_describe_the_served_bundle(client, explained_project):
    bundle = load_bundle(explained_project / "models" / "champion")
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model_version"] == bundle.model_version and health["clients"] > 4000
    model = client.get("/model").json()
    assert model["threshold"] == bundle.threshold and model["features"] == bundle.features
    assert model["metrics"]["holdout_auc"] == pytest.approx(bundle.info["metrics"]["holdout_auc"])
    assert model["cost"] == {"fn": 10.0, "fp": 1.0}


def test_openapi_3_1_is_served_at_schema_with_examples(client):
    spec = client.get("/schema/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {"/predict", "/predict/batch", "/clients/{client_id}", "/clients/{client_id}/explanation",
            "/clients/{client_id}/similar", "/population", "/health", "/model"} <= set(spec["paths"])
    body = spec["paths"]["/predict"]["post"]["requestBody"]
    assert "examples" in json.dumps(body) or "example" in json.dumps(body)
    assert spec["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"


FILTERS = ["contract_type", "gender", "age_min", "age_max", "income_min", "income_max", "decision"]


def test_the_filter_dependency_and_the_key_show_in_the_openapi_document(client):
    paths = client.get("/schema/openapi.json").json()["paths"]

    def names(path: str) -> list[str]:
        return [p["name"] for p in paths[path]["get"].get("parameters", [])]

    assert names("/clients") == [*FILTERS, "limit", "offset"]
    assert names("/population") == ["feature", *FILTERS, "ids", "bins"]
    assert names("/population/points") == ["x", "y", *FILTERS, "ids", "n"]
    secured = ("/clients", "/population", "/outcomes", "/recourse", "/predict")  # personal data, decisions
    for path, item in paths.items():
        for operation in item.values():
            if path.startswith(secured):
                assert {"bearer": []} in operation["security"], path
            if path.startswith(secured[:4]):
                assert operation["x-personal-data"] is True, path


def test_a_known_client_scores_as_the_batch_features_of_the_featurize_stage(client, explained_project, known):
    p = explained_project
    bundle = load_bundle(p / "models" / "champion")
    features = pd.concat([pd.read_parquet(p / "data" / "features" / f"{s}.parquet") for s in ("train", "test")])
    expected = bundle.probability(features.set_index("SK_ID_CURR").loc[known])
    for client_id, probability in zip(known, expected, strict=True):
        answer = client.post("/predict", json={"SK_ID_CURR": client_id}).json()
        assert answer["probability"] == pytest.approx(float(probability), abs=1e-9)
        assert answer["decision"] == ("refusé" if probability >= bundle.threshold else "accordé")
        assert answer["sk_id_curr"] == client_id and answer["model_version"] == bundle.model_version
        assert len(answer["request_id"]) == 32


def test_fields_left_out_keep_the_client_s_values_and_sent_fields_change_the_score(client, service, known):
    client_id = known[0]
    stored = service.scoring.stored_application(client_id)
    same = client.post("/predict", json={"SK_ID_CURR": client_id, "AMT_CREDIT": stored["AMT_CREDIT"]}).json()
    base = client.post("/predict", json={"SK_ID_CURR": client_id}).json()
    assert same["probability"] == pytest.approx(base["probability"], abs=1e-12)
    changed = [client.post("/predict", json={"SK_ID_CURR": client_id, "EXT_SOURCE_3": v}).json()["probability"]
               for v in (0.05, 0.95)]
    assert changed[0] > changed[1]  # a poor external score raises the estimated risk


def test_a_new_applicant_is_scored_from_any_subset_of_fields(client, service):
    answer = client.post("/predict", json={"AMT_INCOME_TOTAL": 150000, "AMT_CREDIT": 500000.0,
                                           "NAME_CONTRACT_TYPE": "Cash loans", "EXT_SOURCE_2": None})
    assert answer.status_code == 200
    body = answer.json()
    assert 0 <= body["probability"] <= 1 and body["sk_id_curr"] is None
    empty = client.post("/predict", json={})  # nothing known: still a score, the model's for an all-missing row
    assert empty.status_code == 200
    nothing = service.scoring.merged_application({}, None)  # every field missing, as the API completes it
    assert empty.json()["probability"] == pytest.approx(float(service.scoring.probabilities([nothing], [None])[0]),
                                                        abs=1e-12)


def test_a_batch_scores_each_application_as_predict_does(client, known):
    applications = [{"SK_ID_CURR": i} for i in known] + [{"AMT_CREDIT": 250000.0}]
    batch = client.post("/predict/batch", json={"applications": applications})
    assert batch.status_code == 200
    singles = [client.post("/predict", json=a).json()["probability"] for a in applications]
    assert [p["probability"] for p in batch.json()["predictions"]] == pytest.approx(singles, abs=1e-12)


@pytest.mark.parametrize("applications, status", [([], 400), ([{}] * 1001, 400)])
def test_a_batch_is_bounded(client, applications, status):
    response = client.post("/predict/batch", json={"applications": applications})
    assert response.status_code == status and "applications" in response.json()["detail"]


def test_a_batch_naming_an_unknown_client_says_which_application(client, known):
    response = client.post("/predict/batch", json={"applications": [{"SK_ID_CURR": known[0]}, {"SK_ID_CURR": 1}]})
    assert response.status_code == 404 and "applications[1]" in response.json()["detail"]


# -- bad input ------------------------------------------------------------------------------------------------
BAD_BODIES = [
    ('{"AMT_CREDIT": "lots"}', "AMT_CREDIT"),                  # wrong type
    ('{"AMT_CREDIT": -5}', "AMT_CREDIT"),                      # an amount below zero
    ('{"AMT_INCOME_TOTAL": 1e999}', "AMT_INCOME_TOTAL"),       # infinite
    ('{"EXT_SOURCE_3": NaN}', None),                           # NaN is not JSON
    ('{"NAME_CONTRACT_TYPE": "Mortgage"}', "NAME_CONTRACT_TYPE"),  # unknown category
    ('{"CODE_GENDER": 1}', "CODE_GENDER"),                     # a number for a category
    ('{"CNT_CHILDREN": 1.5}', "CNT_CHILDREN"),                 # a fraction of a whole number
    ('{"FLAG_MOBIL": 2}', "FLAG_MOBIL"),                       # a flag is 0 or 1
    ('{"DAYS_BIRTH": 4000}', "DAYS_BIRTH"),                    # a day offset in the future
    ('{"SK_ID_CURR": "100002"}', "SK_ID_CURR"),                # an id as text
    ('{"UNKNOWN_FIELD": 1}', "UNKNOWN_FIELD"),                 # unknown field
    ('{"AMT_CREDIT": 1000', None),                             # malformed JSON
    ('[1, 2]', None),                                          # not an object
]


@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_bad_input_gets_a_400_naming_the_field_and_no_traceback(client, body, field):
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    no_traceback(response)
    if field:
        assert field in response.json()["detail"]


def test_a_bad_field_inside_a_batch_is_named_with_its_position(client):
    response = client.post("/predict/batch", json={"applications": [{}, {"AMT_CREDIT": "x"}]})
    assert response.status_code == 400 and "AMT_CREDIT" in response.json()["detail"]


def test_an_oversized_body_is_refused(service, tmp_path):
    with keyed(create_app(settings(tmp_path, max_body_bytes=2_000), service=service)) as small:
        response = small.post("/predict", content=json.dumps({"AMT_CREDIT": 1.0, "pad": "x" * 5_000}),
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    no_traceback(response)


def test_an_unknown_client_is_a_404(client):
    assert client.post("/predict", json={"SK_ID_CURR": 1}).status_code == 404
    for path in ("/clients/1", "/clients/1/score", "/clients/1/explanation", "/clients/1/similar"):
        response = client.get(path, headers=KEY)
        assert response.status_code == 404 and "SK_ID_CURR=1" in response.json()["detail"], path


def test_ranges_come_from_the_schema_and_admit_every_real_value():
    columns = {c.name: c for c in table("application_train").columns}
    assert bounds(columns["FLAG_MOBIL"]) == (0, 1)
    low, high = bounds(columns["AMT_CREDIT"])
    assert low == 0 and high > columns["AMT_CREDIT"].quantiles[-1]
    assert bounds(columns["DAYS_BIRTH"])[1] == 0
    assert bounds(columns["EXT_SOURCE_2"])[1] < 2  # a normalized score keeps a tight range
    # extremes of the full Kaggle files, beyond the ~13,000 measured rows, are real clients: admitted
    real_maxima = {"AMT_INCOME_TOTAL": 117_000_000, "OBS_30_CNT_SOCIAL_CIRCLE": 348, "AMT_REQ_CREDIT_BUREAU_QRT": 261,
                   "CNT_CHILDREN": 19, "AMT_REQ_CREDIT_BUREAU_DAY": 9}
    for name, real_maximum in real_maxima.items():
        assert bounds(columns[name])[1] >= real_maximum, name
    assert set(Application.__struct_fields__) == {c.name for c in table("application_test").columns}


def test_the_real_kaggle_sample_rows_are_all_valid_requests(client, sample_dir):
    rows = pd.read_csv(sample_dir / "application_test.csv").head(50)
    applications = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in r.items() if k != "SK_ID_CURR"} for r in rows.to_dict("records")]
    response = client.post("/predict/batch", content=json.dumps({"applications": applications}, default=int),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text[:500]


# -- client data ----------------------------------------------------------------------------------------------
PERSONAL = ["/clients", "/clients/{id}", "/clients/{id}/score", "/clients/{id}/explanation", "/clients/{id}/similar",
            "/population?feature=AGE_YEARS", "/population/points?x=AGE_YEARS&y=AMT_CREDIT"]


@pytest.mark.parametrize("path", PERSONAL)
def test_client_data_needs_credentials(client, known, path):
    path = path.format(id=known[0])
    assert client.get(path, headers={"X-API-Key": ""}).status_code == 401
    assert client.get(path, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get(path, headers=KEY).status_code == 200


def test_without_a_bootstrap_key_its_value_opens_nothing(service, tmp_path, known):
    with keyed(create_app(settings(tmp_path, api_key=None), service=service)) as keyless:
        response = keyless.get(f"/clients/{known[0]}", headers=KEY)
        assert response.status_code == 401 and "X-API-Key" in response.json()["detail"]
        assert keyless.post("/predict", json={}).status_code == 401
        assert keyless.get("/health").status_code == 200


def test_filters_narrow_the_client_list(client):
    everyone = client.get("/clients", headers=KEY).json()
    group = client.get("/clients", headers=KEY, params={"contract_type": "Cash loans", "gender": "F", "age_min": 30,
                                                        "age_max": 50, "decision": "accordé", "limit": 200}).json()
    assert 0 < group["total"] < everyone["total"]
    for c in group["clients"]:
        assert c["contract_type"] == "Prêt personnel" and c["gender"] == "Femme" and 30 <= c["age_years"] <= 50
        assert c["decision"] == "accordé"
    ids = [c["sk_id_curr"] for c in group["clients"]]
    assert ids == sorted(ids) and len(ids) == min(200, group["total"])
    page = client.get("/clients", headers=KEY, params={"limit": 3, "offset": 2}).json()["clients"]
    assert [c["sk_id_curr"] for c in page] == [c["sk_id_curr"] for c in everyone["clients"][2:5]]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"gender": "X"}, {"age_min": -1},
                                    {"decision": "maybe"}])
def test_bad_filters_are_400(client, params):
    response = client.get("/clients", headers=KEY, params=params)
    assert response.status_code == 400
    no_traceback(response)


def test_a_band_upside_down_is_an_empty_group(client):
    """A valid question (the OpenAPI contract cannot tie two parameters) whose answer is no client."""
    answer = client.get("/clients", headers=KEY, params={"age_min": 50, "age_max": 30})
    assert answer.status_code == 200 and answer.json() == {"total": 0, "clients": []}


def test_the_client_sheet_is_readable_french(client, known):
    sheet = client.get(f"/clients/{known[0]}", headers=KEY).json()
    assert [s["title"] for s in sheet["sections"]] == ["Identité et famille", "Revenus et crédit demandé", "Emploi",
                                                      "Logement", "Historique de crédit"]
    fields = {f["name"]: f for s in sheet["sections"] for f in s["fields"]}
    assert fields["AGE_YEARS"]["display"].endswith("ans")
    assert fields["AMT_CREDIT"]["display"].endswith("€")
    assert fields["NAME_CONTRACT_TYPE"]["display"] in ("Prêt personnel", "Crédit renouvelable")
    assert fields["CODE_GENDER"]["display"] in ("Homme", "Femme", "non précisé")
    codes = {"Cash loans", "Revolving loans", "Working", "Married", "XNA"}
    assert not codes & {f["display"] for f in fields.values()}
    assert set(sheet["values"]) == {f["name"] for f in client.get("/features").json()}


def test_the_client_score_is_the_predict_score(client, known):
    score = client.get(f"/clients/{known[1]}/score", headers=KEY).json()
    predicted = client.post("/predict", json={"SK_ID_CURR": known[1]}).json()
    assert score["probability"] == pytest.approx(predicted["probability"], abs=1e-12)


def test_the_explanation_adds_up_and_gives_reasons_in_french(client, service, known):
    for client_id in known:
        body = client.get(f"/clients/{client_id}/explanation", headers=KEY, params={"top": 30}).json()
        assert body["probability"] == pytest.approx(float(service.table.loc[client_id, "PROBABILITY"]), abs=1e-6)
        sizes = [abs(c["contribution"]) for c in body["contributions"]]
        assert sizes == sorted(sizes, reverse=True) and len(sizes) == 30
        for reason in body["reasons"]:
            assert reason["direction"] == ("hausse" if reason["contribution"] > 0 else "baisse")
            assert reason["text"].endswith("risque.")
    assert any(r["direction"] == "hausse" for r in body["reasons"])


def test_similar_clients_are_the_nearest_others(client, known):
    body = client.get(f"/clients/{known[0]}/similar", headers=KEY, params={"k": 15}).json()
    distances = [n["distance"] for n in body["neighbors"]]
    assert len(distances) == 15 and distances == sorted(distances)
    assert known[0] not in {n["sk_id_curr"] for n in body["neighbors"]}
    assert "EXT_SOURCE_3" in body["features"]


def test_population_statistics_for_all_a_group_and_listed_clients(client, known):
    everyone = client.get("/population", headers=KEY, params={"feature": "AMT_CREDIT", "bins": 20}).json()
    assert sum(everyone["histogram"]["counts"]) == everyone["n"] - everyone["n_missing"]
    assert len(everyone["histogram"]["edges"]) == 21
    q = everyone["quantiles"]
    assert q["p10"] <= q["p25"] <= q["p50"] <= q["p75"] <= q["p90"]
    group = client.get("/population", headers=KEY, params={"feature": "AMT_CREDIT", "gender": "M"}).json()
    assert 0 < group["n"] < everyone["n"]
    listed = client.get("/population", headers=KEY,
                        params={"feature": "PROBABILITY", "ids": ",".join(map(str, known))}).json()
    assert listed["n"] == len(known) and 0 <= listed["share_refused"] <= 1
    categories = client.get("/population", headers=KEY, params={"feature": "NAME_CONTRACT_TYPE"}).json()
    assert sum(c["count"] for c in categories["categories"]) == everyone["n"] - categories["n_missing"]


@pytest.mark.parametrize("params", [{"feature": "SK_ID_CURR"}, {"feature": "TARGET"}, {"feature": "AGE_YEARS",
                                                                                        "ids": "1,x"}])
def test_population_refuses_unknown_features_and_bad_ids(client, params):
    response = client.get("/population", headers=KEY, params=params)
    assert response.status_code == 400
    assert ("feature" if "x" not in params.get("ids", "") else "ids") in response.json()["detail"]


def test_points_sample_two_features(client):
    body = client.get("/population/points", headers=KEY, params={"x": "AGE_YEARS", "y": "PROBABILITY", "n": 100}).json()
    assert len(body["points"]) == 100 and body["x_label"] == "Âge du client"
    assert {p["decision"] for p in body["points"]} <= {"accordé", "refusé"}
    category = client.get("/population/points", headers=KEY, params={"x": "CODE_GENDER", "y": "AGE_YEARS"})
    assert category.status_code == 400


# -- protections ----------------------------------------------------------------------------------------------
def test_rate_limit_answers_429_beyond_the_limit(service, tmp_path):
    with keyed(create_app(settings(tmp_path, rate_limit=("minute", 3)), service=service)) as limited:
        codes = [limited.get("/health").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_rate_limit_setting_is_checked():
    assert parse_rate_limit("20/minute") == ("minute", 20)
    for bad in ("20", "x/second", "0/second", "5/week"):
        with pytest.raises(ValueError, match="RATE_LIMIT"):
            parse_rate_limit(bad)


@pytest.mark.parametrize(("variables", "message"), [
    ({"TOKEN_SECRET": "short"}, "TOKEN_SECRET must hold at least 32"),
    ({"TOKEN_MINUTES": "soon"}, "TOKEN_MINUTES must be a number"),
    ({"TOKEN_MINUTES": "2000"}, "TOKEN_MINUTES must be a number of minutes"),
    ({"LOGIN_MAX_FAILURES": "0"}, "LOGIN_MAX_FAILURES must be positive"),
])
def test_the_sign_in_settings_are_checked(monkeypatch, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env()


def test_several_workers_need_a_token_secret(monkeypatch):
    from app.api.server import main

    monkeypatch.setenv("WORKERS", "2")
    monkeypatch.delenv("TOKEN_SECRET", raising=False)
    with pytest.raises(SystemExit, match="TOKEN_SECRET is required with several WORKERS"):
        main()
    monkeypatch.setenv("LOGIN_LOCK_SECONDS", "60")
    assert Settings.from_env().login.lock_seconds == 60


def test_cors_is_limited_to_configured_origins(service, tmp_path):
    allowed = "https://dashboard.example"
    with keyed(create_app(settings(tmp_path, cors_origins=[allowed]), service=service)) as api:
        ok = api.get("/health", headers={"Origin": allowed})
        other = api.get("/health", headers={"Origin": "https://evil.example"})
    assert ok.headers.get("access-control-allow-origin") == allowed
    assert "access-control-allow-origin" not in other.headers


# -- the event store ------------------------------------------------------------------------------------------
def count_predictions(api, known) -> int:
    sent = 0
    for client_id in known:
        assert api.post("/predict", json={"SK_ID_CURR": client_id, "AMT_CREDIT": 300000.0}).status_code == 200
        assert api.get(f"/clients/{client_id}/explanation", headers=KEY).status_code == 200
        sent += 2
    assert api.post("/predict/batch", json={"applications": [{"AMT_CREDIT": 1e5}] * 7}).status_code == 200
    return sent + 7


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_prediction_is_stored_with_its_inputs(service, tmp_path, known, backend, request):
    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'e.db'}"
    engine = create_store(url)
    before = set(read_events(engine)["request_id"])  # the PostgreSQL database is the session's: other tests' events
    with keyed(create_app(settings(tmp_path, events_url=url), service=service)) as api:
        sent = count_predictions(api, known)
    events = read_events(engine)  # the app is shut down: its writer has flushed
    engine.dispose()
    events = events[~events["request_id"].isin(before)]
    assert len(events) == sent and events["request_id"].is_unique
    assert set(events["endpoint"]) == {"predict", "client_explanation", "predict_batch"}
    assert (events["latency_ms"] > 0).all() and events["model_version"].eq(service.bundle.model_version).all()
    assert events["AMT_CREDIT"].notna().all() and "DAYS_BIRTH" in events.columns


@pytest.mark.parametrize("store", ["fails", "hangs"])
def test_a_store_that_does_not_take_the_event_makes_the_prediction_fail_with_503(service, tmp_path, monkeypatch,
                                                                                  store):
    """No decision without its record: a store that refuses (or never answers) turns /predict into a quick 503;
    once it is back, predictions are answered and stored again."""
    with keyed(create_app(settings(tmp_path), service=service)) as api:
        writer = api.app.state.scorer.events
        writer.timeout = 0.5

        def down():
            if store == "hangs":
                time.sleep(3)
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))

        monkeypatch.setattr(writer.engine, "begin", down)
        with ThreadPoolExecutor(1) as pool:  # quick: refused within a few writer timeouts, never after the store
            refused = pool.submit(api.post, "/predict", json={"AMT_CREDIT": 1e5}).result(timeout=2.5)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "aucune décision n'est rendue sans être enregistrée" in refused.json()["detail"]
        time.sleep(3 if store == "hangs" else 0)  # the hung call gives up
        monkeypatch.undo()
        served = api.post("/predict", json={"AMT_CREDIT": 1e5})
        assert served.status_code == 200
    assert read_events(create_store(settings(tmp_path).events_url))["request_id"].tolist() == [
        served.json()["request_id"]]


def test_the_contract_states_what_the_server_enforces(client):
    spec = client.get("/schema/openapi.json").json()
    schemas, paths = spec["components"]["schemas"], spec["paths"]
    for body in ("Application", "BatchRequest", "OutcomeBatch", "OutcomeIn", "ReviewIn"):
        assert schemas[body]["additionalProperties"] is False, body  # unknown fields are refused
    assert schemas["Application"]["properties"]["SK_ID_CURR"]["minimum"] == 0  # a bound of 0 kept
    assert schemas["BatchRequest"]["properties"]["applications"]["maxItems"] == 1000
    clients = {p["name"]: p["schema"] for p in paths["/clients"]["get"]["parameters"]}
    assert clients["age_min"]["minimum"] == 0 and clients["limit"]["maximum"] == 200
    predict = paths["/predict"]["post"]["responses"]
    assert {"200", "400", "404", "413", "429", "503"} <= set(predict)
    assert "Retry-After" in predict["429"]["headers"] and "Retry-After" in predict["503"]["headers"]
    assert {"401", "404", "409", "503"} <= set(paths["/clients/{client_id}/reviews"]["post"]["responses"])
    assert paths["/population"]["get"]["parameters"][0]["schema"]["enum"]  # the comparable features
    answer = client.options("/clients/100002/reviews", headers=KEY)
    assert answer.headers["allow"] == "GET, OPTIONS, POST"


def test_a_whole_number_written_with_a_decimal_point_is_an_integer(client, known):
    """JSON and its schema make no difference between 1 and 1.0."""
    days = {"DAYS_BIRTH": -12000, "DAYS_EMPLOYED": -3000, "DAYS_ID_PUBLISH": -2000}  # integer columns
    answer = client.post("/predict", json={"SK_ID_CURR": float(known[0]), "CNT_CHILDREN": 1.0,
                                           **{k: float(v) for k, v in days.items()}})
    assert answer.status_code == 200, answer.text
    as_integers = client.post("/predict", json={"SK_ID_CURR": known[0], "CNT_CHILDREN": 1, **days}).json()
    assert answer.json()["sk_id_curr"] == known[0] and isinstance(answer.json()["sk_id_curr"], int)
    assert answer.json()["probability"] == as_integers["probability"]  # scored as the integers, not as missing
    moved = client.post("/predict", json={"SK_ID_CURR": known[0], "CNT_CHILDREN": 1, "DAYS_BIRTH": -20000,
                                          "DAYS_EMPLOYED": -300, "DAYS_ID_PUBLISH": -200}).json()
    assert moved["probability"] != as_integers["probability"]  # the values are read: the comparison means something
    assert client.post("/predict", json={"SK_ID_CURR": known[0], "CNT_CHILDREN": 1.5}).status_code == 400


def test_points_of_one_feature_against_itself(client):
    body = client.get("/population/points", headers=KEY, params={"x": "AGE_YEARS", "y": "AGE_YEARS", "n": 50}).json()
    assert len(body["points"]) == 50 and all(p["x"] == p["y"] for p in body["points"])
