"""Figure 9 (the architectures of docs/science.md §3). What it shows is declared in
``FIGURE`` below, from which the report's caption and docs/science.md §5 are made. Drawn
from scratch, from no data: each architecture's diagram is its own drawing code below; the
title shows the config's ``model.units``."""

from __future__ import annotations

import itertools

from matplotlib.patches import FancyBboxPatch

from ..architectures import ARCHITECTURES, Architecture
from . import Figure, style
from .style import plt

FIGURE = Figure(
    settings=("model.units",),
    title="the three architectures",
    paper="appendix",
    caption="the architectures VED, AED and AO as block diagrams",
    description="VED, AED and AO as block diagrams, drawn from scratch (no data), with the hidden size n this run "
    "uses (the config's ``model.units``) in the title. VED: a GRU encoder, and a GRU decoder started from the "
    "encoder's state at </s>; readout W_out h^D_t. AED: VED plus single-head attention from each decoder state over "
    "the encoder states (Q, K, V, softmax, context c_t); readout W_out [h^D_t ; c_t]; the context does not feed back "
    "into the recurrence. AO: no recurrence; each state is a position-wise feed-forward map of the one-hot token "
    "plus the positional encoding; readout W_out c_t. Every readout is linear without bias.",
)
# The diagrams draw the one-layer models of this module of attend.models, from their
# declarations: recurrent or not, attending or not, and what the readout reads.
DRAWN_MODEL = "seq2seq"
READS = {"state": r"$h^D_t$", "state_and_context": r"$[h^D_t\,;\,c_t]$", "context": r"$c_t$"}
READ_WIDTH = {"state": "n", "state_and_context": "2n", "context": "n"}

ENC_X = [0.9, 2.35, 3.8]  # encoder positions s = 1, 2, S
DEC_X = [6.1, 7.55, 9.0]  # decoder steps t = 1, 2, 3
CELL_Y, CELL_W, CELL_H = 2.3, 1.1, 0.8
PE_Y = 1.2
IN_Y = 0.3
BUS_Y = 3.45
BLOCK = (0.25, 3.85, 5.0, 7.6)  # attention block: x0, y0, x1, y1
OUT_Y, OUT_W, OUT_H = 8.75, 1.05, 0.7
ENC_FC, ENC_EC = "#deebf7", "#2171b5"
DEC_FC, DEC_EC = "#fee6ce", "#d94801"
ATT_FC, ATT_EC = "#f2f0f7", "#6a51a3"
OUT_FC, OUT_EC = "#e5f5e0", "#238b45"
PE_FC, PE_EC = "#fff7bc", "#b8860b"
FS = 9


def _box(ax, xc, yc, w, h, text, fc, ec, fs=FS, lw=1.0, **kw):
    ax.add_patch(
        FancyBboxPatch(
            (xc - w / 2, yc - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", fc=fc, ec=ec, lw=lw, zorder=3
        )
    )
    if text:
        ax.text(xc, yc, text, ha="center", va="center", fontsize=fs, zorder=4, **kw)


def _arrow(ax, points, color="k", lw=1.0, ls="-"):
    """A polyline through ``points`` with an arrowhead at its end."""
    xs, ys = zip(*points)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, ls=ls, zorder=2, solid_capstyle="butt")
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={
            "arrowstyle": "-|>",
            "color": color,
            "lw": lw,
            "ls": ls,
            "mutation_scale": 9,
            "shrinkA": 0,
            "shrinkB": 0,
        },
        zorder=2,
    )


def _subtitle(spec: Architecture) -> str:
    if not spec.recurrent:
        return "attention only (no recurrence)"
    return "encoder-decoder with attention" if spec.attention else "vanilla encoder-decoder"


