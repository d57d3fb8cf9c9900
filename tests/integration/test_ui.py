"""The dashboard as a relationship manager uses it: the real page (`python -m app.ui`) in headless Chromium,
talking to the real API (`python -m app.api`) over loopback, on the session's tiny trained project.

Screenshots of each step go to test-artifacts/ui/; an axe-core audit checks the WCAG 2.0/2.1 A and AA rules on
every tab; the page is checked at 200 % zoom. Needs a Chromium: CHROMIUM_PATH, Debian's `chromium` (apt-get install
-y chromium) or the one Playwright manages (`playwright install chromium`); without one the tests are skipped
with that reason, and fail under REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from app.filters import Filters
from app.ui.api_client import REVIEW_FIELDS, ApiError, ScoringApi, SignedOut, _failure_sentence, signed_in_as
from app.ui.charts import percent
from app.ui.content import TITLE, recourse_html, review_outcome, review_time, reviews_html
from credit_scoring.production import accounts
from credit_scoring.production.events import create_store
from tests.conftest import PASSWORD, free_port, missing, signed_in, start_service, stop_service

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TABS = ["Score et raisons", "Données du client", "Comparer", "Et si… ?"]
WAIT = 30_000  # ms: the first answers of a freshly started page and API


def find_chromium(playwright_managed: str | None) -> str | None:
    """The browser a user has: CHROMIUM_PATH, else Debian's chromium (on PATH or at its usual place), else the
    Chromium that Playwright downloaded; None when there is none."""
    import os

    named = os.environ.get("CHROMIUM_PATH")
    if named:
        return named if os.access(named, os.X_OK) else None
    for candidate in (shutil.which("chromium"), DEBIAN_CHROMIUM, playwright_managed):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def start_page(api_url: str, logs: Path, name: str, **env) -> tuple[str, object]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = start_service("app.ui", {"API_URL": api_url, "PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
                                       **env}, url, logs / f"{name}.log")
    return url, process


@pytest.fixture(scope="module")
def page_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ui")


@pytest.fixture(scope="module")
def page_url(api_service, page_logs):
    url, process = start_page(api_service.url, page_logs, "ui")
    yield url
    stop_service(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        executable = find_chromium(playwright.chromium.executable_path)
        if executable is None:
            missing("no Chromium for the browser tests: set CHROMIUM_PATH, or `apt-get install -y chromium`, or "
                    "`playwright install chromium`", "REQUIRE_BROWSER")
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def api(api_service) -> ScoringApi:
    """The page's API client, signed in as a reviewer (who may read everything the page shows)."""
    with httpx.Client(base_url=api_service.url) as http:
        token = signed_in(http, "r.revue")["Authorization"].removeprefix("Bearer ")
    with signed_in_as(token):
        yield ScoringApi(api_service.url)


def sign_in(page, name: str, password: str = PASSWORD) -> None:
    page.get_by_label("Identifiant", exact=True).fill(name)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()


def open_page(browser, url: str, user: str = "a.conseil", **context):
    """The page in a new browser context, `user` signed in (one of tests.conftest.PEOPLE)."""
    page = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "fr-FR", **context}).new_page()
    page.set_default_timeout(WAIT)
    page.goto(url)
    sign_in(page, user)
    page.get_by_text("Modèle en service").wait_for()
    page.locator("#signed-in-as").get_by_text(user).wait_for()
    return page


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Gradio dropdown by its visible words, as a user does."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def show_client(page, client_id: int) -> None:
    page.get_by_label("Identifiant du client (SK_ID_CURR)").fill(str(client_id))
    page.get_by_role("button", name="Afficher ce client").click()
    page.locator("#client-title").get_by_text(f"Le client {client_id}").wait_for()
    page.locator(".decision").wait_for()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.get_by_role("tab", name=name, selected=True).wait_for()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def prepare_letter(page) -> None:
    """Ask for the client's letter: the download button appears once the page holds the PDF."""
    page.get_by_role("button", name="Préparer la lettre au client (PDF)").click()
    page.get_by_role("button", name="Télécharger la lettre au client (PDF)").wait_for()


