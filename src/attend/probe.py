"""The probe: everything the analysis reads of one encoder-decoder model, recorded on a set
of sequences with teacher forcing. It is the interface between a model and the analysis:
the measurements need nothing else, so the probe of any model, trained here or anywhere,
can be analysed (``attend analyse``).

The format is declared once, in :data:`KEYS`: each key's shape in named dimensions
(:data:`DIMENSIONS`), its kind, the group it belongs to (:data:`GROUPS`: what must be
there, and what an optional key enables) and what it holds. :func:`validate` checks a
probe against it with one-line errors that name the key and what was expected,
:func:`format_markdown` writes docs/probe-format.md from it (``python -m attend.probe``;
a test keeps the two in step). :func:`assemble` puts a probe together from arrays, the one
way: every writer ends in it (:func:`record`, the probe of a model of this project; the
adapters of ``attend.adapters``; ``attend.api.make_probe``), each only gathering the
arrays from its framework.

Attention is recorded in one of three forms, from the simplest up; the analysis splits
the score of every (layer, head) into its nine terms:

* one head: ``W_q``, ``W_k`` read ``dec_states`` and ``enc_states``;
* several heads of one layer: ``head_W_q``, ``head_W_k`` and ``head_attention``;
* several layers (a Transformer's cross-attention): ``layer_states`` (the states entering
  each layer's query projection), ``layer_W_q``, ``layer_W_k``, ``layer_attention``. The
  key side of every layer is ``enc_states``.

``attention`` is always the model as a whole: the uniform mean of its heads' and layers'
weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import (
    DataError,
    available_memory,
    check_identity,
    gib,
    load_npz,
    npz_shapes,
    recorded_identity,
    save_npz,
)
from .tokens import PAD, SPECIALS, decoder_inputs, lengths

FORMAT_VERSION = 2  # the format this code writes and reads (format_version); docs/probe-format.md
GOLD_SINCE = 2  # the first format with the gold group; a probe of format 1 still reads

# The named dimensions of the probe's arrays.
DIMENSIONS = {
    "N": "sequences probed",
    "S": "source positions, the final </s> included",
    "T": "target positions, the final </s> included",
    "n_e": "width of the encoder states (the keys' input)",
    "n_d": "width of the decoder states",
    "n_q": "width of the states entering a layer's query projection",
    "d": "width of the queries and keys of a single head",
    "d_h": "width of one head's queries and keys",
    "dv": "width of the values (the context vector)",
    "H": "attention heads (of each layer)",
    "L": "attention layers (decoder layers with cross-attention)",
    "V_src": "source vocabulary, special tokens included",
    "V_tgt": "target vocabulary, special tokens included",
    "K": "human word-alignment links, over every sequence",
    "link": "3: a link's (sequence, target word, source word)",
}

# What must be there, and what each optional key enables.
GROUPS = {
    "required": "every probe",
    "attention": "a model that attends over the encoder states: all of these",
    "single": "one form of the queries and keys: one head",
    "heads": "one form of the queries and keys: several heads of one layer",
    "layers": "one form of the queries and keys: several layers (Transformer cross-attention)",
    "targets": "optional: teacher-forced accuracy by length, and samples the model got right",
    "alignment": "optional: the alignment measurements (offsets, agreement with the alignment)",
    "values": "optional: the value path, for the dictionary and the readout alignment (F2, F3)",
    "gold": "optional (format 2): human word alignments, for the alignment error rate (docs/science.md §4.9)",
    "words": "optional (format 2, with the gold group): the gold word of each position, for a model whose tokens "
    "are subwords (without them one position is one word)",
    "about": "optional: what the model is",
}


@dataclass(frozen=True)
class Key:
    """One array of the probe: its shape in named dimensions (() is a scalar), its kind
    (``float``, ``int``, ``str``), its group (:data:`GROUPS`) and what it holds."""

    name: str
    shape: tuple[str, ...]
    kind: str
    group: str
    meaning: str


KEYS = (
    Key(
        "format_version",
        (),
        "int",
        "required",
        f"the probe format, {FORMAT_VERSION} (a reader refuses a newer one; format 1 lacks the gold group)",
    ),
    Key("enc_states", ("N", "S", "n_e"), "float", "required", "encoder states, as the keys read them; 0 at padding"),
    Key(
        "dec_states",
        ("N", "T", "n_d"),
        "float",
        "required",
        "decoder states (what the readout reads; h for an LSTM, never its cell state); 0 at padding",
    ),
    Key("enc_tokens", ("N", "S"), "int", "required", "source ids, </s>-terminated, 0-padded"),
    Key(
        "dec_inputs",
        ("N", "T"),
        "int",
        "required",
        "decoder input ids: <s>, then the previous target word; the decoder's χ is keyed by these",
    ),
    Key("enc_len", ("N",), "int", "required", "valid source positions, </s> included"),
    Key("dec_len", ("N",), "int", "required", "valid target positions, </s> included"),
    Key("src_vocab", ("V_src",), "str", "required", "source id -> token, starting <pad>, </s>, <s>"),
    Key("tgt_vocab", ("V_tgt",), "str", "required", "target id -> token, starting <pad>, </s>, <s>"),
    Key(
        "attention",
        ("N", "T", "S"),
        "float",
        "attention",
        "attention weights of the model as a whole (the uniform mean over its heads and layers); rows sum "
        "to 1 over the valid source positions, 0 at padded steps",
    ),
    Key("scale", (), "float", "attention", "score = q·k × scale (1/sqrt(d) or 1/sqrt(d_h))"),
    Key(
        "W_q",
        ("n_d", "d"),
        "float",
        "single",
        "q = dec_states @ W_q (of a multi-head model of this project: its heads side by side)",
    ),
    Key("W_k", ("n_e", "d"), "float", "single", "k = enc_states @ W_k"),
    Key(
        "head_W_q",
        ("H", "n_d", "d_h"),
        "float",
        "heads",
        "head h's score: (dec_states @ head_W_q[h])·(enc_states @ head_W_k[h]) × scale",
    ),
    Key("head_W_k", ("H", "n_e", "d_h"), "float", "heads", "head h's key matrix"),
    Key("head_attention", ("N", "H", "T", "S"), "float", "heads", "each head's weights"),
    Key("heads", (), "int", "heads", "H"),
    Key(
        "layer_states",
        ("N", "L", "T", "n_q"),
        "float",
        "layers",
        "the states entering layer l's cross-attention query projection (after its LayerNorm); 0 at padding",
    ),
    Key(
        "layer_W_q",
        ("L", "H", "n_q", "d_h"),
        "float",
        "layers",
        "the score of head h of layer l: (layer_states[:, l] @ layer_W_q[l, h])·(enc_states @ "
        "layer_W_k[l, h]) × scale; biases folded in, if any",
    ),
    Key("layer_W_k", ("L", "H", "n_e", "d_h"), "float", "layers", "layer l, head h's key matrix"),
    Key("layer_attention", ("N", "L", "H", "T", "S"), "float", "layers", "each layer's and head's weights"),
    Key("layers", (), "int", "layers", "L"),
    Key("targets", ("N", "T"), "int", "targets", "target ids"),
    Key("predictions", ("N", "T"), "int", "targets", "teacher-forced argmax of the readout"),
    Key("align", ("N", "T"), "int", "alignment", "source position behind each target, -1 where none"),
    Key(
        "W_v",
        ("n_e", "dv"),
        "float",
        "values",
        "the value map: a context is Σ_s α_ts (enc_states[s] @ W_v) (of several heads: concatenated and "
        "projected; of several layers: the sum of the layers' direct paths into the residual stream)",
    ),
    Key("W_c", ("dv", "V_tgt"), "float", "values", "how a context reaches the logits: logits ∋ context @ W_c"),
    Key(
        "gold_links",
        ("K", "link"),
        "int",
        "gold",
        "each link of a human word alignment: (sequence, target word, source word), the words counted from 0 "
        "(never a </s> position); a link is given once",
    ),
    Key(
        "gold_sure", ("K",), "int", "gold", "1 where the link is sure, 0 where it is possible only (P: all, S: the 1s)"
    ),
    Key(
        "enc_word",
        ("N", "S"),
        "int",
        "words",
        "the gold word each source position belongs to, counted from 0 in order (a word's subwords share it), "
        "-1 at special tokens (</s>) and padding; a word pair is linked when any pair of their subwords is",
    ),
    Key(
        "dec_word",
        ("N", "T"),
        "int",
        "words",
        "the gold word of the target at each position (the decoder's output at that step), as enc_word",
    ),
    Key("arch", (), "str", "about", "a name for the architecture (ved, aed, ao, tfm, or an outside model's)"),
    Key("attention_kind", (), "str", "about", "the form of attention (learned, dot, multihead)"),
    Key("identity", (), "str", "about", "JSON: task, architecture, seed, dataset checksum, the model's fingerprint"),
)
SPEC = {key.name: key for key in KEYS}
KINDS = {"float": np.floating, "int": np.integer, "str": np.str_}
DTYPES = {"float": np.float32, "int": np.int32, "str": np.str_}  # what a probe is written in, by kind
TOKEN_VOCABULARY = {  # the keys that hold token ids, and the vocabulary their ids index
    "enc_tokens": "src_vocab",
    "dec_inputs": "tgt_vocab",
    "targets": "tgt_vocab",
    "predictions": "tgt_vocab",
}


def group_keys(group: str) -> list[str]:
    return [k.name for k in KEYS if k.group == group]


def form(arrays: dict) -> str | None:
    """The query-key form of a probe: "layers", "heads", "single", or None without attention."""
    if "attention" not in arrays:
        return None
    for name in ("layers", "heads", "single"):
        if any(key in arrays for key in group_keys(name)):
            return name
    return "single"  # whose keys are then missing: validate names them


def validate(arrays: dict, path="probe") -> None:
    """Check a probe against :data:`KEYS`; raise :class:`attend.artifacts.DataError` with
    one line naming the file, the key and what was expected."""

    def fail(message):
        raise DataError(f"{path}: {message}")

    if "format_version" not in arrays:
        fail(
            "lacks 'format_version': not a probe of this format (docs/probe-format.md), or one written before "
            "formats were versioned; write it again"
        )
    version = arrays["format_version"]
    if version.shape != () or not np.issubdtype(version.dtype, np.integer):
        fail(f"'format_version' must be an integer scalar, got {version!r}")
    if int(version) > FORMAT_VERSION:
        fail(f"format_version {int(version)} is newer than this attend reads ({FORMAT_VERSION}): upgrade attend")
    unknown = sorted(set(arrays) - set(SPEC))
    if unknown:
        fail(f"unknown keys {unknown}: a probe holds only the keys of docs/probe-format.md")
    required = group_keys("required") + (group_keys("attention") if "attention" in arrays else [])
    kind = form(arrays)
    if kind:
        required += group_keys(kind)
    missing = [k for k in required if k not in arrays]
    if missing:
        fail(
            f"lacks {missing}"
            + (
                f" (a probe with attention in the '{kind}' form needs {group_keys(kind)})"
                if kind and set(missing) & set(group_keys(kind))
                else ""
            )
        )
    for group in ("targets", "values", "gold", "words"):
        present = [k for k in group_keys(group) if k in arrays]
        if present and len(present) < len(group_keys(group)):
            fail(f"has {present} but not {sorted(set(group_keys(group)) - set(present))}: these go together")
    if "W_q" in arrays and "attention" not in arrays:
        fail("has query and key matrices but no 'attention'")

    sizes = check_shapes({name: (value.shape, value.dtype) for name, value in arrays.items()}, fail)
    for dim, what in (("N", "sequences"), ("H", "heads"), ("L", "layers")):
        if sizes.get(dim, 1) == 0:
            fail(f"holds no {what} ({dim} = 0): there is nothing to analyse")
    for key, dim in (("heads", "H"), ("layers", "L")):
        if key in arrays and dim in sizes and int(arrays[key]) != sizes[dim]:
            fail(f"'{key}' says {int(arrays[key])}, but the per-{key[:-1]} arrays hold {sizes[dim]}")
    n_s, n_t = sizes["S"], sizes["T"]
    for key, width in (("enc_len", n_s), ("dec_len", n_t)):
        values = arrays[key]
        if values.size and (values.min() < 1 or values.max() > width):
            fail(f"'{key}' must lie in 1..{width} (the arrays' positions), found {values.min()}..{values.max()}")
    for key, vocab in TOKEN_VOCABULARY.items():
        if key in arrays and arrays[key].size:
            low, high = int(arrays[key].min()), int(arrays[key].max())
            if low < 0 or high >= len(arrays[vocab]):
                fail(f"'{key}' holds ids {low}..{high}, but '{vocab}' has only {len(arrays[vocab])} tokens")
    for vocab in ("src_vocab", "tgt_vocab"):
        if list(arrays[vocab][: len(SPECIALS)]) != SPECIALS:
            fail(f"'{vocab}' must start with {SPECIALS}, found {list(arrays[vocab][:3])}")
    for key in KEYS:  # the analysis weights padding by 0: finite values only
        if key.kind == "float" and key.name in arrays and not np.isfinite(arrays[key.name]).all():
            hint = (
                ": its model diverged; delete the model's folder under results/models and rerun"
                if key.name.endswith("states")
                else ""
            )
            fail(f"'{key.name}' holds NaN or infinite values{hint}")
    if "attention" in arrays:
        _check_weights(arrays, fail)
    if "enc_word" in arrays and "gold_links" not in arrays:
        fail(
            "has 'enc_word' and 'dec_word' but no gold links ('gold_links', 'gold_sure'), which they map onto positions"
        )
    if "enc_word" in arrays:
        _check_words(arrays, fail)
    if "gold_links" in arrays:
        _check_gold(arrays, int(version), fail)
    if "scale" in arrays and not float(arrays["scale"]) > 0:
        fail(f"'scale' must be positive, got {float(arrays['scale'])}")
    _check_meaning(arrays, sizes, fail)


def check_shapes(shapes: dict[str, tuple[tuple[int, ...], np.dtype]], fail) -> dict[str, int]:
    """Each key's rank and kind against :data:`KEYS`, and every named dimension the same
    size in every key that has it; the sizes, by dimension. Needs shapes only, so the loader
    runs it on the npz's headers before reading any array (:func:`load`)."""
    sizes: dict[str, int] = {}
    for key in KEYS:
        if key.name not in shapes:
            continue
        shape, dtype = shapes[key.name]
        if len(shape) != len(key.shape):
            fail(
                f"'{key.name}' has shape {shape}, expected {len(key.shape)} dimensions "
                f"({', '.join(key.shape) or 'a scalar'})"
            )
        if not np.issubdtype(dtype, KINDS[key.kind]):
            fail(f"'{key.name}' holds {dtype}, expected {key.kind} values")
        for dim, size in zip(key.shape, shape):
            if sizes.setdefault(dim, size) != size:
                fail(
                    f"'{key.name}' has shape {shape}: its {dim} ({DIMENSIONS[dim]}) is {size}, but other keys "
                    f"make it {sizes[dim]}"
                )
    return sizes


