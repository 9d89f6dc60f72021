"""Figure 2 (docs/science.md §5.2): how the encoder-decoder with attention (AED) solves
one-to-one translation. (a) the encoder's and decoder's temporal trajectories μ_t, made by
the recurrence; (b) attention built from those alone, softmax(μ^D·μ^E), beside the mean
attention Ā; (c) the input components through the value matrix cluster by word along the
readout directions of their translations (F2, F3); (d) the nine score terms' shares at the
attended position: temporal (μ·μ) dominates (F1, F4)."""

from __future__ import annotations

from . import Figure, panels

FIGURE = Figure(
    models=lambda task, arch: task.name == "one_to_one" and arch.name == "aed",
    seed_tables=("term_shares",),
    caption="one_to_one with AED: temporal trajectories, temporal-only vs mean attention, readout alignment, term shares",
)


TITLE = (
    "Figure 2 — one-to-one, AED (recurrent encoder-decoder with attention): temporal components align (F1); "
    "input components line up with the readout (F2, F3)"
)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    panels.render_mechanism(FIGURE, analysis, tables, TITLE, pdf, png)
