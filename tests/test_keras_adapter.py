"""The Keras adapter (attend.adapters.keras): a probe from a seq2seq Keras model whose
parts the caller names. A pipeline model, loaded as a plain Keras model and treated as
an outside one, gives the pipeline's own probe and tables; a model the test builds from
plain Keras layers, with its own names, gives a probe whose weights reproduce its
attention and whose nine terms sum to its scores."""

import math

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from attend import api, probe, probe_report  # noqa: E402
from attend.adapters import keras as adapter  # noqa: E402
from attend.analysis.measure import measure  # noqa: E402
from attend.artifacts import read_table  # noqa: E402
from attend.config import defaults  # noqa: E402
from attend.models import build_model  # noqa: E402
from attend.table_layout import TABLE_COLUMNS  # noqa: E402
from attend.tasks import build_dataset  # noqa: E402
from attend.tokens import decoder_inputs  # noqa: E402
from attend.training import compile_for_training  # noqa: E402

CFG = {"sizes": {"train": 96, "valid": 16, "test": 24}, "one_to_one": {"vocab_size": 8, "min_len": 3, "max_len": 7}}
UNITS = 8


@pytest.fixture(scope="module")
def data():
    return build_dataset("one_to_one", CFG, 0)


def _fit(model, arrays, steps: int = 6) -> None:
    """A few optimiser steps: enough to move every weight off its initial value."""
    src, tgt = arrays["train_src"][: 16 * steps], arrays["train_tgt"][: 16 * steps]
    model.fit((src, decoder_inputs(tgt)), tgt, batch_size=16, epochs=1, verbose=0, shuffle=False)


def _assert_tables_match(ours: dict, out_dir, tolerance: float = 1e-6) -> None:
    for name, table in ours.items():
        written = read_table(out_dir / f"{name}.csv")
        assert list(written.columns) == TABLE_COLUMNS[name] and len(written) == len(table), name
        numeric = table.select_dtypes("number").columns
        if len(table):
            np.testing.assert_allclose(
                written[numeric].to_numpy(float),
                table[numeric].to_numpy(float),
                atol=tolerance,
                rtol=tolerance,
                err_msg=name,
            )


# ---------------------------------------------------------------------------- a pipeline model, from outside

PIPELINE = {  # name -> (arch, model settings, how an outsider names its parts)
    "aed": ("aed", {}, {}),
    "ao": ("ao", {}, {}),
    "aed-multihead": ("aed", {"attention": "multihead", "heads": 2}, {"heads": 2}),
}