# How far recorded attention may be from the softmax of the scores the probe's own states
# and matrices give (and the model's from the mean of its heads'), per weight. Recomputed in
# float64 from float32 arrays, this project's models and Hugging Face ones agree to ~1e-6;
# weights that are not these scores' (another layer's, a bias left out, a different scale)
# miss by orders of magnitude more.
ATTENTION_TOLERANCE = 1e-3


def _check_meaning(arrays: dict, sizes: dict[str, int], fail) -> None:
    """What the shapes cannot say: alignment positions on the source, one word per
    vocabulary entry, and attention that is what the probe's own states and matrices make
    of it (:func:`_check_scores`)."""
    if "align" in arrays and arrays["align"].size:
        low, high = int(arrays["align"].min()), int(arrays["align"].max())
        if low < -1 or high >= sizes["S"]:
            fail(
                f"'align' must lie in -1..{sizes['S'] - 1} (-1: no source position; else a source position), "
                f"found {low}..{high}"
            )
    for vocab in ("src_vocab", "tgt_vocab"):
        words, counts = np.unique(arrays[vocab], return_counts=True)
        if (counts > 1).any():
            twice = [str(w) for w in words[counts > 1][:5]]
            fail(
                f"'{vocab}' names {twice} more than once: each id must be its own word (merge the ids, or "
                "name them apart)"
            )
    if "attention" in arrays:
        _check_scores(arrays, fail)