def audit_score_tab(page) -> dict:
    """axe-core's WCAG A and AA violations on the page as shown: rule -> first nodes at fault."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return {v["id"]: [n["target"] for n in v["nodes"]][:3] for v in result.response["violations"]}


def test_a_relationship_manager_finds_a_refused_client_and_reads_why(page_url, browser, api):
    page = open_page(browser, page_url)  # an advisor: no review form
    assert page.title() == TITLE and page.evaluate("document.documentElement.lang") == "fr"
    threshold = api.model()["threshold"]
    assert percent(threshold) in page.locator("#model-info").inner_text()

    choose(page, "Décision", "✖ Refusé")
    page.get_by_role("button", name="Rechercher les clients").click()
    page.get_by_text(re.compile(r"clients correspondent")).wait_for()
    page.locator("#results [role=row]", has_text="refusé").first.wait_for()
    rows = page.locator("#results [role=row]").all_inner_texts()[1:]  # the first is the header
    assert rows and all("refusé" in text and "accordé" not in text for text in rows), rows
    shot(page, "01_search")

    page.get_by_label("Choisir un client de la liste", exact=True).click()
    page.get_by_role("option").first.click()
    page.locator(".decision").wait_for()
    client_id = int(re.search(r"Le client (\d+)", page.locator("#client-title").inner_text()).group(1))
    score = api.explanation(client_id)
    assert score["decision"] == "refusé"
    assert "✖" in page.locator(".decision").inner_text() and "Crédit refusé" in page.locator(".decision").inner_text()
    sentence = page.locator("#score-sentence").inner_text()
    assert f"est de {percent(score['probability'])}, au-dessus du seuil de {percent(threshold)}" in sentence
    page.locator("#score-plot .js-plotly-plot").wait_for()
    page.locator("#contrib-plot .js-plotly-plot").wait_for()
    alternatives = page.locator(".alt-text").all_inner_texts()
    assert any(f"le risque estimé de ce client, {percent(score['probability'])}" in t for t in alternatives)
    assert any("Graphique des facteurs" in t for t in alternatives)
    reasons = page.locator("#reasons").inner_text()
    assert all(r["text"] in reasons for r in score["reasons"])
    principal = [r for r in score["reasons"] if r["direction"] == "hausse"]
    assert principal and len({r["family"] for r in principal}) == len(principal)  # one family, one reason
    assert all(r["text"].startswith(r["family_label"] + " — ") for r in principal)
    shown = page.locator("#reasons li").all_inner_texts()[:len(principal)]
    assert [" ".join(t.split()) for t in shown] == [" ".join(r["text"].split()) for r in principal]
    shot(page, "02_score_and_reasons")

    open_tab(page, "Données du client")
    sheet = page.locator("#client-data")
    for section in api.client(client_id)["sections"]:
        assert section["title"] in sheet.inner_text()
    assert re.search(r"\d+\s?ans", sheet.inner_text()) and "€" in sheet.inner_text()
    shot(page, "03_client_data")
    open_tab(page, "Score et raisons")
    assert page.locator("#review-history").is_visible()
    assert not page.get_by_role("button", name="Enregistrer la revue").is_visible()
    assert page.get_by_label("Motif de la revue (obligatoire)").count() == 0 or \
        not page.get_by_label("Motif de la revue (obligatoire)").is_visible()


def test_a_refused_client_s_recourse_letter_and_review_by_a_person(page_url, browser, api, tmp_path):
    """A relationship manager reads what would change a refusal, downloads the client's letter, then records an
    override: refused without a reason (nothing stored), stored with one, shown in the history and by the API."""
    from pypdf import PdfReader

    client_id = api.clients(Filters(decision="refusé"), limit=5)["clients"][-1]["sk_id_curr"]
    expected = [p["text"] for p in api.recourse(client_id)["proposals"]]
    before = len(api.reviews(client_id)["reviews"])
    page = open_page(browser, page_url, user="r.revue")
    show_client(page, client_id)
    assert "Crédit refusé" in page.locator(".decision").inner_text()
    recourse = page.locator("#recourse")
    assert recourse.get_by_role("heading", name="Ce qui changerait la décision").is_visible()
    assert recourse.locator("li").all_inner_texts() == expected
    if not expected:
        assert "Aucun changement du montant ni de la durée" in recourse.inner_text()
        assert "réexaminé par une personne" in recourse.inner_text()

    prepare_letter(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger la lettre au client (PDF)").click()
    assert download.value.suggested_filename == f"lettre-{client_id}.pdf"
    letter = tmp_path / "lettre.pdf"
    download.value.save_as(letter)
    assert letter.read_bytes().startswith(b"%PDF")
    text = " ".join(page_.extract_text() for page_ in PdfReader(letter).pages)
    assert "réexamen" in text and str(client_id) in text

    def letters(sentence: str) -> str:
        """The words' letters: the PDF's lines and spaces are the layout's, its apostrophes typographic."""
        return "".join(sentence.replace("\u2019", "'").split())

    flat = letters(text)
    principal = [r["text"] for r in api.explanation(client_id)["reasons"] if r["direction"] == "hausse"]
    places = [flat.find(letters(reason)) for reason in principal]
    assert principal and -1 not in places and places == sorted(places), (principal, text)

    page.get_by_label("Infirmer la décision du modèle").check()
    page.locator("#review-outcome").get_by_text("Crédit accordé").wait_for()
    page.get_by_role("button", name="Enregistrer la revue").click()
    refusal = page.locator("#review-result [role=alert]")
    refusal.wait_for()
    assert "Revue non enregistrée" in refusal.inner_text() and "motif" in refusal.inner_text()
    assert "Traceback" not in page.content()
    assert len(api.reviews(client_id)["reviews"]) == before

    reason = "Justificatifs de revenus reçus après la demande : le dossier tient."
    page.get_by_label("Motif de la revue (obligatoire)").fill(reason)
    page.get_by_role("button", name="Enregistrer la revue").click()
    page.locator("#review-result [role=status]").get_by_text("Revue enregistrée").wait_for()
    history = page.locator("#review-history table")
    assert f"client {client_id}" in history.locator("caption").inner_text()
    newest = history.locator("tbody tr").first.inner_text()
    assert all(words in newest for words in ("r.revue", "Décision infirmée", "Crédit accordé", reason))
    stored = api.reviews(client_id)["reviews"]
    assert len(stored) == before + 1
    assert (stored[0]["action"], stored[0]["model_decision"], stored[0]["reviewed_decision"]) == (
        "override", "refusé", "accordé")
    assert (stored[0]["reviewer"], stored[0]["reason"]) == ("r.revue", reason)
    assert page.get_by_label("Motif de la revue (obligatoire)").input_value() == ""
    shot(page, "09_recourse_letter_review")
    assert not audit_score_tab(page)


