"""The architectures of docs/science.md §3 and the forms of attention, declared once (no Keras
here, so the workflow and the figures can read them without starting a backend).
``attend.models`` builds them, each with the model class of the module its declaration
names; the config schema's enums and the figures' labels, colours and diagrams come from here."""

from __future__ import annotations

from dataclasses import dataclass

# What a readout reads at decoder step t (``Architecture.readout``). The rows of the readout
# that read the context are W_c, which the analysis carries every input component through.
READOUTS = {
    "state": "the decoder's state h^D_t",
    "state_and_context": "[h^D_t; c_t]: the decoder's state, then the attention's context",
    "context": "the attention's context c_t alone",
}


@dataclass(frozen=True)
class Architecture:
    name: str
    label: str
    color: str
    attention: bool  # attends over the encoder states (and so has a score breakdown)
    description: str
    # The module of attend.models whose model class builds it (attend.models.build_model).
    model: str
    # Whether its states come from a recurrence, which carries the position; else each
    # position's state is computed from its token plus a positional encoding.
    recurrent: bool
    readout: str  # what its readout reads, one of READOUTS
    # model.* settings this architecture never reads (attend.models.build_model), so a
    # variant that changes only these shares the model of an earlier variant.
    ignores: tuple[str, ...] = ()
    # One of the paper's architectures (docs/science.md §3), whose findings claims.csv checks as
    # the paper states them (scope "paper"); each other attention architecture is asked
    # the same questions in a scope of its own (attend.claims).
    paper: bool = True

    @property
    def model_module(self) -> str:
        """The module that holds its model class, imported by name (attend.models.model_class)
        when a model of it is built or loaded; the workflow's code version of its jobs counts
        this module (workflow/rules/common.smk, run_time_modules)."""
        return f"attend.models.{self.model}"

    def __post_init__(self):
        if self.readout not in READOUTS:
            raise ValueError(
                f"architecture {self.name!r}: unknown readout {self.readout!r}; choose one of {list(READOUTS)}"
            )
        if self.readout != "state" and not self.attention:
            raise ValueError(f"architecture {self.name!r} reads a context ({self.readout}) but does not attend")


ARCHITECTURES = {
    a.name: a
    for a in (
        Architecture(
            "ved",
            "VED",
            "#7f7f7f",
            False,
            "vanilla encoder-decoder: GRU encoder, GRU decoder started from the encoder's state at </s>",
            model="seq2seq",
            recurrent=True,
            readout="state",
            ignores=("attention", "heads", "ao_ff", "pe_min_dim", "pe_timescale", "layers"),
        ),
        Architecture(
            "aed",
            "AED",
            "#1f77b4",
            True,
            "VED plus attention over the encoder states; readout from [h^D_t; c_t]",
            model="seq2seq",
            recurrent=True,
            readout="state_and_context",
            ignores=("ao_ff", "pe_min_dim", "pe_timescale", "layers"),
        ),
        Architecture(
            "ao",
            "AO",
            "#d62728",
            True,
            "attention only: position-wise feed-forward states of token + positional encoding; readout from c_t",
            model="seq2seq",
            recurrent=False,
            readout="context",
            ignores=("cell", "layers"),
        ),
        # Not one of the paper's three (docs/transformer.md): its own attention (model.heads
        # heads in every layer) and always a learned embedding, so it ignores model.attention
        # and model.input_encoding.
        Architecture(
            "tfm",
            "Transformer",
            "#2ca02c",
            True,
            "encoder-decoder Transformer: model.layers pre-LayerNorm encoder and decoder layers, "
            "cross-attention over the encoder's output in every decoder layer; readout from the "
            "decoder's final state",
            model="transformer",
            recurrent=False,
            readout="state",
            ignores=("attention", "cell", "ao_ff", "pe_min_dim", "input_encoding"),
            paper=False,
        ),
    )
}

# model.attention: how scores, values and the context are formed (attend.models.layers.Attention).
ATTENTION_KINDS = {
    "learned": "single head, learned query, key and value matrices (no biases)",
    "dot": "parameter-free dot product: Q = K = V = identity",
    "multihead": "model.heads heads of units / heads dimensions, each with learned query, key and value "
    "matrices; the heads' contexts are concatenated and projected back (no biases)",
}

# model.cell: the recurrent cell of VED's and AED's encoder and decoder (the config
# schema lists the same names in its enum; a test checks they agree). For an LSTM the
# analysed state is h, not the cell state c.
CELLS = {
    "gru": "GRU (docs/science.md §3)",
    "lstm": "LSTM; the decoder starts from the encoder's final [h, c]; the analysed state is h",
    "simple": "vanilla (tanh) recurrent cell, keras.layers.SimpleRNN",
}


def reads_heads(arch: str, model: dict) -> bool:
    """Whether ``arch`` built with the ``model`` settings reads model.heads: the
    Transformer always, AED and AO with multihead attention only."""
    ignores = ARCHITECTURES[arch].ignores
    return "heads" not in ignores and ("attention" in ignores or model.get("attention") == "multihead")