def _softmax_rows(scores: np.ndarray, enc_mask: np.ndarray) -> np.ndarray:
    z = np.where(enc_mask, scores, -np.inf)
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def _check_scores(arrays: dict, fail) -> None:
    """Each unit's recorded weights are the softmax of its scores, (x W_q)·(enc_states W_k)
    × scale over the valid source positions, and ``attention`` is the uniform mean of the
    units' weights (:data:`ATTENTION_TOLERANCE`), at every valid target step; one unit at a
    time, so memory stays that of one unit's weights."""
    enc_mask = (np.arange(arrays["enc_tokens"].shape[1])[None] < arrays["enc_len"][:, None])[:, None, :]
    dec_mask = np.arange(arrays["dec_inputs"].shape[1])[None] < arrays["dec_len"][:, None]
    enc = arrays["enc_states"]  # float32: its rounding (~1e-6) is far inside the tolerance
    scale = float(arrays["scale"])
    kind = form(arrays)
    if kind == "layers":  # (name, weights, the layer's query states, W_q, W_k) of every unit
        layers, heads = arrays["layer_attention"].shape[1:3]
        groups = [
            (
                arrays["layer_states"][:, layer],
                [
                    (
                        f"layer_attention[:, {layer}, {h}]",
                        arrays["layer_attention"][:, layer, h],
                        arrays["layer_W_q"][layer, h],
                        arrays["layer_W_k"][layer, h],
                    )
                    for h in range(heads)
                ],
            )
            for layer in range(layers)
        ]
    elif kind == "heads":
        groups = [
            (
                arrays["dec_states"],
                [
                    (
                        f"head_attention[:, {h}]",
                        arrays["head_attention"][:, h],
                        arrays["head_W_q"][h],
                        arrays["head_W_k"][h],
                    )
                    for h in range(arrays["head_attention"].shape[1])
                ],
            )
        ]
    else:
        groups = [(arrays["dec_states"], [("attention", arrays["attention"], arrays["W_q"], arrays["W_k"])])]
    total, n_units = np.zeros(arrays["attention"].shape), 0
    for queries, units in groups:
        for name, recorded, w_q, w_k in units:
            scores = (queries @ w_q) @ np.swapaxes(enc @ w_k, 1, 2) * scale
            off = np.abs(_softmax_rows(scores, enc_mask) - recorded)[dec_mask].max(initial=0.0)
            if off > ATTENTION_TOLERANCE:
                fail(
                    f"'{name}' is not the softmax of its scores (the probe's states and query and key matrices, "
                    f"× scale): off by {off:.3g} (tolerance {ATTENTION_TOLERANCE}); record the weights and matrices "
                    "of the same attention"
                )
            total += recorded
            n_units += 1
    if n_units > 1:
        off = np.abs(total / n_units - arrays["attention"])[dec_mask].max(initial=0.0)
        if off > ATTENTION_TOLERANCE:
            fail(
                f"'attention' is not the uniform mean of its {n_units} units' weights ({kind} form): off by {off:.3g} "
                f"(tolerance {ATTENTION_TOLERANCE})"
            )