def test_the_page_asks_who_is_there_first_and_forgets_them_at_sign_out(page_url, browser, api):
    """The sign-in form first (and nothing of a client before it); a wrong password told in French; the signed-in
    person named; sign-out returns to the form. axe: no WCAG A/AA violation on the form."""
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR").new_page()
    page.set_default_timeout(WAIT)
    page.goto(page_url)
    page.get_by_role("button", name="Se connecter").wait_for()
    assert not page.get_by_role("button", name="Rechercher les clients").is_visible()
    assert not page.get_by_label("Identifiant du client (SK_ID_CURR)").is_visible()
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert not result.response["violations"], [v["id"] for v in result.response["violations"]]
    shot(page, "00_login")

    sign_in(page, "a.conseil", "pas le bon mot de passe")
    error = page.locator("#login-message [role=alert]")
    error.get_by_text("Identifiant ou mot de passe incorrect").wait_for()
    assert page.get_by_label("Mot de passe", exact=True).input_value() == ""
    assert not page.get_by_role("button", name="Rechercher les clients").is_visible()
    shot(page, "00_login_refused")

    sign_in(page, "k.risque")  # the risk team has no right to clients' files: refused by the page too
    page.locator("#login-message [role=alert]").get_by_text("ne donne pas accès aux dossiers").wait_for()

    sign_in(page, "a.conseil")
    page.locator("#signed-in-as").get_by_text("a.conseil").wait_for()
    show_client(page, api.clients(Filters())["clients"][0]["sk_id_curr"])
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("button", name="Se connecter").wait_for()
    page.locator("#login-message").get_by_text("Vous êtes déconnecté").wait_for()
    assert not page.get_by_role("button", name="Rechercher les clients").is_visible()
    assert not page.locator(".decision").is_visible()
    sign_in(page, "a.conseil")  # signed in again: the client shown before was forgotten
    page.locator("#signed-in-as").get_by_text("a.conseil").wait_for()
    assert "Aucun client choisi" in page.locator("#client-title").inner_text()


