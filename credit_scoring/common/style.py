"""One look for every figure: French number format, a colour-blind-safe palette, readable in print.

Colours come from the Okabe-Ito palette (distinguishable with every common colour-vision deficiency); lines
also differ by style and markers so that no information rests on colour alone.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from credit_scoring.common.formatting import french_number, french_percent

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
PALETTE = list(OKABE_ITO.values())


def french_axis(ax, axis: str = "both", decimals: int = 2, percent: bool = False) -> None:
    fmt = FuncFormatter(lambda v, _: french_percent(v, decimals) if percent else french_number(v, decimals))
    if axis in ("x", "both"):
        ax.xaxis.set_major_formatter(fmt)
    if axis in ("y", "both"):
        ax.yaxis.set_major_formatter(fmt)


def new_figure(width: float = 6.4, height: float = 4.2):
    plt.rcParams.update({
        "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
        "axes.prop_cycle": plt.cycler(color=PALETTE), "axes.spines.top": False, "axes.spines.right": False,
        "axes.grid": True, "grid.alpha": 0.3,
    })
    return plt.subplots(figsize=(width, height), dpi=150)


def save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})  # no version stamp: the same run gives the same bytes
    plt.close(fig)
    return path