def _check_weights(arrays: dict, fail) -> None:
    """Attention rows are distributions over the valid source positions at valid steps."""
    enc_mask = valid_positions(arrays["enc_len"], arrays["enc_tokens"].shape[1])
    dec_mask = valid_positions(arrays["dec_len"], arrays["dec_inputs"].shape[1])
    for key in ("attention", "head_attention", "layer_attention"):
        if key not in arrays:
            continue
        a = arrays[key]  # (N, [L,] [H,] T, S)
        lead = (1,) * (a.ndim - 3)  # the layer and head axes
        rows = a.sum(-1)
        at_steps = rows[np.broadcast_to(dec_mask.reshape(len(a), *lead, -1), rows.shape)]
        if a.min() < 0 or (at_steps.size and np.abs(at_steps - 1).max() > 1e-3):
            fail(f"'{key}' rows must be weights summing to 1 over the source at every valid target step")
        outside = np.where(enc_mask.reshape(len(a), *lead, 1, -1), 0, a)
        if outside.size and outside.max() > 1e-4:
            fail(f"'{key}' puts weight {outside.max():.3g} beyond a sequence's enc_len")


def _check_gold(arrays: dict, version: int, fail) -> None:
    """Gold links lie on words of their sequences (never </s>; with word maps, the maps'
    words), each once; sure is 0 or 1."""
    if version < GOLD_SINCE:
        fail(f"has gold links, which format {GOLD_SINCE} introduced, but says format_version {version}")
    links, sure = arrays["gold_links"], arrays["gold_sure"]
    if links.shape[1] != 3:
        fail(f"'gold_links' has shape {links.shape}: each link is 3 indices (sequence, target word, source word)")
    if sure.size and not np.isin(sure, (0, 1)).all():
        fail(f"'gold_sure' must hold 0 (possible) or 1 (sure), found {sorted(set(sure.tolist()) - {0, 1})[:5]}")
    if not links.size:
        return
    seq, tgt, src = links.T
    n = len(arrays["enc_len"])
    if seq.min() < 0 or seq.max() >= n:
        fail(f"'gold_links' names sequences {seq.min()}..{seq.max()}, but the probe holds {n} (0..{n - 1})")
    for name, word, length, map_key in (
        ("target", tgt, arrays["dec_len"], "dec_word"),
        ("source", src, arrays["enc_len"], "enc_word"),
    ):
        # one position one word, or the word map's words
        words = arrays[map_key].max(1) + 1 if map_key in arrays else length - 1
        bad = (word < 0) | (word >= words[seq])
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            where = f"in '{map_key}'" if map_key in arrays else "before its </s>"
            fail(
                f"'gold_links' row {k} links {name} word {word[k]} of sequence {seq[k]}, which has "
                f"{words[seq[k]]} {name} words {where} (0..{words[seq[k]] - 1})"
            )
    if len(np.unique(links, axis=0)) < len(links):
        fail("'gold_links' gives a link more than once")


