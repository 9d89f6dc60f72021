"""Figure 3 (PAPER.md §5.3): the same as figure 2 for the attention-only network (AO),
whose temporal components come from the positional encoding instead of recurrence.
(a) encoder and decoder temporal trajectories μ_t; (b) softmax(μ^D·μ^E) beside the mean
attention Ā; (c) V(χ^E + Δ^E) clustered by word with the readout directions; (d) the nine
score terms' shares per decoder step (F1–F3, F5)."""

from __future__ import annotations

from . import panels, style
from .style import plt

KEY = "one_to_one/ao"


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str) -> None:
    model = style.Model(KEY, analysis[KEY]) if KEY in analysis else None
    fig = plt.figure(figsize=(15, 8.2))
    panels.one_task_mechanism(fig, model, missing="one_to_one / AO not in this config")
    fig.suptitle("Figure 3 — one-to-one, AO (attention only): temporal components from positional encoding "
                 "align (F1); input components line up with the readout (F2, F3)", fontsize=10)
    style.save(fig, pdf, png)