def test_an_ended_session_returns_to_the_form_with_a_french_message(page_url, browser, api, api_service):
    """The API refuses the person's token (here: the account disabled, refused within the accounts' cache time):
    the page's next call returns to the sign-in form, saying why in French."""
    from app.api.security import ACCOUNT_CACHE_SECONDS

    engine = create_store(api_service.events_url)
    if accounts.find_user(engine, "e.expire") is None:
        accounts.add_user(engine, "e.expire", "advisor", PASSWORD)
    accounts.set_enabled(engine, "e.expire", True)
    page = open_page(browser, page_url, user="e.expire")
    accounts.set_enabled(engine, "e.expire", False)
    page.wait_for_timeout(int(1000 * (ACCOUNT_CACHE_SECONDS + 1)))
    page.get_by_role("button", name="Rechercher les clients").click()
    page.locator("#login-message [role=alert]").get_by_text("reconnectez-vous").wait_for()
    assert page.get_by_role("button", name="Se connecter").is_visible()
    assert not page.get_by_role("button", name="Rechercher les clients").is_visible()
    shot(page, "00_session_ended")
    engine.dispose()


def test_a_granted_client_s_margin_is_shown(page_url, browser, api):
    client_id = api.clients(Filters(decision="accordé"), limit=1)["clients"][0]["sk_id_curr"]
    expected = [p["text"] for p in api.recourse(client_id)["proposals"]]
    page = open_page(browser, page_url, user="r.revue")
    show_client(page, client_id)
    recourse = page.locator("#recourse")
    assert recourse.get_by_role("heading", name="Marge du client").is_visible()
    assert recourse.locator("li").all_inner_texts() == expected
    assert "Décision retenue après la revue\u00a0: ✔ Crédit accordé" in page.locator("#review-outcome").inner_text()


def test_the_client_is_compared_with_all_clients_then_with_similar_ones(page_url, browser, api):
    client_id = api.clients(Filters())["clients"][0]["sk_id_curr"]
    page = open_page(browser, page_url)
    show_client(page, client_id)
    open_tab(page, "Comparer")
    page.locator("#dist-plot .js-plotly-plot").wait_for()
    page.locator("#scatter-plot .js-plotly-plot").wait_for()
    texts = " ".join(page.locator(".alt-text").all_inner_texts())
    assert "parmi l'ensemble des clients" in texts and "Ce client" in texts
    assert page.locator("#scatter-plot .js-plotly-plot text", has_text="ce client").count() >= 1
    shot(page, "04_compare_all")

    page.get_by_label("Les 100 clients les plus semblables à ce client").check()
    page.get_by_text(re.compile(r"parmi les \d+ clients les plus semblables")).first.wait_for()
    choose(page, "Information à comparer (répartition)", "Âge du client")
    page.get_by_text(re.compile(r"répartition de « Âge du client » parmi les \d+ clients les plus semblables"))\
        .wait_for()
    shot(page, "05_compare_similar_age")


