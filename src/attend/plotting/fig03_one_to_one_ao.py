"""Figure 3 (docs/science.md §5.3): the same as figure 2 for the attention-only network (AO),
whose temporal components come from the positional encoding instead of recurrence.
(a) encoder and decoder temporal trajectories μ_t; (b) softmax(μ^D·μ^E) beside the mean
attention Ā; (c) V(χ^E + Δ^E) clustered by word with the readout directions; (d) the nine
score terms' shares per decoder step (F1–F3, F5)."""

from __future__ import annotations

from . import Figure, panels

FIGURE = Figure(
    models=lambda task, arch: task.name == "one_to_one" and arch.name == "ao",
    seed_tables=("term_shares",),
    caption="one_to_one with AO: as figure 2, temporal components from the positional encoding",
)


TITLE = (
    "Figure 3 — one-to-one, AO (attention only): temporal components from positional encoding align (F1); "
    "input components line up with the readout (F2, F3)"
)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    panels.render_mechanism(FIGURE, analysis, tables, TITLE, pdf, png)