def _check_words(arrays: dict, fail) -> None:
    """Each word map numbers its sequence's words from 0 in order, a word's positions side by
    side (-1 between them for special tokens), and is -1 beyond the sequence's length."""
    for key, valid in (("enc_word", arrays["enc_len"]), ("dec_word", arrays["dec_len"])):
        words = arrays[key]
        outside = ~valid_positions(valid, words.shape[1])
        if words.size and (words.min() < -1 or (words[outside] != -1).any()):
            fail(f"'{key}' must hold word indices from 0, or -1 (special tokens, and every position past the length)")
        for n, row in enumerate(words):
            numbered = row[row >= 0]
            if numbered.size and (numbered[0] != 0 or not np.isin(np.diff(numbered), (0, 1)).all()):
                fail(
                    f"'{key}' row {n} numbers its words {numbered.tolist()[:12]}: the words of a sequence are "
                    "0, 1, 2, ... in order, each word's positions side by side"
                )


# ---------------------------------------------------------------------------- writing


def valid_positions(lengths: np.ndarray, width: int) -> np.ndarray:
    """(N, width) bool: True at each sequence's first ``lengths`` positions (its final
    </s> included), the positions the analysis reads; the rest is padding."""
    return np.arange(width)[None] < np.asarray(lengths)[:, None]


