"""The dashboard's figures and the French sentence that stands for each of them (WCAG 1.1.1).

Pure functions of the API's JSON answers: every figure comes with a text alternative that gives its key figures,
and nothing is told by colour alone (decisions also differ by marker shape, bar pattern, icon and words; the
client is marked by a star and a label). Numbers are written the French way (12 345,6 €, 14 %).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import plotly.graph_objects as go

from credit_scoring.common.formatting import NARROW_NBSP, french_number, french_percent

NBSP = "\u00a0"
MISSING = "non renseigné"
# Okabe-Ito, dark enough for 3:1 against white (WCAG 1.4.11); text stays near-black.
BLUE, VERMILLION, GREY, INK = "#0072B2", "#B54A00", "#8C8C8C", "#1F2937"
DECISION_STYLE = {  # decision -> (marker symbol, colour, legend words)
    "accordé": ("circle", BLUE, "accordé (rond)"),
    "refusé": ("x", VERMILLION, "refusé (croix)"),
}
ICONS = {"accordé": "✔", "refusé": "✖"}  # shapes in DejaVu Sans, so they show without an emoji font
FONT = dict(family="system-ui, 'DejaVu Sans', sans-serif", size=14, color=INK)


# --------------------------------------------------------------------------------------------------------
# Values in French
# --------------------------------------------------------------------------------------------------------
def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(p: float) -> str:
    """0.084 -> '8,4 %', 0.14 -> '14 %': one decimal where whole per cents would hide the difference."""
    return french_percent(p, 1 if abs(p) < 0.1 else 0)


def euros(x: float) -> str:
    return f"{french_number(x, 0)}{NBSP}€"


def years(x: float) -> str:
    if x >= 10:
        return f"{french_number(math.floor(x), 0)}{NBSP}ans"
    return f"{french_number(x, 1)}{NBSP}an{'s' if x >= 2 else ''}"


UNIT_TEXT = {  # the API's unit of a feature -> how a value in that unit reads
    "amount": euros, "eur": euros, "€": euros,
    "years": years, "age_years": years,
    "share": percent, "probability": percent, "percent": percent,
    "score": lambda x: french_number(x, 2),
    "flag": lambda x: "oui" if x >= 0.5 else "non",
    "count": lambda x: french_number(x, 0),
}


def value_text(value, unit: str | None) -> str:
    """One value in the feature's unit ("34 ans", "202 500 €", "14 %"), or that it is missing."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        return value
    return UNIT_TEXT.get((unit or "").lower(), lambda x: french_number(x, 2))(float(value))


def axis_format(unit: str | None) -> dict:
    """Plotly axis settings that write ticks in the unit (the layout's separators make them French)."""
    unit = (unit or "").lower()
    if unit in ("amount", "eur", "€"):
        return dict(tickformat=",.0f", ticksuffix=f"{NBSP}€")
    if unit in ("years", "age_years"):
        return dict(tickformat=",.0f", ticksuffix=f"{NBSP}ans")
    if unit in ("share", "probability", "percent"):
        return dict(tickformat=",.0%")
    return dict(tickformat=",.2~f")


def _layout(fig: go.Figure, title: str, height: int = 360, **more) -> go.Figure:
    fig.update_layout(title=dict(text=wrap(title, 60), x=0, xanchor="left", font=dict(size=16)), height=height,
                      font=FONT, separators=f",{NARROW_NBSP}", paper_bgcolor="white", plot_bgcolor="white",
                      margin=dict(l=10, r=20, t=60 + 20 * wrap(title, 60).count("<br>"), b=50),
                      hoverlabel=dict(font=dict(size=14)), **more)
    fig.update_xaxes(showline=True, linecolor=INK, gridcolor="#E5E7EB", automargin=True)
    fig.update_yaxes(gridcolor="#E5E7EB", automargin=True)
    return fig


