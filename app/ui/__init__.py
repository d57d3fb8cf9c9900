"""Tableau de bord des chargés de relation client: the Gradio page (French) that explains a credit decision.

Run with `python -m app.ui`. Environment: `API_URL` (the prediction API, default http://127.0.0.1:8000),
`PORT` (default 7860),
`API_TIMEOUT` (seconds before a slow API is reported, default 10), `GRADIO_SERVER_NAME` (0.0.0.0 in a container).

The page speaks to the API only, over HTTP (app/ui/api_client.py): it never loads the model, so it can be deployed
apart and shows a clear French message, never a traceback, when the API is down, slow or refuses a request. It holds
no key: a French sign-in form comes first (app/ui/session.py), and every call carries the signed-in person's token,
kept on the page's server side, so the page shows no more than that person's role allows.
Accessibility (WCAG 2.1 AA): every chart is followed by a sentence giving its key figures; decisions carry an
icon and words, never colour alone; colours pass 4.5:1; the layout reflows at 200 % zoom; the page is in French
(`lang="fr"`) with a descriptive title.
"""
