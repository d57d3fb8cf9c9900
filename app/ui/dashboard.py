"""The page: its components, laid out section by section, and the handlers that fill them
from the API as the signed-in person (`app.ui.session`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import gradio as gr
import pandas as pd
from gradio.processing_utils import save_bytes_to_cache

from app.ui.api_client import ApiError, ScoringApi
from app.ui.charts import (
    contributions_figure,
    decision_words,
    distribution_figure,
    is_missing,
    percent,
    scatter_figure,
    score_figure,
    score_sentence,
    whatif_figure,
    years,
)
from app.ui.content import (
    AGE_BANDS,
    ALL,
    CONTRACT_TYPES,
    DECISIONS,
    DEFAULT_COMPARE,
    EXPLAIN_TOP,
    GENDERS,
    GROUPS,
    INCOME_BANDS,
    LETTER_CACHE,
    PAGE_SIZE,
    REVIEW_ACTIONS,
    SCATTER_POINTS,
    TABLE_COLUMNS,
    TITLE,
    TRAITS,
    WHATIF_FIELDS,
    alert,
    changed_fields,
    client_sheet_html,
    client_table,
    comparison_group,
    decision_badge,
    model_markdown,
    reasons_markdown,
    recourse_html,
    review_confirmation,
    review_outcome,
    reviews_html,
    search_filters,
    whatif_sentence,
)
from app.ui.session import Gate, worded

log = logging.getLogger("app.ui")


# --------------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------------
NO_CLIENT = "## 2. Le client\nAucun client choisi pour l'instant."
INTRO = ("# Prêt à dépenser — score de crédit d'un client\n"
         "Cette page montre le **risque de défaut de paiement** estimé pour un client, la **décision "
         "proposée**, les **raisons** qui l'expliquent, les **données** du client et leur "
         "**comparaison** avec les autres clients. Elle permet aussi de **simuler** une demande "
         "modifiée. Commencez par choisir un client.")


def row_to_client(table: pd.DataFrame, evt: gr.SelectData):
    return int(table.iloc[evt.index[0]]["Identifiant"])


class Dashboard:
    """The page: its components, laid out section by section (`build`), and the handlers that fill them from the
    API, wired to the controls by `_wire`."""

    def __init__(self, api: ScoringApi) -> None:
        self.api = api
        self.gate = Gate(api)

    def build(self) -> gr.Blocks:
        with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=LETTER_CACHE) as page:
            self.model_state = gr.State(None)   # /model and /features, fetched again if the API was down at load
            self.client_state = gr.State(None)  # the shown client: /clients/{id} and its explanation
            gr.Markdown(INTRO)
            self.gate.login_form()
            with gr.Column(visible=False) as self.main_area:
                self.gate.banner()
                self.model_info = gr.Markdown("", elem_id="model-info")
                self.message = gr.HTML("", elem_id="message")
                self._search_section()
                self.client_title = gr.Markdown(NO_CLIENT, elem_id="client-title")
                with gr.Column(visible=False) as self.client_area, gr.Tabs():
                    self._score_tab()
                    self._data_tab()
                    self._compare_tab()
                    self._whatif_tab()
            self.gate.attach(self.main_area, self.review_area, {
                self.client_state: None, self.client_area: gr.update(visible=False), self.client_title: NO_CLIENT,
                self.message: "", self.results: pd.DataFrame(columns=TABLE_COLUMNS), self.results_summary: "",
                self.pick: gr.update(choices=[], value=None), self.client_id: None})
            self._wire(page)
        return page

    # ---- layout ----------------------------------------------------------------------------------------
    def _search_section(self) -> None:
        gr.Markdown("## 1. Trouver un client")
        with gr.Row():
            self.client_id = gr.Number(None, label="Identifiant du client (SK_ID_CURR)", precision=0,
                                       info="Par exemple 100002", elem_id="client-id", scale=2, min_width=220)
            self.show = gr.Button("Afficher ce client", variant="primary", elem_id="show-client", scale=1,
                                  min_width=180)
        with gr.Accordion("… ou chercher dans la liste des clients avec des filtres", open=True):
            with gr.Row():
                self.filters_in = [
                    gr.Dropdown(CONTRACT_TYPES, value=ALL, label="Type de contrat", min_width=180),
                    gr.Dropdown(GENDERS, value=ALL, label="Sexe", min_width=140),
                    gr.Dropdown([("Tous les âges", ALL)] + [(b[0], b[0]) for b in AGE_BANDS], value=ALL,
                                label="Tranche d'âge", min_width=160),
                    gr.Dropdown([("Tous les revenus", ALL)] + [(b[0], b[0]) for b in INCOME_BANDS], value=ALL,
                                label="Revenu annuel", min_width=200),
                    gr.Dropdown(DECISIONS, value=ALL, label="Décision", min_width=140),
                ]
            with gr.Row():
                self.search = gr.Button("Rechercher les clients", elem_id="search", min_width=180)
                self.previous_page = gr.Button("◀ Clients précédents", min_width=180)
                self.next_page = gr.Button("Clients suivants ▶", min_width=180)
            self.page_offset = gr.State(0)
            self.results_summary = gr.Markdown("")
            self.results = gr.Dataframe(pd.DataFrame(columns=TABLE_COLUMNS),
                                        label="Clients trouvés (cliquez sur une ligne pour afficher le client)",
                                        interactive=False, wrap=True, elem_id="results", max_height=420)
            self.pick = gr.Dropdown([], label="Choisir un client de la liste", elem_id="pick", interactive=True)

    def _score_tab(self) -> None:
        with gr.Tab("Score et raisons", id="score"):
            self.badge = gr.HTML("")
            self.sentence = gr.Markdown("", elem_id="score-sentence")
            self.score_plot = gr.Plot(label="Graphique : risque estimé et seuil de décision", elem_id="score-plot")
            self.score_alt = gr.Markdown("", elem_classes="alt-text")
            self.reasons = gr.Markdown("", elem_id="reasons")
            self.contrib_plot = gr.Plot(label="Graphique : facteurs qui pèsent sur le score", elem_id="contrib-plot")
            self.contrib_alt = gr.Markdown("", elem_classes="alt-text")
            self.recourse = gr.HTML("", elem_id="recourse")
            self._letter_section()
            self._review_section()

    def _letter_section(self) -> None:
        gr.Markdown("### Lettre au client\nLa lettre explique au client la décision, ses principales raisons, ce "
                    "qui la changerait et son droit à un réexamen par une personne. Préparez-la, puis "
                    "téléchargez-la.")
        with gr.Row():
            self.prepare_letter = gr.Button("Préparer la lettre au client (PDF)", elem_id="prepare-letter",
                                            min_width=180)
            self.letter = gr.DownloadButton("Télécharger la lettre au client (PDF)", elem_id="download-letter",
                                            variant="primary", visible=False, min_width=180)
        self.letter_status = gr.HTML("", elem_id="letter-status")

    def _review_section(self) -> None:
        with gr.Column(visible=False) as self.review_area:  # for reviewers only (the API refuses the others)
            self._review_form()
        self.review_history = gr.HTML("", elem_id="review-history")

    def _review_form(self) -> None:
        gr.Markdown("### Revue par une personne\nLe client peut demander qu'une personne réexamine la décision du "
                    "modèle. Confirmez-la ou infirmez-la, en donnant le motif\u00a0: la revue est enregistrée "
                    "à votre nom (votre identifiant de connexion) et ne peut plus être modifiée.")
        self.review_action = gr.Radio(REVIEW_ACTIONS, value="confirm", label="Votre décision sur ce dossier",
                                      elem_id="review-action")
        self.review_outcome = gr.Markdown("", elem_id="review-outcome")
        self.review_reason = gr.Textbox(label="Motif de la revue (obligatoire)", lines=3, max_lines=10,
                                        info="De 3 à 2\u202f000 caractères (au moins trois qui ne sont pas des "
                                             "espaces), par exemple les éléments nouveaux du dossier.",
                                        elem_id="review-reason")
        self.submit_review = gr.Button("Enregistrer la revue", variant="primary", elem_id="submit-review",
                                       min_width=180)
        self.review_result = gr.HTML("", elem_id="review-result")

    def _data_tab(self) -> None:
        with gr.Tab("Données du client", id="data"):
            self.data = gr.HTML("", elem_id="client-data")

    def _compare_tab(self) -> None:
        with gr.Tab("Comparer", id="compare"):
            gr.Markdown("Situez ce client parmi un groupe de clients, sur les informations de votre choix : "
                        "les graphiques se mettent à jour dès qu'un choix change. Ce client est marqué d'une "
                        "**étoile** et de la mention « ce client ».")
            self.group = gr.Radio(GROUPS, value="all", label="Comparer ce client à")
            self.traits = gr.CheckboxGroup(TRAITS, value=["contract_type", "age"],
                                           label="Caractéristiques partagées (pour le dernier choix ci-dessus)")
            with gr.Row():
                self.feature_pickers = [
                    gr.Dropdown([], label="Information à comparer (répartition)", elem_id="feature", min_width=220),
                    gr.Dropdown([], label="Nuage de points : axe horizontal", elem_id="x-feature", min_width=220),
                    gr.Dropdown([], label="Nuage de points : axe vertical", elem_id="y-feature", min_width=220),
                ]
            dist_plot = gr.Plot(label="Graphique : répartition dans le groupe", elem_id="dist-plot")
            dist_alt = gr.Markdown("", elem_classes="alt-text")
            scatter_plot = gr.Plot(label="Graphique : nuage de points de deux informations", elem_id="scatter-plot")
            scatter_alt = gr.Markdown("", elem_classes="alt-text")
            self.compare_outputs = [dist_plot, dist_alt, scatter_plot, scatter_alt]

    def _whatif_tab(self) -> None:
        with gr.Tab("Et si… ?", id="whatif"):
            gr.Markdown("**Simulation** : modifiez une ou plusieurs valeurs de la demande puis recalculez le "
                        "score. Les autres informations du client restent celles de son dossier. Rien n'est "
                        "enregistré.")
            with gr.Row():
                self.whatif_inputs = [gr.Number(label=label, precision=0, elem_id=f"whatif-{name.lower()}",
                                                min_width=200) for name, label in WHATIF_FIELDS]
            with gr.Row():
                self.simulate = gr.Button("Recalculer le score", variant="primary", elem_id="simulate",
                                          min_width=180)
                self.reset = gr.Button("Revenir aux valeurs du dossier", min_width=180)
            self.whatif_result = gr.Markdown("", elem_id="whatif-result")
            self.whatif_plot = gr.Plot(label="Graphique : score actuel et score simulé", elem_id="whatif-plot",
                                       visible=False)
            self.whatif_alt = gr.Markdown("", elem_classes="alt-text")

    # ---- handlers --------------------------------------------------------------------------------------
    def ensure_model(self, state: dict | None) -> dict:
        if state:
            return state
        model, features = self.api.model(), self.api.features()
        return {"model": model, "features": {f["name"]: f for f in features}}

    @staticmethod
    def picker_updates(state: dict, current: list) -> list:
        features = state["features"].values()
        every = [(f["label"], f["name"]) for f in features]
        numbers = [(f["label"], f["name"]) for f in features if f["kind"] == "number"]
        updates = []
        for picker_choices, value, default in zip((every, numbers, numbers), current, DEFAULT_COMPARE):
            names = [name for _, name in picker_choices]
            chosen = value if value in names else default if default in names else names[0] if names else None
            updates.append(gr.update(choices=picker_choices, value=chosen))
        return updates

    def on_load(self):
        try:
            state = self.ensure_model(None)
        except ApiError as e:
            return {self.message: alert(str(e)), self.gate.login_message: alert(str(e)), self.model_info: "",
                    self.model_state: None}
        return {self.model_state: state, self.model_info: model_markdown(state["model"]), self.message: "",
                **dict(zip(self.feature_pickers, self.picker_updates(state, [None] * 3)))}

    def list_clients(self, contract_, gender_, age_, income_, decision_, offset):
        filters = search_filters(contract_, gender_, age_, income_, decision_)
        answer = self.api.clients(filters, limit=PAGE_SIZE, offset=offset)
        found = answer["clients"]
        total = answer["total"]
        if not found:
            summary = "Aucun client ne correspond à ces filtres." if total == 0 else "Plus aucun client à afficher."
        else:
            summary = (f"**{total:,}** clients correspondent ; clients {offset + 1} à {offset + len(found)} "
                       "affichés, par identifiant.").replace(",", "\u202f")
        choices = [(f"{c['sk_id_curr']} — {decision_words(c['decision'])}, risque {percent(c['probability'])}, "
                    f"{c['gender'].lower()}, {years(c['age_years'])}" if not is_missing(c["age_years"])
                    else f"{c['sk_id_curr']} — {decision_words(c['decision'])}", c["sk_id_curr"]) for c in found]
        return {self.results: client_table(found), self.results_summary: summary, self.page_offset: offset,
                self.message: "", self.pick: gr.update(choices=choices, value=None)}

    def show_client_details(self, requested, state, group_, traits_, *pickers):
        if requested is None or (isinstance(requested, float) and math.isnan(requested)):
            return {self.message: alert("Saisissez l'identifiant d'un client (un nombre, par exemple 100002), ou "
                                        "choisissez-en un dans la liste.")}
        client_key = int(requested)
        state = self.ensure_model(state)
        client = self.api.client(client_key)
        explanation = self.api.explanation(client_key, EXPLAIN_TOP)
        recourse, rights = self._rights_outputs(client_key, explanation["decision"])
        shown = {"client": client, "explanation": explanation, "recourse": recourse}
        out = {
            self.message: "", self.client_state: shown, self.client_id: client_key, self.model_state: state,
            self.model_info: model_markdown(state["model"]), self.client_title: f"## 2. Le client {client_key}",
            **self._score_outputs(explanation, state["model"].get("cost")), **rights,
            self.data: client_sheet_html(client),
            self.whatif_result: "", self.whatif_plot: gr.update(value=None, visible=False), self.whatif_alt: "",
            self.client_area: gr.update(visible=True),
            **{box: client["values"].get(name) for box, (name, _) in zip(self.whatif_inputs, WHATIF_FIELDS)},
        }
        updates = self.picker_updates(state, list(pickers))
        out.update(zip(self.feature_pickers, updates))
        chosen = [u["value"] for u in updates]
        out.update(zip(self.compare_outputs, self.comparison(shown, state, group_, traits_, *chosen)))
        return out

    def _score_outputs(self, explanation: dict, cost: dict | None) -> dict:
        """The score tab of an explanation: badge, sentence, gauge, reasons and contributions."""
        probability, threshold = explanation["probability"], explanation["threshold"]
        verdict = explanation["decision"]
        fig, alt = score_figure(probability, threshold, verdict)
        contrib_fig, contrib_text = contributions_figure(explanation["contributions"])
        return {self.badge: decision_badge(verdict), self.sentence: score_sentence(probability, threshold, verdict,
                                                                                    cost),
                self.score_plot: fig, self.score_alt: alt, self.reasons: reasons_markdown(explanation),
                self.contrib_plot: contrib_fig, self.contrib_alt: contrib_text}

    def _rights_outputs(self, client_id: int, decision: str) -> tuple[dict | None, dict]:
        """The client's recourse answer (None if the API refused it) and the rights sections of the score tab:
        what would change the decision, the letter (to prepare), the review form reset and the reviews."""
        try:
            recourse = self.api.recourse(client_id)
            recourse_view = recourse_html(recourse)
        except ApiError as e:
            recourse, recourse_view = None, "<h3>Ce qui changerait la décision</h3>" + alert(str(e))
        return recourse, {
            self.recourse: recourse_view, self.letter: gr.update(value=None, visible=False), self.letter_status: "",
            self.review_action: "confirm", self.review_outcome: review_outcome(decision, "confirm"),
            self.review_reason: "", self.review_result: "", self.review_history: self._history(client_id),
        }

    def _history(self, client_id: int) -> str:
        try:
            return reviews_html(client_id, self.api.reviews(client_id)["reviews"])
        except ApiError as e:
            return alert(str(e))

    def make_letter(self, shown):
        """The client's letter from the API, written to Gradio's cache (cleaned by `LETTER_CACHE`) as
        lettre-<id>.pdf, and offered by the download button."""
        if not shown:
            return {self.message: alert("Choisissez d'abord un client, puis préparez sa lettre.")}
        client_id = shown["client"]["sk_id_curr"]
        try:
            pdf = self.api.letter(client_id)
        except ApiError as e:
            return {self.message: "", self.letter: gr.update(value=None, visible=False),
                    self.letter_status: alert(f"Lettre non préparée. {e}")}
        path = save_bytes_to_cache(pdf, f"lettre-{client_id}.pdf", self.letter.GRADIO_CACHE)
        ready = (f'<p role="status">La lettre au client {client_id} est prête\u00a0: cliquez sur '
                 "«\u00a0Télécharger la lettre au client (PDF)\u00a0».</p>")
        return {self.message: "", self.letter: gr.update(value=path, visible=True), self.letter_status: ready}

    def record_review(self, shown, action, reason):
        """Send the review to the API: a confirmation and the history refreshed, or the refusal in words."""
        if not shown:
            return {self.message: alert("Choisissez d'abord un client, puis enregistrez votre revue.")}
        client_id = shown["client"]["sk_id_curr"]
        request_id = (shown.get("recourse") or {}).get("request_id")
        try:
            review = self.api.add_review(client_id, action, reason or "", request_id)
        except ApiError as e:
            return {self.message: "", self.review_result: alert(f"Revue non enregistrée. {e}")}
        return {self.message: "", self.review_result: review_confirmation(review), self.review_reason: "",
                self.review_history: self._history(client_id)}

    @staticmethod
    def outcome_of(shown, action):
        return review_outcome(shown["explanation"]["decision"], action) if shown else ""

    def comparison(self, shown, state, group_, traits_, feature_, x_, y_):
        client, explanation = shown["client"], shown["explanation"]
        filters, group_words = comparison_group(self.api, client, explanation["decision"], group_, traits_)
        features = state["features"]
        values = client["values"]
        population = self.api.population(feature_, filters, bins=12 if filters.ids else 30)
        threshold = explanation["threshold"] if feature_ == "PROBABILITY" else None
        dist_fig, dist_text = distribution_figure(population, values.get(feature_), group_words, threshold)
        points = self.api.points(x_, y_, filters, n=SCATTER_POINTS)
        scatter_fig, scatter_text = scatter_figure(points, values.get(x_), values.get(y_),
                                                   (features[x_].get("unit"), features[y_].get("unit")), group_words)
        return dist_fig, dist_text, scatter_fig, scatter_text

    def update_comparison(self, shown, state, group_, traits_, feature_, x_, y_):
        if not shown:
            return {self.message: alert("Choisissez d'abord un client, puis comparez-le.")}
        state = self.ensure_model(state)
        return {self.message: "", self.model_state: state,
                **dict(zip(self.compare_outputs, self.comparison(shown, state, group_, traits_, feature_, x_, y_)))}

    def simulate_score(self, shown, *amounts):
        if not shown:
            return {self.message: alert("Choisissez d'abord un client, puis modifiez ses valeurs.")}
        client, explanation = shown["client"], shown["explanation"]
        changed = changed_fields(client["values"], amounts)
        answer = self.api.predict({"SK_ID_CURR": client["sk_id_curr"], **changed})
        fig, alt = whatif_figure(explanation["probability"], answer["probability"], answer["threshold"])
        return {self.message: "", self.whatif_result: whatif_sentence(explanation, answer, changed),
                self.whatif_plot: gr.update(value=fig, visible=True), self.whatif_alt: alt}

    @staticmethod
    def reset_amounts(shown):
        if not shown:
            return [None] * len(WHATIF_FIELDS)
        return [shown["client"]["values"].get(name) for name, _ in WHATIF_FIELDS]

    # ---- wiring ----------------------------------------------------------------------------------------
    def _wire(self, page: gr.Blocks) -> None:
        message, pickers, gate = self.message, self.feature_pickers, self.gate
        everything = [message, self.model_info, self.model_state, self.client_state, self.client_id,
                      self.client_title, self.client_area, self.badge, self.sentence, self.score_plot,
                      self.score_alt, self.reasons, self.contrib_plot, self.contrib_alt, self.data,
                      self.whatif_result, self.whatif_plot, self.whatif_alt, *self.whatif_inputs, *pickers,
                      *self.compare_outputs, self.recourse, self.letter, self.letter_status, self.review_action,
                      self.review_outcome, self.review_reason, self.review_result, self.review_history]
        signed_out = [*gate.outputs, *gate.cleared]  # what an ended session changes, beside each handler's own

        def guarded(handler: Callable, outputs: list) -> dict:
            """An event's handler run as the signed-in person, and its outputs with the sign-in form's."""
            return {"fn": gate.safe(handler, message), "outputs": list(dict.fromkeys([*outputs, *signed_out]))}

        page.load(public(self.on_load, message),
                  outputs=[message, gate.login_message, self.model_info, self.model_state, *pickers])
        page.unload(gate.forget)
        signing_in = [*gate.outputs, gate.who, gate.review_area]
        gate.sign_in_button.click(gate.sign_in, inputs=[gate.name, gate.password], outputs=signing_in)
        gate.password.submit(gate.sign_in, inputs=[gate.name, gate.password], outputs=signing_in)
        gate.sign_out_button.click(gate.sign_out, outputs=signed_out)
        listing = [self.results, self.results_summary, self.page_offset, message, self.pick]
        paged = [*self.filters_in, self.page_offset]
        self.search.click(**guarded(lambda *a: self.list_clients(*a, 0), listing), inputs=self.filters_in)
        self.next_page.click(**guarded(lambda *a: self.list_clients(*a[:-1], a[-1] + PAGE_SIZE), listing),
                             inputs=paged)
        self.previous_page.click(**guarded(lambda *a: self.list_clients(*a[:-1], max(0, a[-1] - PAGE_SIZE)),
                                           listing), inputs=paged)
        choices = [self.group, self.traits, *pickers]
        show_inputs = [self.client_id, self.model_state, *choices]
        showing = guarded(self.show_client_details, everything)
        self.show.click(**showing, inputs=show_inputs)
        self.client_id.submit(**showing, inputs=show_inputs)
        self.pick.input(**showing, inputs=[self.pick, self.model_state, *choices])
        self.results.select(row_to_client, inputs=self.results, outputs=self.client_id).then(
            **showing, inputs=show_inputs)
        for control in choices:
            control.input(**guarded(self.update_comparison, [message, self.model_state, *self.compare_outputs]),
                          inputs=[self.client_state, self.model_state, *choices])
        self.simulate.click(**guarded(self.simulate_score, [message, self.whatif_result, self.whatif_plot,
                                                            self.whatif_alt]),
                            inputs=[self.client_state, *self.whatif_inputs])
        self.reset.click(self.reset_amounts, inputs=self.client_state, outputs=self.whatif_inputs)
        self.prepare_letter.click(**guarded(self.make_letter, [message, self.letter, self.letter_status]),
                                  inputs=self.client_state)
        self.review_action.change(self.outcome_of, inputs=[self.client_state, self.review_action],
                                  outputs=self.review_outcome)
        self.submit_review.click(**guarded(self.record_review, [message, self.review_result, self.review_reason,
                                                                self.review_history]),
                                 inputs=[self.client_state, self.review_action, self.review_reason])


def build_page(api: ScoringApi) -> gr.Blocks:
    return Dashboard(api).build()


def public(handler: Callable, message: gr.HTML) -> Callable:
    """A handler that needs no one signed in (the served model's public description): an API failure, or any
    unexpected error, becomes a French message in the page."""

    def run(*args):
        return worded(handler, message, *args)

    return run


def theme() -> gr.themes.Base:
    """Gradio's default look with darker greys, so that every text passes 4.5:1 (WCAG 1.4.3)."""
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate").set(
        body_text_color_subdued="#374151", block_info_text_color="#374151", block_label_text_color="#1F2937",
        button_primary_background_fill="#1D4ED8", button_primary_text_color="#FFFFFF",
        button_primary_background_fill_hover="#1E40AF", input_placeholder_color="#4B5563", color_accent="#1D4ED8")