def _zero_padding(arrays: dict, enc_mask: np.ndarray, dec_mask: np.ndarray) -> dict:
    """The arrays with their padding set to 0 (``<pad>`` for token ids): every position
    past a sequence's length along a key's S or T dimension (as :data:`KEYS` declares it).
    Float arrays are multiplied by the mask, ids replaced. An array whose shape does not
    fit the masks is left as it is, for :func:`validate` to name."""
    masks = {"S": enc_mask, "T": dec_mask}
    out = dict(arrays)
    for name, value in arrays.items():
        key = SPEC[name]
        padded = [(axis, dim) for axis, dim in enumerate(key.shape) if dim in masks]
        if not padded or key.shape[0] != "N" or value.ndim != len(key.shape):
            continue
        if any(value.shape[0] != len(masks[dim]) or value.shape[axis] != masks[dim].shape[1] for axis, dim in padded):
            continue
        for axis, dim in padded:
            shape = [len(value)] + [1] * (value.ndim - 1)
            shape[axis] = value.shape[axis]
            mask = masks[dim].reshape(shape)
            if key.kind == "float":
                value = value * mask.astype(value.dtype)
            elif name in TOKEN_VOCABULARY:
                value = np.where(mask, value, PAD).astype(value.dtype)
        out[name] = value
    return out