# --------------------------------------------------------------------------------------------------------
# Score against the threshold
# --------------------------------------------------------------------------------------------------------
def decision_words(decision: str) -> str:
    return f"{ICONS.get(decision, '')} Crédit {decision}".strip()


def score_sentence(probability: float, threshold: float, decision: str, cost: dict | None = None) -> str:
    """The score in plain French: the risk, where it stands against the threshold, and why that threshold."""
    side = "au-dessus du" if probability >= threshold else "en dessous du"
    why = ""
    if cost and cost.get("fn") and cost.get("fp"):
        ratio = cost["fn"] / cost["fp"]
        why = (f" fixé pour limiter le coût des erreurs (accorder un crédit qui ne sera pas remboursé coûte "
               f"environ {french_number(ratio, 0)} fois plus que refuser un bon client)")
    per_hundred = round(100 * probability)
    return (f"Le risque estimé de défaut de paiement de ce client est de {percent(probability)}, {side} seuil de "
            f"{percent(threshold)}{why}. Autrement dit, sur 100 clients qui présentent ce profil, environ "
            f"{per_hundred} ne rembourseraient pas leur crédit. Décision proposée : crédit {decision}.")


def score_axis_max(*probabilities: float) -> float:
    """A scale that shows the threshold and the scores clearly: never all of 0-100 % for scores near 8 %."""
    top = max(probabilities) * 1.25
    for step in (0.1, 0.2, 0.25, 0.5, 0.75, 1.0):
        if top <= step:
            return step
    return 1.0


def score_figure(probability: float, threshold: float, decision: str) -> tuple[go.Figure, str]:
    """A bar from 0 to the client's risk, the threshold as a labelled line, both zones named in words."""
    top = score_axis_max(probability, threshold)
    _symbol, colour, _ = DECISION_STYLE.get(decision, ("circle", GREY, decision))
    fig = go.Figure(go.Bar(
        x=[probability], y=["Risque estimé"], orientation="h", marker=dict(color=colour, line=dict(color=INK)),
        text=[f"{percent(probability)} — {decision}"], textposition="outside", width=0.5,
        hovertemplate=f"Risque estimé : {percent(probability)}<extra></extra>"))
    fig.add_vline(x=threshold, line=dict(color=INK, width=3, dash="dash"))
    fig.add_annotation(x=threshold, y=1.02, yref="paper", text=f"Seuil {percent(threshold)}", showarrow=False,
                       yanchor="bottom", font=dict(size=14))
    fig.add_annotation(x=threshold / 2, y=-0.5, text="◀ accordé", showarrow=False, yanchor="top")
    fig.add_annotation(x=(threshold + top) / 2, y=-0.5, text="refusé ▶", showarrow=False, yanchor="top")
    _layout(fig, "Risque estimé de ce client et seuil de décision", height=230, showlegend=False)
    fig.update_xaxes(range=[0, top], title=None, **axis_format("probability"))
    fig.update_yaxes(showticklabels=False, range=[-0.8, 0.6])
    alt = (f"Graphique : le risque estimé de ce client, {percent(probability)}, comparé au seuil de "
           f"{percent(threshold)} ; le risque est {'au-dessus' if probability >= threshold else 'en dessous'} "
           f"du seuil, donc crédit {decision}.")
    return fig, alt


