"""The probe: everything the analysis reads of one model, recorded on the test set with
teacher forcing. It is the interface between training and analysis: the measurements need
nothing else, so a probe written for any encoder-decoder model can be analysed.

The format is declared once, in :data:`KEYS` (each key's shape in named dimensions, its
type, when it is present and what it means). :func:`load` checks a file against it,
:func:`format_markdown` writes docs/probe-format.md from it (``python -m attend.probe``; a
test keeps the two in step), and :func:`record` writes the probe of a model of this
project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import DataError, check_identity, load_npz, recorded_identity, save_npz
from .tasks.base import decoder_inputs, lengths
from .tokens import SPECIALS

# The named dimensions of the probe's arrays.
DIMENSIONS = {
    "N": "test sequences",
    "S": "source positions, the final </s> included",
    "T": "target positions, the final </s> included",
    "n": "width of the encoder and decoder states",
    "d": "width of the queries and keys",
    "dv": "width of the values",
    "m": "width of the features the readout reads",
    "H": "attention heads",
    "d_h": "width of one head's queries, keys and values (n / H)",
    "V_src": "source vocabulary, special tokens included",
    "V_tgt": "target vocabulary, special tokens included",
}

# When a key is present: in every probe, in the probe of a model that attends over the
# encoder states, in the probe of a multi-head model, or where the model or task has it.
WHEN = {
    "always": "every probe",
    "attention": "models with attention",
    "multihead": "multi-head models (``attention_kind`` multihead)",
    "optional": "where the task or model has it",
}


@dataclass(frozen=True)
class Key:
    """One array of the probe: its shape in named dimensions (:data:`DIMENSIONS`; () is a
    scalar), its kind (``float``, ``int``, ``str``), when it is present (:data:`WHEN`)
    and what it holds."""

    name: str
    shape: tuple[str, ...]
    kind: str
    when: str
    meaning: str


KEYS = (
    Key("enc_states", ("N", "S", "n"), "float", "always",
        "encoder hidden states, 0 at padding (h for an LSTM, never its cell state c)"),
    Key("dec_states", ("N", "T", "n"), "float", "always",
        "decoder hidden states, 0 at padding"),
    Key("enc_tokens", ("N", "S"), "int", "always", "source ids, </s>-terminated, 0-padded"),
    Key("dec_inputs", ("N", "T"), "int", "always", "decoder input ids: <s>, then the previous target"),
    Key("targets", ("N", "T"), "int", "always", "target ids"),
    Key("predictions", ("N", "T"), "int", "always", "teacher-forced argmax of the readout"),
    Key("enc_len", ("N",), "int", "always", "valid source positions, </s> included"),
    Key("dec_len", ("N",), "int", "always", "valid target positions, </s> included"),
    Key("W_out", ("m", "V_tgt"), "float", "always",
        "readout, logits = features @ W_out; the features are [h^D; c] (AED), c (AO), h^D (VED)"),
    Key("arch", (), "str", "always", "the architecture: ved, aed or ao"),
    Key("src_vocab", ("V_src",), "str", "always", "source id -> token (<pad>, </s>, <s> first)"),
    Key("tgt_vocab", ("V_tgt",), "str", "always", "target id -> token"),
    Key("attention", ("N", "T", "S"), "float", "attention",
        "attention weights, 0 at padded steps; of a multi-head model the uniform mean of its heads'"),
    Key("W_q", ("n", "d"), "float", "attention",
        "queries q = h^D @ W_q; of a multi-head model its heads side by side, so that q·k·scale is the "
        "sum of the heads' scores"),
    Key("W_k", ("n", "d"), "float", "attention", "keys k = h^E @ W_k; likewise"),
    Key("W_v", ("n", "dv"), "float", "attention",
        "values v = h^E @ W_v; of a multi-head model concat_h(head_W_v[h]) @ W_o, the value map of a "
        "context where every head attends to the same position"),
    Key("scale", (), "float", "attention", "score = q·k × scale (1/sqrt(d), 1/sqrt(d_h) per head)"),
    Key("attention_kind", (), "str", "attention", "the form of attention: learned, dot or multihead"),
    Key("head_attention", ("N", "H", "T", "S"), "float", "multihead", "each head's attention weights"),
    Key("head_W_q", ("H", "n", "d_h"), "float", "multihead",
        "head h's score is (h^D @ head_W_q[h])·(h^E @ head_W_k[h]) × scale"),
    Key("head_W_k", ("H", "n", "d_h"), "float", "multihead", "head h's key matrix"),
    Key("head_W_v", ("H", "n", "d_h"), "float", "multihead", "head h's value matrix"),
    Key("W_o", ("H·d_h", "n"), "float", "multihead", "output projection; rows h·d_h … (h+1)·d_h read head h"),
    Key("heads", (), "int", "multihead", "H"),
    Key("align", ("N", "T"), "int", "optional",
        "source position behind each target (tasks that know their alignment), -1 where none"),
    Key("identity", (), "str", "optional",
        "JSON: task, architecture, seed, the dataset's checksum and the model's fingerprint"),
)
SPEC = {key.name: key for key in KEYS}


def _present(arrays: dict) -> set[str]:
    """The groups of :data:`WHEN` this probe must hold in full."""
    groups = {"always"}
    if str(arrays.get("arch", "")) != "ved":
        groups.add("attention")
        if str(arrays.get("attention_kind", "")) == "multihead":
            groups.add("multihead")
    return groups


def validate(arrays: dict, path) -> None:
    """Check a probe against :data:`KEYS`: every key its kind of model must have, each
    key's number of dimensions, dimensions that agree across keys, states that are
    finite. Raises :class:`attend.artifacts.DataError` naming the file and the key."""
    groups = _present(arrays)
    for group in ("always", "attention", "multihead"):
        if group not in groups:
            continue
        missing = [k.name for k in KEYS if k.when == group and k.name not in arrays]
        if missing:
            whose = {"always": "a probe", "attention": f"the probe of an {arrays.get('arch')} model",
                     "multihead": f"the probe of a multihead {arrays.get('arch')} model"}[group]
            raise DataError(f"{path}: {whose} lacks {missing}")
    sizes: dict[str, int] = {}
    if "heads" in arrays:
        heads = int(arrays["heads"])
        sizes["H"] = heads
        sizes["d_h"] = arrays["enc_states"].shape[-1] // heads
    for key in KEYS:
        if key.name not in arrays:
            continue
        shape = arrays[key.name].shape
        if len(shape) != len(key.shape):
            raise DataError(f"{path}: probe array {key.name!r} has shape {shape}, expected {len(key.shape)} "
                            f"dimensions ({', '.join(key.shape) or 'a scalar'})")
        expected = tuple(sizes.setdefault(dim, size) for dim, size in zip(key.shape, shape))
        if shape != expected:
            raise DataError(f"{path}: probe array {key.name!r} has shape {shape}, expected {expected}")
    for key in ("enc_states", "dec_states"):  # the analysis weights padding by 0: finite only
        if not np.isfinite(arrays[key]).all():
            raise DataError(f"{path}: probe array {key!r} holds NaN or infinite values, so its model "
                            "diverged: delete the model's folder under results/models and rerun")
    if list(arrays["src_vocab"][: len(SPECIALS)]) != SPECIALS:
        raise DataError(f"{path}: probe vocabulary does not start with {SPECIALS}")


def record(model, src: np.ndarray, tgt: np.ndarray, vocab: dict, align=None, batch_size: int = 500) -> dict:
    """The probe's arrays for ``model`` on (src, tgt)."""
    import keras

    dec_in = decoder_inputs(tgt)
    parts: dict[str, list] = {}
    for i in range(0, len(src), batch_size):
        out = model.internals(keras.ops.convert_to_tensor(src[i:i + batch_size]),
                              keras.ops.convert_to_tensor(dec_in[i:i + batch_size]))
        for key, value in out.items():
            parts.setdefault(key, []).append(keras.ops.convert_to_numpy(value))
    arrays = {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}
    logits = arrays.pop("logits")
    enc_mask, dec_mask = src != 0, tgt != 0
    arrays["enc_states"] *= enc_mask[..., None]
    arrays["dec_states"] *= dec_mask[..., None]
    if "attention" in arrays:
        arrays["attention"] *= dec_mask[..., None]
    if "head_attention" in arrays:
        arrays["head_attention"] *= dec_mask[:, None, :, None]
    arrays.update(
        enc_tokens=src.astype(np.int32), dec_inputs=dec_in.astype(np.int32), targets=tgt.astype(np.int32),
        predictions=np.where(dec_mask, logits.argmax(-1), 0).astype(np.int32),
        enc_len=lengths(src), dec_len=lengths(tgt), arch=np.array(model.arch),
        src_vocab=np.array(vocab["src_vocab"]), tgt_vocab=np.array(vocab["tgt_vocab"]),
    )
    if align is not None:
        arrays["align"] = align.astype(np.int32)
    arrays.update(model.matrices())
    if model.arch != "ved":
        arrays["attention_kind"] = np.array(model.attention_kind)
        if model.attention_kind == "multihead":
            arrays["heads"] = np.array(model.heads, dtype=np.int32)
    arrays["identity"] = np.array(json.dumps(model.identity, sort_keys=True))
    return arrays