def _cast(name: str, value, where: str) -> np.ndarray:
    """``value`` in the dtype its key's kind is written in; a value of another kind (float
    token ids, numbers for a vocabulary) is refused rather than converted."""
    array, key = np.asarray(value), SPEC[name]
    if array.dtype.kind not in {"float": "biuf", "int": "biu", "str": "USO"}[key.kind]:  # numpy's kinds
        raise DataError(f"{where}: '{name}' holds {array.dtype}, expected {key.kind} values")
    return array.astype(DTYPES[key.kind], copy=False)


def assemble(arrays: dict, name: str = "probe") -> dict[str, np.ndarray]:
    """The probe of ``arrays``, each given under its key of :data:`KEYS` (a key given
    None is left out), checked (:func:`validate`, whose one-line errors start with
    ``name``); save it with :func:`save`. Every probe is put together here:

    * ``format_version`` is set (:data:`FORMAT_VERSION`);
    * every array is cast to its key's kind: float32, int32, str (never across kinds:
      float token ids are refused);
    * ``enc_len`` and ``dec_len``, when not given, count the ids of ``enc_tokens`` and
      ``dec_inputs`` that are not ``<pad>``; a sequence's valid positions are then its
      first ``enc_len`` (``dec_len``) ones (:func:`valid_positions`);
    * padding is set to 0: past a sequence's length, float arrays along S and T and the
      token ids (``enc_tokens``, ``dec_inputs``, ``targets``, ``predictions``) are 0
      (``align`` is kept as given);
    * ``attention``, when not given, is the model as a whole: the uniform mean of
      ``layer_attention`` over its layers and heads, or of ``head_attention`` over its heads;
    * ``identity`` may be a dict: it is written as JSON with sorted keys.

    The keys come out in the order of :data:`KEYS`."""
    given = {key: value for key, value in arrays.items() if value is not None}
    unknown = sorted(set(given) - set(SPEC))
    if unknown:
        raise DataError(
            f"{name}: {', '.join(map(repr, unknown))} {'is not a key' if len(unknown) == 1 else 'are not keys'} "
            "of the probe format (docs/probe-format.md)"
        )
    if isinstance(given.get("identity"), dict):
        given["identity"] = json.dumps(given["identity"], sort_keys=True)
    given["format_version"] = FORMAT_VERSION
    probe = {key: _cast(key, value, name) for key, value in given.items()}
    for key, tokens in (("enc_len", "enc_tokens"), ("dec_len", "dec_inputs")):
        if key not in probe and tokens in probe and probe[tokens].ndim == 2:
            probe[key] = lengths(probe[tokens])
    sides = [
        (probe.get(tokens), probe.get(key)) for tokens, key in (("enc_tokens", "enc_len"), ("dec_inputs", "dec_len"))
    ]
    if all(t is not None and n is not None and t.ndim == 2 and n.shape == t.shape[:1] for t, n in sides):
        probe = _zero_padding(probe, *(valid_positions(n, t.shape[1]) for t, n in sides))
    if "attention" not in probe:
        for key, axes in (("layer_attention", (1, 2)), ("head_attention", 1)):
            if key in probe and probe[key].ndim == len(SPEC[key].shape):
                probe["attention"] = probe[key].mean(axes)
                break
    probe = {key.name: probe[key.name] for key in KEYS if key.name in probe}
    validate(probe, name)
    return probe