def test_a_what_if_gives_the_api_s_new_score(page_url, browser, api):
    client = api.clients(Filters())["clients"][1]
    page = open_page(browser, page_url)
    show_client(page, client["sk_id_curr"])
    open_tab(page, "Et si… ?")
    income = page.locator("#whatif-amt_income_total input")
    assert float(income.input_value()) == pytest.approx(client["income"], abs=1)
    new_income = round(client["income"] * 3)
    income.fill(str(new_income))
    page.get_by_role("button", name="Recalculer le score").click()
    result = page.locator("#whatif-result")
    result.get_by_text("le risque estimé").wait_for()
    expected = api.predict({"SK_ID_CURR": client["sk_id_curr"], "AMT_INCOME_TOTAL": float(new_income)})
    assert percent(expected["probability"]) in result.inner_text()
    assert expected["decision"] in result.inner_text()
    page.locator("#whatif-plot .js-plotly-plot").wait_for()
    shot(page, "06_what_if")

    income.fill("-5")
    page.get_by_role("button", name="Recalculer le score").click()
    message = page.locator("#message [role=alert]")
    message.wait_for()
    assert "Valeur refusée" in message.inner_text() or "AMT_INCOME_TOTAL" in message.inner_text()


def test_every_tab_passes_the_axe_wcag_a_and_aa_rules(page_url, browser, api):
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(browser, page_url)
    axe = Axe()
    found = {}

    def audit(where: str) -> None:
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        for violation in result.response["violations"]:
            found[f"{where}: {violation['id']}"] = [n["target"] for n in violation["nodes"]][:3]

    audit("page vide")
    show_client(page, api.clients(Filters())["clients"][2]["sk_id_curr"])
    prepare_letter(page)
    for tab in TABS:
        open_tab(page, tab)
        page.wait_for_timeout(500)
        audit(tab)
    assert not found, found


def test_at_200_percent_zoom_every_control_stays_visible(page_url, browser, api):
    """200 % zoom of a 1280 px window is a 640 CSS px wide page drawn at twice the pixels: the layout must reflow,
    with no control cut off on the side and no horizontal scrolling."""
    page = open_page(browser, page_url, viewport={"width": 640, "height": 450}, device_scale_factor=2)
    show_client(page, api.clients(Filters())["clients"][3]["sk_id_curr"])
    prepare_letter(page)
    for number, tab in enumerate(TABS):
        open_tab(page, tab)
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 641, tab
        controls = page.locator("main button:visible, main input:visible, main textarea:visible, "
                                "main [role=tab]:visible")
        assert controls.count() > 5
        for control in controls.all():
            if control.evaluate("e => e.closest('.visually-hidden') !== null"):
                continue  # Gradio's copy of the tab bar that measures whether the tabs fit, never shown
            control.scroll_into_view_if_needed()
            box = control.bounding_box()
            assert box and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= 641, (tab, control)
        shot(page, f"07_zoom_200_{number}")


def test_errors_are_french_sentences_in_the_page_never_tracebacks(page_url, browser, api_service, tmp_path):
    page = open_page(browser, page_url)
    page.get_by_label("Identifiant du client (SK_ID_CURR)").fill("1")
    page.get_by_role("button", name="Afficher ce client").click()
    message = page.locator("#message [role=alert]")
    message.get_by_text("introuvable").wait_for()

    down_url, process = start_page(f"http://127.0.0.1:{free_port()}", tmp_path, "ui_down")
    try:
        down = browser.new_page()
        down.set_default_timeout(WAIT)
        down.goto(down_url)
        down.locator("#login-message [role=alert]").get_by_text("injoignable").wait_for()
        sign_in(down, "a.conseil")
        down.locator("#login-message [role=alert]").get_by_text("injoignable").wait_for()
        shot(down, "08_api_down")
        assert "Traceback" not in down.content()
    finally:
        stop_service(process)