def _cells(ax, spec: Architecture) -> None:
    """Encoder and decoder unrolled: inputs, (positional encoding), cells, recurrence."""
    recurrent = spec.recurrent
    name = "GRU" if recurrent else "FF\ntanh"
    enc_in = [r"$x_1$", r"$x_2$", r"$x_S$=</s>"]
    dec_in = ["<s>", r"$y_1$", r"$y_2$"]
    for side, xs, inputs, fc, ec, _sub in (
        ("E", ENC_X, enc_in, ENC_FC, ENC_EC, "s"),
        ("D", DEC_X, dec_in, DEC_FC, DEC_EC, "t"),
    ):
        for k, (x, word) in enumerate(zip(xs, inputs)):
            _box(ax, x, CELL_Y, CELL_W, CELL_H, name, fc, ec, fs=FS if recurrent else FS - 1)
            ax.text(x, IN_Y, word, ha="center", va="center", fontsize=FS)
            if recurrent:
                _arrow(ax, [(x, IN_Y + 0.25), (x, CELL_Y - CELL_H / 2)])
            else:
                index = ["1", "2", "S"][k] if side == "E" else str(k + 1)
                _box(ax, x, PE_Y, 0.95, 0.42, f"+PE$_{{{index}}}$", PE_FC, PE_EC, fs=FS - 1)
                _arrow(ax, [(x, IN_Y + 0.25), (x, PE_Y - 0.21)])
                _arrow(ax, [(x, PE_Y + 0.21), (x, CELL_Y - CELL_H / 2)])
        if recurrent:
            for a, b in itertools.pairwise(xs):
                _arrow(ax, [(a + CELL_W / 2, CELL_Y), (b - CELL_W / 2, CELL_Y)], color=ec, lw=1.3)
    if recurrent:
        # h^E_0 = 0 and the decoder's initial state h^D_0 = h^E_S (the state at </s>)
        ax.text(ENC_X[0] - CELL_W / 2 - 0.05, CELL_Y + 0.22, "0", ha="right", va="bottom", fontsize=FS - 1)
        _arrow(ax, [(ENC_X[0] - CELL_W / 2 - 0.35, CELL_Y), (ENC_X[0] - CELL_W / 2, CELL_Y)], color=ENC_EC, lw=1.3)
        _arrow(ax, [(ENC_X[-1] + CELL_W / 2, CELL_Y), (DEC_X[0] - CELL_W / 2, CELL_Y)], color=ENC_EC, lw=1.6)
        ax.text(
            (ENC_X[-1] + DEC_X[0]) / 2,
            CELL_Y + 0.12,
            r"$h^D_0\!=\!h^E_S$",
            ha="center",
            va="bottom",
            fontsize=FS - 1,
            color=ENC_EC,
        )
    for xs, name, what, colour in (
        (ENC_X, "encoder", "input words (one-hot)", ENC_EC),
        (DEC_X, "decoder", "input: previous target word", DEC_EC),
    ):
        ax.text(sum(xs) / 3, IN_Y - 0.5, name, ha="center", va="center", fontsize=FS, color=colour, fontweight="bold")
        ax.text(sum(xs) / 3, IN_Y - 0.9, what, ha="center", va="center", fontsize=FS - 1.5, color=colour)