def save(path: str | Path, arrays: dict) -> None:
    """Write a probe (no pickle), atomically."""
    save_npz(path, arrays)


def load(path: str | Path, expect: dict | None = None) -> dict[str, np.ndarray]:
    """Load a probe without pickle, check it against :data:`KEYS` (:func:`validate`) and
    that it is the probe of the model ``expect`` names (task, arch, seed...)."""
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
        "checks it is current). A probe is one `.npz` file without pickled objects: every measurement",
        "of docs/science.md §4 reads it and nothing else.",
        "",
        "Token ids everywhere: 0 `<pad>`, 1 `</s>`, 2 `<s>`, then the words. Positions are aligned at 0;",
        "a sequence's valid positions are the first `enc_len` (source) and `dec_len` (target), the final",
        "`</s>` included.",
        "",
        "## Dimensions",
        "",
        "| name | size |",
        "|---|---|",
        *(f"| `{name}` | {meaning} |" for name, meaning in DIMENSIONS.items()),
        "",
    ]
    for when, title in WHEN.items():
        keys = [k for k in KEYS if k.when == when]
        lines += [f"## Keys of {title}", "", "| key | shape | type | meaning |", "|---|---|---|---|"]
        lines += [f"| `{k.name}` | {shape(k)} | {k.kind} | {k.meaning} |" for k in keys]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_markdown(), end="")