def record(model, src: np.ndarray, tgt: np.ndarray, vocab: dict, align=None, batch_size: int = 500) -> dict:
    """The probe of a model of this project (``attend.models.Seq2Seq``) on (src, tgt):
    what its :meth:`internals` return on every batch, with its matrices, its ``arch`` and
    its ``identity`` (:func:`assemble`)."""
    import keras

    dec_in = decoder_inputs(tgt)
    parts: dict[str, list] = {}
    for i in range(0, len(src), batch_size):
        out = model.internals(
            keras.ops.convert_to_tensor(src[i : i + batch_size]),
            keras.ops.convert_to_tensor(dec_in[i : i + batch_size]),
        )
        for key, value in out.items():
            parts.setdefault(key, []).append(keras.ops.convert_to_numpy(value))
    internals = {key: np.concatenate(value) for key, value in parts.items()}
    logits = internals.pop("logits")
    which = "/".join(str(model.identity[k]) for k in ("task", "arch", "seed") if k in model.identity)
    return assemble(
        {
            **internals,
            **model.matrices(),
            "enc_tokens": src,
            "dec_inputs": dec_in,
            "targets": tgt,
            "predictions": logits.argmax(-1),
            "align": align,
            "src_vocab": vocab["src_vocab"],
            "tgt_vocab": vocab["tgt_vocab"],
            "arch": model.arch,
            "identity": model.identity,
        },
        f"the probe of model {which or model.arch}",
    )


def save(path: str | Path, arrays: dict) -> None:
    """Check a probe (:func:`validate`), then write it (no pickle), atomically."""
    validate(arrays, path)
    save_npz(path, arrays)


def load(path: str | Path, expect: dict | None = None) -> dict[str, np.ndarray]:
    """Load a probe without pickle, check it against :data:`KEYS` (:func:`validate`) and
    that it is the probe of the model ``expect`` names (task, arch, seed...). The shapes
    are checked from the file's headers first, and the arrays must fit in the memory
    available, before any array is read: a small compressed file cannot make the loader
    allocate gigabytes for a shape it then refuses."""
    shapes = npz_shapes(path, "probe")

    def fail(message):
        raise DataError(f"{path}: {message}")

    check_shapes(shapes, fail)
    needed = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in shapes.values())
    if needed > available_memory():
        fail(
            f"its arrays declare {gib(needed)}, more than the {gib(available_memory())} of memory available: "
            "probe fewer or shorter sequences"
        )
    arrays = load_npz(path, {}, "probe")
    if expect:
        check_identity(recorded_identity(arrays), expect, path, "probe")
    validate(arrays, path)
    return arrays


# ---------------------------------------------------------------------------- the document


def format_markdown() -> str:
    """docs/probe-format.md, from :data:`KEYS`."""

    def shape(key):
        return "()" if not key.shape else "(" + ", ".join(key.shape) + ")"

    lines = [
        "# The probe format",
        "",
        "Generated from `attend.probe.KEYS` (`python -m attend.probe > docs/probe-format.md`; a test",
        "checks it is current). A probe is one `.npz` file without pickled objects (`numpy.savez`); every",
        "measurement of [the science](science.md) §4 reads it and nothing else, so the probe of any",
        "encoder-decoder model can be analysed (`attend analyse PROBE.npz --out DIR`).",
        "",
        f"This is format version **{FORMAT_VERSION}** (`format_version`). A reader refuses a probe of a newer",
        "version, a probe without `format_version`, and any key this page does not list.",
        "",
        "Token ids: 0 `<pad>`, 1 `</s>`, 2 `<s>`, then the words. Positions are aligned at 0; a sequence's",
        "valid positions are its first `enc_len` (source) and `dec_len` (target), the final `</s>` included.",
        "The decoder's input at step t is the target at t − 1, `<s>` at t = 0.",
        "",
        "Attention comes in one of three forms, from the simplest up: one head (`W_q`, `W_k`), several",
        "heads of one layer (`head_*`), several layers (`layer_*`, a Transformer's cross-attention). The",
        "analysis splits the score of every layer and head into nine terms; `attention` is always the model",
        "as a whole, the uniform mean of its heads' and layers' weights.",
        "",
        "## Dimensions",
        "",
        "| name | size |",
        "|---|---|",
        *(f"| `{name}` | {meaning} |" for name, meaning in DIMENSIONS.items()),
        "",
        "## Keys",
        "",
    ]
    for group, title in GROUPS.items():
        keys = [k for k in KEYS if k.group == group]
        lines += [f"### {group}: {title}", "", "| key | shape | type | meaning |", "|---|---|---|---|"]
        lines += [f"| `{k.name}` | {shape(k)} | {k.kind} | {k.meaning} |" for k in keys]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_markdown(), end="")