def _attention(ax) -> None:
    """Q, K, V, softmax and the context c_t, drawn for decoder step t = 1."""
    x0, y0, x1, y1 = BLOCK
    ax.add_patch(
        FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0.02,rounding_size=0.2",
            fc=ATT_FC,
            ec=ATT_EC,
            lw=1.2,
            zorder=1,
        )
    )
    ax.text(
        x0 + 0.12, y1 - 0.12, "attention (one head)", ha="left", va="top", fontsize=FS, color=ATT_EC, fontweight="bold"
    )
    ax.text(
        x0 + 0.12,
        y1 - 0.45,
        "no biases; drawn for t = 1 (same for all t)",
        ha="left",
        va="top",
        fontsize=FS - 2,
        color="0.3",
        style="italic",
    )
    # encoder states h^E_s -> bus -> K and V
    for _k, x in enumerate(ENC_X):
        ax.plot([x, x], [CELL_Y + CELL_H / 2, BUS_Y], color=ENC_EC, lw=1.0, zorder=2)
    ax.plot([ENC_X[0], ENC_X[-1]], [BUS_Y, BUS_Y], color=ENC_EC, lw=1.0, zorder=2)
    ax.text(
        ENC_X[0] + 0.08,
        (CELL_Y + CELL_H / 2 + BUS_Y) / 2,
        r"$h^E_s$",
        ha="left",
        va="center",
        fontsize=FS - 1,
        color=ENC_EC,
    )
    v_x, k_x, row1 = 1.05, 3.15, 4.45
    _box(ax, v_x, row1, 1.3, 0.55, r"$v_s = V h^E_s$", "white", ATT_EC, fs=FS - 1)
    _box(ax, k_x, row1, 1.3, 0.55, r"$k_s = K h^E_s$", "white", ATT_EC, fs=FS - 1)
    for x in (v_x, k_x):
        _arrow(ax, [(x, BUS_Y), (x, row1 - 0.275)], color=ENC_EC)
    # decoder state h^D_1 -> q_t
    q_x, row2 = 4.4, 5.4
    _box(ax, q_x, row2, 1.0, 0.75, "$q_t =$\n" + r"$Q h^D_t$", "white", ATT_EC, fs=FS - 1.5)
    qx_line = DEC_X[0] - 0.35
    _arrow(ax, [(qx_line, CELL_Y + CELL_H / 2), (qx_line, row2), (q_x + 0.5, row2)], color=DEC_EC)
    ax.text(qx_line + 0.06, BUS_Y, r"$h^D_1$", ha="left", va="center", fontsize=FS - 1, color=DEC_EC)
    # softmax over s
    sm_x = 2.4
    _box(
        ax,
        sm_x,
        row2,
        1.9,
        0.75,
        r"$\alpha_{ts} = \mathrm{softmax}_s$" + "\n" + r"$(q_t\cdot k_s/\sqrt{n})$",
        "white",
        ATT_EC,
        fs=FS - 1.5,
    )
    _arrow(ax, [(k_x, row1 + 0.275), (k_x, row2 - 0.375)], color=ATT_EC)
    _arrow(ax, [(q_x - 0.5, row2), (sm_x + 0.95, row2)], color=ATT_EC)
    # context
    c_x, row3 = 2.55, 6.42
    _box(ax, c_x, row3, 2.0, 0.55, r"$c_t = \Sigma_s\, \alpha_{ts} v_s$", "white", ATT_EC, fs=FS - 1)
    _arrow(ax, [(sm_x + 0.3, row2 + 0.375), (sm_x + 0.3, row3 - 0.275)], color=ATT_EC)
    _arrow(ax, [(v_x, row1 + 0.275), (v_x, row3), (c_x - 1.0, row3)], color=ATT_EC)
    # c_1 -> readout of step 1 (enters the box from the left)
    cx_line = 5.2
    _arrow(
        ax, [(c_x + 1.0, row3), (cx_line, row3), (cx_line, OUT_Y), (DEC_X[0] - OUT_W / 2, OUT_Y)], color=ATT_EC, lw=1.3
    )
    ax.text(cx_line + 0.06, 8.05, r"$c_1$", ha="left", va="center", fontsize=FS - 1, color=ATT_EC)


