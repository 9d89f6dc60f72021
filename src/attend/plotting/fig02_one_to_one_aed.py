"""Figure 2. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. Drawn by :func:`panels.render_mechanism` (shared with
figure 3) under ``TITLE``."""

from __future__ import annotations

from . import Figure, models_named, panels

FIGURE = Figure(
    models=models_named(("one_to_one", "aed")),
    seed_tables=("term_shares",),
    title="one_to_one, AED",
    paper="Fig. 2",
    findings=("F1", "F2", "F3"),
    caption="one_to_one, AED: encoder and decoder temporal trajectories; the temporal-only attention beside Ā; the "
    "input components clustered by word with the readout directions; the nine-term shares per decoder step",
    description="How the recurrent encoder-decoder with attention (AED) solves one-to-one translation. (a) The "
    "encoder's and decoder's temporal trajectories μ_t, made by the recurrence, in PCA space. (b) Attention built "
    "from the temporal components alone, softmax(q(μ^D_t)·k(μ^E_s)), beside the mean attention Ā (F1). (c) The "
    "input components through the value matrix, V(χ^E + Δ^E), cluster by word along the readout directions of "
    "their translations (F2, F3). (d) The share of each of the nine score terms at the attended position per "
    "decoder step, the mean over seeds: the temporal term μ·μ dominates. Panels a–c draw one seed's model.",
)


TITLE = (
    "Figure 2 — one-to-one, AED (recurrent encoder-decoder with attention): temporal components align (F1); "
    "input components line up with the readout (F2, F3)"
)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    panels.render_mechanism(FIGURE, analysis, tables, TITLE, pdf, png)
