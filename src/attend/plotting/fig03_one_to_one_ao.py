"""Figure 3. What it shows is declared in ``FIGURE`` below, from which the report's caption
and docs/science.md §5 are made. Drawn by :func:`panels.render_mechanism` (shared with
figure 2) under ``TITLE``."""

from __future__ import annotations

from . import Figure, models_named, panels

FIGURE = Figure(
    models=models_named(("one_to_one", "ao")),
    seed_tables=("term_shares",),
    title="one_to_one, AO",
    paper="Fig. 3",
    findings=("F1", "F2", "F3", "F5"),
    caption="one_to_one, AO: as figure 2, the temporal components from the positional encoding instead of recurrence",
    description="As figure 2 for the attention-only network (AO), whose temporal components come from the "
    "positional encoding instead of recurrence (F5). (a) The encoder's and decoder's temporal trajectories μ_t in "
    "PCA space. (b) Attention built from the temporal components alone, softmax(q(μ^D_t)·k(μ^E_s)), beside the "
    "mean attention Ā (F1). (c) V(χ^E + Δ^E) clustered by word with the readout directions of the translations "
    "(F2, F3). (d) The share of each of the nine score terms at the attended position per decoder step, the mean "
    "over seeds. Panels a–c draw one seed's model.",
)


TITLE = (
    "Figure 3 — one-to-one, AO (attention only): temporal components from positional encoding align (F1); "
    "input components line up with the readout (F2, F3)"
)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    panels.render_mechanism(FIGURE, analysis, tables, TITLE, pdf, png)
