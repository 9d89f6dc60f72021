"""What each figure shows, in the words of its declaration (:class:`attend.plotting.Figure`),
so that it is written once:

* :func:`report_caption`: the caption of its PNG in the Snakemake report
  (reStructuredText). Every figure rule passes it as its ``caption`` param and names the
  one template ``workflow/report/figure.rst``, which renders that param;
* :func:`figure_list`: docs/science.md §5's table of figures, kept between :data:`BEGIN`
  and :data:`END`. ``python -m attend.plotting.captions`` rewrites it there; a test checks
  that it is current.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ..artifacts import write_text
from . import Figure, figures

BEGIN = "<!-- figures: generated from the FIGURE declarations by `python -m attend.plotting.captions`; do not edit -->"
END = "<!-- /figures -->"
NAME = re.compile(r"fig(\d+)_[a-z0-9_]+")


def number(name: str) -> int:
    """A figure's number, from its module's name ``figNN_<slug>``."""
    match = NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"{name!r} is not a figure module's name: name it figNN_<slug>, e.g. fig13_heads")
    return int(match.group(1))


def origin(figure: Figure) -> str:
    """Which figure of the paper it mirrors and which findings it shows, in words."""
    source = f"paper: {figure.paper}" if figure.paper else "not in the paper"
    return source + (f"; findings {', '.join(figure.findings)}" if figure.findings else "")


def report_caption(name: str, figure: Figure | None = None) -> str:
    """The report's caption of figure ``name`` (reStructuredText): its heading, where it
    comes from, its description and the module that draws it."""
    figure = figures()[name] if figure is None else figure
    return (
        f"**Figure {number(name)} — {figure.title}** ({origin(figure)}). {figure.description} "
        f"Drawn by ``attend.plotting.{name}``."
    )


def figure_list(declared: dict[str, Figure] | None = None) -> str:
    """docs/science.md §5's table: one row per figure, its target, the paper's figure it
    mirrors, the findings it shows and its one-line caption (markdown)."""
    declared = figures() if declared is None else declared
    rows = [
        "| figure | target | in the paper | findings | what it shows |",
        "|---|---|---|---|---|",
    ]
    for name, figure in declared.items():
        cells = [
            str(number(name)),
            f"`{name}`",
            figure.paper or "–",
            ", ".join(figure.findings) or "–",
            figure.caption,
        ]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def update(document: Path) -> None:
    """Rewrite the table of figures in ``document`` between the markers."""
    text = document.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{document}: no table of figures ({BEGIN} … {END}) to update")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    write_text(document, f"{head}{BEGIN}\n{figure_list()}\n{END}{tail}")


if __name__ == "__main__":
    if len(sys.argv) > 2:
        raise SystemExit(
            "usage: python -m attend.plotting.captions [docs/science.md]   "
            "(rewrites its table of figures from the declarations)"
        )
    update(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/science.md"))