def _outsider_names(arch: str, settings: dict) -> dict:
    """What a user who reads the model's layers (not attend's code) would name."""
    multihead = settings.get("attention") == "multihead"
    d = UNITS // settings.get("heads", 1) if multihead else UNITS

    def value_map(model):  # the heads' values through the output projection
        layer = adapter.find_layer(model, "attention")
        w_v = keras.ops.convert_to_numpy(layer.w_v)
        return w_v @ keras.ops.convert_to_numpy(layer.w_o) if multihead else w_v

    def readout(model):  # the readout rows that read the context
        kernel = keras.ops.convert_to_numpy(adapter.find_layer(model, "readout").kernel)
        return kernel[UNITS:] if arch == "aed" else kernel

    return {
        "enc_states": ("encoder", 0) if arch == "aed" else "encoder",
        "dec_states": "decoder",
        "attention": ("attention", 1),
        "query": "attention/w_q",
        "key": "attention/w_k",
        "scale": 1 / math.sqrt(d),
        "value": value_map,
        "readout": readout,
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", PIPELINE)
def test_a_pipeline_model_from_outside_gives_the_pipelines_probe_and_tables(name, data, tmp_path):
    arrays, record = data
    arch, settings, extra = PIPELINE[name]
    model = build_model(
        arch,
        len(record["src_vocab"]),
        len(record["tgt_vocab"]),
        arrays["train_src"].shape[1],
        arrays["train_tgt"].shape[1],
        {**defaults("model"), "units": UNITS, **settings},
    )
    compile_for_training(model, defaults("train"), {"steps_per_execution": 1, "jit_compile": False})
    _fit(model, arrays)
    model.save(tmp_path / "model.keras")
    plain = keras.saving.load_model(tmp_path / "model.keras")  # a plain Keras load: no attend.model_files
    src, tgt, align = arrays["test_src"], arrays["test_tgt"], arrays["test_align"]

    ours = probe.record(plain, src, tgt, record, align)  # the pipeline's own probe
    kind = settings.get("attention", "learned")
    theirs = adapter.record(
        plain,
        src,
        tgt,
        src_vocab=record["src_vocab"],
        tgt_vocab=record["tgt_vocab"],
        align=align,
        arch=arch,
        attention_kind=kind,
        **_outsider_names(arch, settings),
        **extra,
    )
    assert set(theirs) == set(ours) - {"identity"}
    for key in theirs:
        if theirs[key].dtype.kind == "f":
            np.testing.assert_allclose(theirs[key], ours[key], atol=1e-6, rtol=0, err_msg=key)
        else:
            np.testing.assert_array_equal(theirs[key], ours[key], err_msg=key)

    probe.save(tmp_path / "theirs.npz", theirs)
    assert (
        probe_report.main(
            [
                str(tmp_path / "theirs.npz"),
                "--out",
                str(tmp_path / "out"),
                "--no-figures",
                "--dictionary",
                str(_dictionary(tmp_path, record)),
            ]
        )
        == 0
    )
    tables, _, _ = measure(ours, record["dictionary"], probe_report.DEFAULT_SAMPLES)
    _assert_tables_match(tables, tmp_path / "out")


def _dictionary(tmp_path, record):
    import json

    (tmp_path / "dictionary.json").write_text(json.dumps(record["dictionary"]))
    return tmp_path / "dictionary.json"


# ---------------------------------------------------------------------------- a model of plain Keras layers


def own_model(n_src: int, n_tgt: int, src_len: int, tgt_len: int, form: str) -> keras.Model:
    """A small attentional seq2seq of plain Keras layers with names of its own: GRU reader
    and writer; ``single``: Dense query and key projections with biases and Luong's dot
    product (keras.layers.Attention, unscaled); ``heads``: keras.layers.MultiHeadAttention."""
    source = keras.Input((src_len,), dtype="int32", name="source")
    previous = keras.Input((tgt_len,), dtype="int32", name="previous")
    keep = keras.ops.not_equal(source, 0)
    read = keras.layers.GRU(12, return_sequences=True, name="reader")(keras.layers.Embedding(n_src, 10)(source))
    written = keras.layers.GRU(12, return_sequences=True, name="writer")(keras.layers.Embedding(n_tgt, 10)(previous))
    if form == "single":
        queries = keras.layers.Dense(6, name="to_query")(written)
        keys = keras.layers.Dense(6, name="to_key")(read)
        context, _weights = keras.layers.Attention(name="look")(
            [queries, read, keys], mask=[None, keep], return_attention_scores=True
        )
    else:
        mask = keras.ops.repeat(keep[:, None, :], tgt_len, axis=1)
        context, _weights = keras.layers.MultiHeadAttention(3, 4, name="look")(
            written, read, attention_mask=mask, return_attention_scores=True
        )
    logits = keras.layers.Dense(n_tgt, name="emit")(keras.layers.Concatenate()([written, context]))
    model = keras.Model([source, previous], logits)
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    return model


NAMES = {
    "single": {"query": "to_query", "key": "to_key", "scale": 1.0},
    "heads": {"query": "look/query_dense", "key": "look/key_dense", "scale": 1 / math.sqrt(4)},
}


def _own(form, data, train: bool):
    arrays, record = data
    model = own_model(
        len(record["src_vocab"]),
        len(record["tgt_vocab"]),
        arrays["train_src"].shape[1],
        arrays["train_tgt"].shape[1],
        form,
    )
    if train:
        _fit(model, arrays)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("form", NAMES)
def test_a_model_of_plain_keras_layers(form, data, tmp_path):
    arrays, record = data
    model = _own(form, data, train=True)
    src, tgt = arrays["test_src"], arrays["test_tgt"]
    rec = adapter.record(
        model,
        src,
        tgt,
        src_vocab=record["src_vocab"],
        tgt_vocab=record["tgt_vocab"],
        enc_states="reader",
        dec_states="writer",
        attention=("look", 1),
        arch="mine",
        **NAMES[form],
    )
    assert probe.form(rec) == form
    # the biases are folded: one more column of states, a last row of bias in the matrices
    assert rec["enc_states"].shape[-1] == rec["dec_states"].shape[-1] == 13
    enc_mask, dec_mask = src != 0, tgt != 0
    assert np.array_equal(rec["enc_states"][..., -1], enc_mask) and np.array_equal(rec["dec_states"][..., -1], dec_mask)
    # The recorded matrices reproduce the model's own weights (which the adapter took from its layer)...
    w_q, w_k = (rec["head_W_q"], rec["head_W_k"]) if form == "heads" else (rec["W_q"][None], rec["W_k"][None])
    scores = np.stack(
        [api.scores(rec["dec_states"], rec["enc_states"], q, k, float(rec["scale"])) for q, k in zip(w_q, w_k)], 1
    )  # (N, H, T, S)
    z = np.exp(np.where(enc_mask[:, None, None], scores, -np.inf) - scores.max(-1, keepdims=True))
    recomputed = z / z.sum(-1, keepdims=True) * dec_mask[:, None, :, None]
    weights = rec["head_attention"] if form == "heads" else rec["attention"][:, None]
    assert np.abs(recomputed - weights).max() < 1e-5
    # ... and the nine terms of every head sum to its scores.
    for head in range(len(w_q)):
        terms = api.score_terms(
            rec["dec_states"],
            rec["dec_inputs"],
            rec["dec_len"],
            rec["enc_states"],
            rec["enc_tokens"],
            rec["enc_len"],
            w_q[head],
            w_k[head],
            float(rec["scale"]),
        )
        valid = dec_mask[:, :, None] & enc_mask[:, None, :]
        np.testing.assert_allclose(terms.sum(0)[valid], scores[:, head][valid], atol=1e-4)
    probe.save(tmp_path / "p.npz", rec)
    assert probe_report.main([str(tmp_path / "p.npz"), "--out", str(tmp_path / "out"), "--no-figures"]) == 0
    shares = read_table(tmp_path / "out" / "term_shares.csv")
    assert set(shares["term"]) == set(api.TERMS)
    assert set(zip(shares["layer"], shares["head"])) == (
        {(-1, -1)} if form == "single" else {(-1, -1)} | {(0, h) for h in range(3)}
    )


def test_unknown_names_and_ambiguous_outputs_are_refused(data):
    """Errors that say what to name (no training: the quick tier)."""
    arrays, record = data
    model = _own("single", data, train=False)
    common = {
        "src_vocab": record["src_vocab"],
        "tgt_vocab": record["tgt_vocab"],
        "dec_states": "writer",
        "query": "to_query",
        "key": "to_key",
        "scale": 1.0,
    }
    src, tgt = arrays["test_src"][:4], arrays["test_tgt"][:4]
    with pytest.raises(ValueError, match="no layer named 'encoder'; its layers: .*'reader'"):
        adapter.record(model, src, tgt, enc_states="encoder", **common)
    with pytest.raises(ValueError, match=r"layer 'look' returns 2 outputs: name one, e.g. \('look', 0\)"):
        adapter.record(model, src, tgt, enc_states="reader", attention="look", **common)
    with pytest.raises(ValueError, match="has no attribute 'w_q'"):
        adapter.record(model, src, tgt, enc_states="reader", **{**common, "query": "look/w_q"})
    # unnamed attention is computed from the projections: a valid probe even untrained
    rec = adapter.record(model, src, tgt, enc_states="reader", **common)
    probe.validate(rec)
    # and a callable names what a layer name cannot
    rec2 = adapter.record(
        model,
        src,
        tgt,
        enc_states=lambda m, s, d: np.asarray(keras.Model(m.inputs, adapter.find_layer(m, "reader").output)((s, d))),
        **common,
    )
    np.testing.assert_allclose(rec2["enc_states"], rec["enc_states"], atol=1e-6)