def test_the_api_client_words_refusals_and_slowness_for_a_person(api_service, api):
    url = api_service.url
    with signed_in_as("not-a-token"), pytest.raises(SignedOut, match="reconnectez-vous"):
        ScoringApi(url).client(100002)
    with pytest.raises(ApiError, match="n'a pas répondu dans les"):
        ScoringApi(url, timeout=1e-4).population("AMT_CREDIT", Filters())
    with pytest.raises(ApiError, match="introuvable"):
        api.client(1)
    with pytest.raises(ApiError, match="Identifiant ou mot de passe incorrect"):
        api.sign_in("a.conseil", "not the password")
    with signed_in_as(signed_in(httpx.Client(base_url=url), "k.risque")["Authorization"][7:]), \
            pytest.raises(ApiError, match="Votre rôle ne permet pas"):
        ScoringApi(url).client(100002)
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_recourse_and_reviews_are_worded_for_the_relationship_manager():
    proposal = {"text": "Un crédit de 200\u202f000\u202f€ sur la même durée serait accordé."}
    shown = recourse_html({"decision": "refusé", "requested_months": 36, "proposals": [proposal]})
    assert "<h3>Ce qui changerait la décision</h3>" in shown and f"<li>{proposal['text']}</li>" in shown
    assert "réexaminé par une personne" in recourse_html({"decision": "refusé", "requested_months": 36,
                                                          "proposals": []})
    assert "<h3>Marge du client</h3>" in recourse_html({"decision": "accordé", "requested_months": 36,
                                                       "proposals": []})
    assert "manque au dossier" in recourse_html({"decision": "refusé", "requested_months": None, "proposals": []})
    assert "**✔ Crédit accordé**" in review_outcome("refusé", "override")
    assert "**✖ Crédit refusé**" in review_outcome("refusé", "confirm")
    assert review_time("2026-11-30T17:27:06.5Z") == "30/11/2026 à 18:27"  # Paris is UTC+1 in winter
    assert review_time("2026-07-01T08:00:00+00:00") == "01/07/2026 à 10:00"  # and UTC+2 in summer
    review = {"reviewed_at": "2026-11-30T17:27:06Z", "reviewer": "j.dupont", "action": "override",
              "reviewed_decision": "accordé", "reason": "<b>pièces</b> reçues"}
    table = reviews_html(100002, [review])
    assert "<caption>Revues de la décision pour le client 100002" in table and "&lt;b&gt;pièces" in table
    assert "Décision infirmée" in table and "<b>" not in table
    assert "Aucune revue" in reviews_html(100002, [])


@pytest.mark.parametrize("body, expected", [
    ({"detail": "reason: Expected `str` of length >= 3", "extra": [{"key": "reason"}]}, "le motif de la revue"),
    ({"detail": "x", "extra": [{"key": "action"}, {"key": "reason"}]},
     "infirmer la décision ; le motif"),
    ({"detail": "request_id: unknown request_id 'x'"}, "la décision revue est inconnue"),
    ({"detail": "AMT_CREDIT: Expected `float`"}, "Valeur refusée par le service de score : AMT_CREDIT"),
])
def test_a_refused_review_is_told_by_the_field_at_fault(body, expected):
    status = 404 if body["detail"].startswith("request_id") else 400
    sentence = _failure_sentence(httpx.Response(status, json=body), REVIEW_FIELDS).replace("\u00a0", " ")
    assert expected in sentence and "Expected" not in sentence.replace("AMT_CREDIT: Expected", "")