def _readout(ax, spec: Architecture) -> None:
    reads, shape = READS[spec.readout], READ_WIDTH[spec.readout]
    for k, x in enumerate(DEC_X):
        _box(ax, x, OUT_Y, OUT_W, OUT_H, r"$W_{out}$", OUT_FC, OUT_EC)
        _arrow(ax, [(x, OUT_Y + OUT_H / 2), (x, OUT_Y + 0.95)], color=OUT_EC)
        ax.text(x, OUT_Y + 1.15, rf"$\hat y_{k + 1}$", ha="center", va="center", fontsize=FS)
        top = (x + 0.2, CELL_Y + CELL_H / 2)
        if spec.readout != "context":  # h^D_t feeds the readout
            _arrow(ax, [top, (x + 0.2, OUT_Y - OUT_H / 2)], color=DEC_EC, lw=1.2)
            if not spec.attention and k == 0:
                ax.text(x + 0.27, 5.6, r"$h^D_t$", ha="left", va="center", fontsize=FS - 1, color=DEC_EC)
        if spec.attention and k > 0:  # stubs: this step's query and context (attention as for t = 1)
            stub_x = x - 0.3
            _arrow(ax, [(stub_x, CELL_Y + CELL_H / 2), (stub_x, CELL_Y + CELL_H / 2 + 0.55)], color=DEC_EC)
            ax.text(
                stub_x,
                CELL_Y + CELL_H / 2 + 0.7,
                rf"$q_{k + 1}$",
                ha="center",
                va="bottom",
                fontsize=FS - 1,
                color=DEC_EC,
            )
            _arrow(ax, [(stub_x, OUT_Y - OUT_H / 2 - 0.6), (stub_x, OUT_Y - OUT_H / 2)], color=ATT_EC)
            ax.text(
                stub_x, OUT_Y - OUT_H / 2 - 0.68, rf"$c_{k + 1}$", ha="center", va="top", fontsize=FS - 1, color=ATT_EC
            )
    ax.text(
        0.25,
        OUT_Y + 0.45,
        "readout (linear, no bias)",
        ha="left",
        va="center",
        fontsize=FS,
        color=OUT_EC,
        fontweight="bold",
    )
    ax.text(
        0.25,
        OUT_Y - 0.15,
        r"$\hat y_t = \mathrm{softmax}(W_{out}$" + reads + ")\n" + rf"$W_{{out}}$: {shape} × $V_{{out}}$",
        ha="left",
        va="center",
        fontsize=FS - 0.5,
    )


def _panel(ax, spec: Architecture) -> None:
    ax.set_xlim(-0.1, 9.8)
    ax.set_ylim(-1.1, 10.2)
    ax.set_axis_off()
    _cells(ax, spec)
    if not spec.attention:
        x0, y0, x1, y1 = BLOCK
        ax.text(
            (x0 + x1) / 2,
            (y0 + y1) / 2 - 0.2,
            "no attention:\nthe decoder sees the input\nonly through its initial state\n"
            + r"$h^D_0 = h^E_S$, the encoder's state at </s>",
            ha="center",
            va="center",
            fontsize=FS,
            color="0.35",
            style="italic",
        )
    else:
        _attention(ax)
    _readout(ax, spec)
    ax.set_title(
        f"{style.arch_label(spec.name)} — {_subtitle(spec)}",
        fontsize=10,
        fontweight="bold",
        color=style.arch_color(spec.name),
        pad=4,
    )
    if spec.recurrent:
        note = "GRU cells, n units each"
        if spec.attention:
            note += "; Q, K, V: n × n;\n" + r"the context $c_t$ does not feed back"
    else:
        note = "states: the same FF map (n units) of one-hot + rotated\nsinusoidal PE at every position"
        if spec.attention:
            note += "; Q, K, V: n × n"
    ax.text(4.85, -1.55, note, ha="center", va="center", fontsize=FS - 0.5, color="0.25")


def render(analysis: dict[str, str], tables: dict[str, str], pdf: str, png: str, settings: dict) -> None:
    archs = [a for a in style.arch_names() if ARCHITECTURES[a].paper]  # the Transformer: docs/transformer.md
    fig, axes = plt.subplots(1, len(archs), figsize=(14 / 3 * len(archs), 6.2), squeeze=False)
    for ax, arch in zip(axes[0], archs):
        if ARCHITECTURES[arch].model == DRAWN_MODEL:
            _panel(ax, ARCHITECTURES[arch])
        else:
            style.placeholder(ax, f"no diagram drawn for {style.arch_label(arch)}")
    units = settings["model.units"]
    fig.subplots_adjust(left=0.01, right=0.99, top=0.87, bottom=0.08, wspace=0.05)
    fig.suptitle(
        f"Figure 9 — the three architectures (one layer; hidden size n = {units} units, the config's "
        "model.units): recurrent encoder-decoder without (VED) and with attention (AED), and attention only "
        "(AO)",
        fontsize=11,
        y=0.98,
    )
    style.save(fig, pdf, png)
