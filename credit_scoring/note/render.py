"""The methodological note (French) rendered to PDF from ``note_methodologique/note.qmd`` (the note stage).

`credit_scoring.note` writes the values and tables the note quotes, then:

- with Quarto when ``quarto`` is on PATH (``quarto render note.qmd --to typst``; the values reach the text
  through ``{{< meta v.… >}}`` shortcodes and the note's ``metadata-files``, the tables through
  ``{{< include … >}}``);
- otherwise with the same source: this module expands those two shortcodes itself, converts the markdown to
  Typst with pandoc (pypandoc-binary; ``crossref.lua`` turns ``@fig-…``/``@tbl-…`` and Quarto's figure
  layouts into Typst) and compiles it with the ``typst`` package, fonts embedded in it only.

Both ways lay the page out with ``note_methodologique/template.typ``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from credit_scoring.common.paths import NOTE
from credit_scoring.note.inputs import write_note_inputs
from credit_scoring.note.vocabulary import GENERATED, VALUES_FILE

SOURCE = "note.qmd"
PDF = "note.pdf"
SHORTCODE = re.compile(r"\{\{<\s*(meta|include)\s+([^\s>]+)\s*>\}\}")


def lookup(values: dict, key: str):
    node = values
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"note.qmd quotes {{{{< meta {key} >}}}} but {GENERATED}/{VALUES_FILE} has no such value")
        node = node[part]
    return node


def expand_shortcodes(text: str, metadata: dict, base: Path) -> str:
    """What Quarto does with ``{{< meta key >}}`` and ``{{< include file >}}``, for rendering without Quarto."""

    def replace(match: re.Match) -> str:
        kind, arg = match.groups()
        if kind == "meta":
            return str(lookup(metadata, arg))
        path = base / arg
        if not path.exists():
            raise FileNotFoundError(f"note.qmd includes {arg}, which does not exist in {base}")
        return expand_shortcodes(path.read_text(), metadata, path.parent)

    return SHORTCODE.sub(replace, text)


def render_with_pandoc(note_dir: Path, pdf: Path, root: Path) -> None:
    """Quarto's render without Quarto: shortcodes, pandoc to Typst, Typst to PDF (embedded fonts only)."""
    import pypandoc
    import typst

    values = yaml.safe_load((note_dir / GENERATED / VALUES_FILE).read_text())
    markdown = expand_shortcodes((note_dir / SOURCE).read_text(), values, note_dir)
    source = pypandoc.convert_text(
        markdown, "typst", format="markdown", outputfile=None,
        extra_args=["--standalone", "--variable=template=template.typ",
                    f"--lua-filter={note_dir / 'crossref.lua'}", "--wrap=none",
                    # pipe tables wider than --columns get fixed relative widths from their dashes, which
                    # wrap short headers and names; wider than any line, Typst sizes each column to its content
                    "--columns=100000"],
    )
    typ = note_dir / "note.typ"  # beside note.qmd, as Quarto's, so relative paths read the same
    typ.write_text(source)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    typst.compile(str(typ), output=str(pdf), root=str(root), ignore_system_fonts=True, timestamp=0)


def render_with_quarto(quarto: str, root: Path, pdf: Path) -> None:
    """``quarto render`` in the project at ``root`` (its typst output lands beside note.qmd)."""
    subprocess.run([quarto, "render", str(NOTE / SOURCE), "--to", "typst"], cwd=root, check=True)
    produced = root / NOTE / PDF
    if produced.resolve() != pdf.resolve():
        pdf.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(produced, pdf)


def build(root: Path = Path("."), pdf: Path | None = None, use_quarto: bool | None = None) -> Path:
    """Write the note's values and tables from ``root/reports`` and render ``root/note_methodologique``."""
    note_dir = root / NOTE
    pdf = pdf or note_dir / PDF
    write_note_inputs(root)
    quarto = shutil.which("quarto")
    if use_quarto is None:
        use_quarto = quarto is not None
    if use_quarto:
        if quarto is None:
            raise FileNotFoundError("quarto is not on PATH: render without --quarto (pandoc and typst)")
        render_with_quarto(quarto, root, pdf)
    else:
        render_with_pandoc(note_dir, pdf, root)
    return pdf