def whatif_figure(before: float, after: float, threshold: float) -> tuple[go.Figure, str]:
    """The current and the simulated risk side by side, against the threshold."""
    top = score_axis_max(before, after, threshold)
    rows = [("Score actuel", before), ("Score simulé", after)]
    decisions = ["refusé" if p >= threshold else "accordé" for _, p in rows]
    fig = go.Figure(go.Bar(
        x=[p for _, p in rows], y=[name for name, _ in rows], orientation="h", width=0.55,
        marker=dict(color=[DECISION_STYLE[d][1] for d in decisions], line=dict(color=INK),
                    pattern=dict(shape=["", "/"], fgcolor="white")),
        text=[f"{percent(p)} — {d}" for (_, p), d in zip(rows, decisions)], textposition="outside",
        hovertemplate="%{y} : %{x:.1%}<extra></extra>"))
    fig.add_vline(x=threshold, line=dict(color=INK, width=3, dash="dash"))
    fig.add_annotation(x=threshold, y=1.02, yref="paper", text=f"Seuil {percent(threshold)}", showarrow=False,
                       yanchor="bottom")
    _layout(fig, "Score actuel et score simulé", height=260, showlegend=False)
    fig.update_xaxes(range=[0, top], **axis_format("probability"))
    fig.update_yaxes(autorange="reversed")
    change = ("ne changerait presque pas" if percent(after) == percent(before)
              else "augmenterait" if after > before else "diminuerait")
    alt = (f"Graphique : score actuel {percent(before)} ({decisions[0]}), score simulé {percent(after)} "
           f"({decisions[1]}), seuil {percent(threshold)} ; avec ces valeurs le risque {change}.")
    return fig, alt


