"""Figure 3 (PAPER.md §5.3): the same as figure 2 for the attention-only network (AO),
whose temporal components come from the positional encoding instead of recurrence.
(a) encoder and decoder temporal trajectories μ_t; (b) softmax(μ^D·μ^E) beside the mean
attention Ā; (c) V(χ^E + Δ^E) clustered by word with the readout directions; (d) the nine
score terms' shares per decoder step (F1–F3, F5)."""

from __future__ import annotations

from . import Figure, panels, style
from .style import plt

FIGURE = Figure(
    models=lambda task, arch: task.name == "one_to_one" and arch.name == "ao",
    caption="one_to_one with AO: as figure 2, temporal components from the positional encoding",
)


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    [(task, arch)] = FIGURE.pairs()
    model = style.load_models(analysis, [(task, arch)]).get(style.key(task, arch))
    fig = plt.figure(figsize=(15, 8.2))
    panels.one_task_mechanism(fig, model, missing=f"{style.pair_label(task, arch, ' / ')} not in this config")
    fig.suptitle("Figure 3 — one-to-one, AO (attention only): temporal components from positional encoding "
                 "align (F1); input components line up with the readout (F2, F3)", fontsize=10)
    style.save(fig, pdf, png)