# --------------------------------------------------------------------------------------------------------
# Why: the client's local contributions
# --------------------------------------------------------------------------------------------------------
def wrap(text: str, width: int = 42) -> str:
    """Plotly has no automatic wrapping: break long labels on spaces with <br>."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def contributions_figure(contributions: Sequence[dict]) -> tuple[go.Figure, str]:
    """One bar per factor: rightwards, hatched and marked ▲ when it raises the risk; leftwards and ▼ when it
    lowers it."""
    rows = list(contributions)[::-1]  # largest at the top
    ups = [c["contribution"] > 0 for c in rows]
    names = [wrap(f"{'▲' if up else '▼'} {c['label']} : {c['display']}") for c, up in zip(rows, ups)]
    fig = go.Figure(go.Bar(
        x=[c["contribution"] for c in rows], y=names, orientation="h",
        marker=dict(color=[VERMILLION if up else BLUE for up in ups], line=dict(color=INK),
                    pattern=dict(shape=["/" if up else "" for up in ups], fgcolor="white")),
        customdata=["augmente le risque" if up else "réduit le risque" for up in ups],
        hovertemplate="%{y}<br>%{customdata} (effet %{x:+.2f})<extra></extra>"))
    fig.add_vline(x=0, line=dict(color=INK, width=1))
    span = max((abs(c["contribution"]) for c in rows), default=1.0) * 1.1
    height = 110 + sum(22 * (n.count("<br>") + 1) + 18 for n in names)
    _layout(fig, "Ce qui pèse le plus dans le score de ce client", height=height, showlegend=False)
    fig.update_xaxes(range=[-span, span], zeroline=False, tickformat=",.1f",
                     title="◀ réduit le risque   |   augmente le risque ▶")
    fig.update_yaxes(tickfont=dict(size=13))
    up = [c for c in contributions if c["contribution"] > 0]
    down = [c for c in contributions if c["contribution"] < 0]
    alt = "Graphique des facteurs qui pèsent le plus sur ce score. "
    if up:
        alt += "Augmentent le risque : " + ", ".join(f"{c['label']} ({c['display']})" for c in up[:3]) + ". "
    if down:
        alt += "Réduisent le risque : " + ", ".join(f"{c['label']} ({c['display']})" for c in down[:3]) + "."
    return fig, alt.strip()


# --------------------------------------------------------------------------------------------------------
# Compare: one feature's distribution, two features' scatter
# --------------------------------------------------------------------------------------------------------
def share_below(histogram: dict, value: float) -> float:
    """Share of the group below `value`, read off the histogram (linear within the value's bin)."""
    edges, counts = histogram["edges"], histogram["counts"]
    total = sum(counts)
    if not total:
        return math.nan
    below = 0.0
    for left, right, count in zip(edges[:-1], edges[1:], counts):
        if value >= right:
            below += count
        elif value > left:
            below += count * (value - left) / (right - left)
    return below / total


def distribution_figure(population: dict, client_value, group: str,
                        threshold: float | None = None) -> tuple[go.Figure, str]:
    """The group's distribution of one feature with the client marked by a line, a star and a label (and, for
    the score, the decision threshold as a dotted line)."""
    label, unit = population["label"], population.get("unit")
    if population.get("categories") is not None:
        return _category_figure(population, client_value, group)
    hist = population["histogram"]
    edges, counts = hist["edges"], hist["counts"]
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    widths = [b - a for a, b in itertools.pairwise(edges)]
    ranges = [f"{value_text(a, unit)} à {value_text(b, unit)}" for a, b in itertools.pairwise(edges)]
    fig = go.Figure(go.Bar(x=centres, y=counts, width=widths, customdata=ranges, name=group,
                           marker=dict(color="#9CC3E0", line=dict(color=INK, width=0.5)),
                           hovertemplate="%{customdata} : %{y} clients<extra></extra>"))
    if threshold is not None:
        fig.add_vline(x=threshold, line=dict(color=INK, width=2, dash="dot"))
        fig.add_annotation(x=threshold, y=0.55, yref="paper", text=f"seuil {percent(threshold)} ┆", showarrow=False,
                           xanchor="right", bgcolor="white")
    title = f"{label} : ce client parmi {group}"
    _layout(fig, title, showlegend=False)
    fig.update_xaxes(title=label, **axis_format(unit))
    fig.update_yaxes(title="nombre de clients", tickformat=",d")
    q = population["quantiles"]
    alt = (f"Graphique : répartition de « {label} » parmi {group} ({french_number(population['n'], 0)} clients"
           f"{_missing_part(population)}) : médiane {value_text(q['p50'], unit)}, la moitié des clients entre "
           f"{value_text(q['p25'], unit)} et {value_text(q['p75'], unit)}.")
    if population.get("share_refused") is not None:
        alt += f" {percent(population['share_refused'])} de ces clients seraient refusés."
    if is_missing(client_value):
        return fig, alt + f" Ce client : {MISSING}, il n'apparaît pas sur le graphique."
    top = max(counts, default=0)
    fig.add_vline(x=client_value, line=dict(color=INK, width=3))
    fig.add_trace(go.Scatter(x=[client_value], y=[top * 1.1], mode="markers", name="ce client",
                             marker=dict(symbol="star", size=20, color=INK),
                             hovertemplate=f"ce client : {value_text(client_value, unit)}<extra></extra>"))
    fig.add_annotation(x=client_value, y=top * 1.1, text=f"★ ce client : {value_text(client_value, unit)}",
                       showarrow=False, yshift=22, bgcolor="white", bordercolor=INK)
    fig.update_yaxes(range=[0, top * 1.35 if top else 1])
    below = share_below(hist, client_value)
    alt += f" Ce client : {value_text(client_value, unit)}"
    if not math.isnan(below):
        alt += f", soit plus qu'environ {french_percent(below)} des clients du groupe"
    return fig, alt + "."


def _missing_part(population: dict) -> str:
    missing = population.get("n_missing") or 0
    return f", dont {french_number(missing, 0)} sans valeur renseignée" if missing else ""


def _category_figure(population: dict, client_value, group: str) -> tuple[go.Figure, str]:
    label, categories = population["label"], population["categories"]
    total = sum(c["count"] for c in categories) or 1
    mine = [c["value"] == client_value for c in categories]
    names = [f"{c['label']} ◀ ce client" if m else c["label"] for c, m in zip(categories, mine)]
    fig = go.Figure(go.Bar(
        x=[c["count"] for c in categories], y=names, orientation="h",
        text=[french_percent(c["count"] / total) for c in categories], textposition="outside",
        marker=dict(color=[INK if m else "#9CC3E0" for m in mine], line=dict(color=INK),
                    pattern=dict(shape=["x" if m else "" for m in mine], fgcolor="white")),
        hovertemplate="%{y} : %{x} clients<extra></extra>"))
    _layout(fig, f"{label} : ce client parmi {group}", height=140 + 36 * len(categories), showlegend=False)
    fig.update_xaxes(title="nombre de clients", tickformat=",d")
    fig.update_yaxes(autorange="reversed")
    parts = ", ".join(f"{c['label']} {french_percent(c['count'] / total)}" for c in categories)
    alt = f"Graphique : répartition de « {label} » parmi {group} ({french_number(total, 0)} clients) : {parts}."
    chosen = [c for c, m in zip(categories, mine) if m]
    if chosen:
        alt += (f" Ce client est dans la catégorie « {chosen[0]['label']} », comme "
                f"{french_percent(chosen[0]['count'] / total)} du groupe.")
    return fig, alt


def scatter_figure(points: dict, client_x, client_y, units: tuple[str | None, str | None],
                   group: str) -> tuple[go.Figure, str]:
    """Clients of the group on two features, granted as dots and refused as crosses, the client as a star."""
    xl, yl = points["x_label"], points["y_label"]
    fig = go.Figure()
    counts = {}
    for decision, (symbol, colour, words) in DECISION_STYLE.items():
        rows = [p for p in points["points"] if p["decision"] == decision]
        counts[decision] = len(rows)
        fig.add_trace(go.Scatter(
            x=[p["x"] for p in rows], y=[p["y"] for p in rows], mode="markers", name=words,
            marker=dict(symbol=symbol, color=colour, size=8, opacity=0.75, line=dict(width=1, color=colour)),
            customdata=[p["sk_id_curr"] for p in rows],
            hovertemplate=f"client %{{customdata}}<br>{xl} : %{{x}}<br>{yl} : %{{y}}<extra>{decision}</extra>"))
    n = len(points["points"])
    alt = (f"Graphique : {french_number(n, 0)} clients tirés au hasard parmi {group}, « {xl} » en abscisse et "
           f"« {yl} » en ordonnée ; {french_number(counts['accordé'], 0)} accordés (ronds) et "
           f"{french_number(counts['refusé'], 0)} refusés (croix).")
    if is_missing(client_x) or is_missing(client_y):
        alt += " Une des deux valeurs de ce client n'est pas renseignée : il n'apparaît pas sur le graphique."
    else:
        fig.add_trace(go.Scatter(x=[client_x], y=[client_y], mode="markers", name="ce client (étoile)",
                                 marker=dict(symbol="star", size=24, color=INK, line=dict(color="white", width=1.5)),
                                 hovertemplate=f"ce client<br>{xl} : %{{x}}<br>{yl} : %{{y}}<extra></extra>"))
        fig.add_annotation(x=client_x, y=client_y, text="★ ce client", showarrow=True, arrowhead=2, ax=50, ay=-45,
                           bgcolor="white", bordercolor=INK, arrowcolor=INK)
        alt += (f" Ce client (étoile) : {xl} {value_text(client_x, units[0])}, {yl} "
                f"{value_text(client_y, units[1])}.")
    _layout(fig, f"{xl} et {yl} : ce client parmi {group}", height=440,
            legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    fig.update_xaxes(title=xl, range=_core_range([p["x"] for p in points["points"]], client_x),
                     **axis_format(units[0]))
    fig.update_yaxes(title=yl, range=_core_range([p["y"] for p in points["points"]], client_y),
                     **axis_format(units[1]))
    return fig, alt


def _core_range(values: list[float], client) -> list[float] | None:
    """An axis range over the central 98 % of the points and the client: a few extreme incomes would otherwise
    squeeze everyone else into a corner (the chart's zoom-out button still shows them)."""
    if len(values) < 20:
        return None
    ordered = sorted(values)
    low, high = ordered[len(ordered) // 100], ordered[-1 - len(ordered) // 100]
    if not is_missing(client):
        low, high = min(low, client), max(high, client)
    pad = (high - low) * 0.05 or 1.0
    return [max(low - pad, 0.0) if low >= 0 else low - pad, high + pad]
