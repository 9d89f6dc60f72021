"""Model shapes, save/load, the probe's contents and the greedy-accuracy shortcut."""

import ast
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from attend import probe  # noqa: E402
from attend.architectures import ARCHITECTURES  # noqa: E402
from attend.config import defaults  # noqa: E402
from attend.decoding import greedy_accuracy, teacher_forced_accuracy  # noqa: E402
from attend.model_files import load_model  # noqa: E402
from attend.models import build_model  # noqa: E402
from attend.models.layers import PositionalEncoding, rotated_sinusoids  # noqa: E402
from attend.tasks import build_dataset  # noqa: E402
from attend.tokens import EOS, SPECIALS, decoder_inputs  # noqa: E402

CFG = {"sizes": {"train": 64, "valid": 16, "test": 16}, "one_to_one": {"vocab_size": 10, "min_len": 3, "max_len": 7}}


@pytest.fixture(scope="module")
def data():
    arrays, record = build_dataset("one_to_one", CFG, 0)
    return arrays, record


def make(arch, record, **model):
    """A small model of the schema's default settings, with ``model`` overrides."""
    settings = {**defaults("model"), "units": 8, **model}
    return build_model(arch, len(record["src_vocab"]), len(record["tgt_vocab"]), 8, 8, settings)


@pytest.mark.parametrize("arch", ["ved", "aed", "ao", "tfm"])
def test_output_shapes(arch, data):
    arrays, record = data
    model = make(arch, record)
    src, tgt = arrays["test_src"], arrays["test_tgt"]
    out = model.internals(src, decoder_inputs(tgt))
    n, s, t = len(src), src.shape[1], tgt.shape[1]
    assert tuple(out["logits"].shape) == (n, t, len(record["tgt_vocab"]))
    assert tuple(out["enc_states"].shape) == (n, s, 8)
    assert tuple(out["dec_states"].shape) == (n, t, 8)
    if arch == "ved":
        assert "attention" not in out
    else:
        att = keras.ops.convert_to_numpy(out["attention"])
        assert att.shape == (n, t, s)
        np.testing.assert_allclose(att.sum(-1), 1, atol=1e-5)
        # no weight on padding
        assert np.abs(att * (src == 0)[:, None, :]).max() < 1e-6


@pytest.mark.parametrize("arch", ["aed", "ao"])
def test_probe_scores_reproduce_attention(arch, data, tmp_path):
    """The saved matrices and states give back the model's attention exactly: the
    analysis's nine terms rest on this."""
    arrays, record = data
    model = make(arch, record)
    rec = probe.record(model, arrays["test_src"], arrays["test_tgt"], record)
    probe.save(tmp_path / "p.npz", rec)
    p = probe.load(tmp_path / "p.npz")
    q, k = p["dec_states"] @ p["W_q"], p["enc_states"] @ p["W_k"]
    scores = np.einsum("ntd,nsd->nts", q, k) * p["scale"]
    scores = np.where(p["enc_tokens"][:, None, :] != 0, scores, -np.inf)
    att = np.exp(scores - scores.max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    valid = p["targets"] != 0
    np.testing.assert_allclose(att[valid], p["attention"][valid], atol=1e-5)


def test_dot_attention_uses_identity(data):
    _arrays, record = data
    dot, learned = make("aed", record, attention="dot"), make("aed", record)
    dot.build(), learned.build()
    np.testing.assert_array_equal(dot.matrices()["W_q"], np.eye(8))
    assert learned.count_params() - dot.count_params() == 3 * 8 * 8


def test_save_load_roundtrip(tmp_path, data):
    arrays, record = data
    model = make("ao", record)
    model.build()
    path = tmp_path / "m.keras"
    model.save(path)
    again = load_model(path)
    x = (arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    np.testing.assert_allclose(model.predict_on_batch(x), again.predict_on_batch(x), atol=1e-6)


class ToyDecoder:
    """A deterministic autoregressive predictor: step t's output depends on the source
    and the decoder inputs up to t, like any causal decoder."""

    def predict_on_batch(self, inputs):
        src, dec = inputs
        _n, t_len = dec.shape
        causal = np.cumsum(dec * 7 + 3, axis=1)
        token = (src.sum(1, keepdims=True) + causal + np.arange(t_len)) % 3 + 1  # 1 is </s>
        return np.eye(8)[token]


def test_greedy_sequence_accuracy_equals_teacher_forced_exact_match(data):
    from attend.decoding import greedy_decode

    arrays, _ = data
    src = arrays["train_src"]
    model = ToyDecoder()
    pred = greedy_decode(model, src, 8)
    ended = (pred == 1).any(axis=1)
    assert ended.mean() > 0.5
    src, tgt = src[ended], pred[ended].copy()
    # corrupt the first token of every other target
    corrupt = np.arange(len(tgt)) % 2 == 1
    tgt[corrupt, 0] = np.where(tgt[corrupt, 0] == 2, 3, 2)
    greedy, forced = greedy_accuracy(model, src, tgt), teacher_forced_accuracy(model, src, tgt)
    assert 0 < greedy["seq_acc"] < 1
    assert greedy["seq_acc"] == forced["seq_acc"]


def test_positional_encoding_is_rotated_and_fixed():
    a = rotated_sinusoids(20, 16, 100.0, 0)
    np.testing.assert_array_equal(a, rotated_sinusoids(20, 16, 100.0, 0))
    # rotation preserves norms of the plain sinusoids: each row has norm sqrt(8)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), np.sqrt(8), rtol=1e-5)
    assert np.abs(a[:, :2]).max() < np.sqrt(8)  # not the raw sin/cos pairs on the axes


def saved_and_loaded(model, tmp_path):
    """The model after a round trip through a .keras file."""
    model.save(tmp_path / "m.keras")
    return load_model(tmp_path / "m.keras")


@pytest.mark.parametrize("kind", ["learned", "dot"])
def test_attention_kind_is_carried_by_name(kind, data, tmp_path):
    """The form of attention is a named kind in the layer, the saved model and the probe."""
    arrays, record = data
    model = make("ao", record, attention=kind)
    model.build()
    again = saved_and_loaded(model, tmp_path)
    assert again.attend.kind == kind and again.attention_kind == kind
    rec = probe.record(again, arrays["test_src"][:4], arrays["test_tgt"][:4], record)
    assert str(rec["attention_kind"]) == kind


def test_unknown_attention_kind_is_refused(data):
    with pytest.raises(ValueError, match="unknown attention kind 'cosine'"):
        make("aed", data[1], attention="cosine")


# ------------------------------------------------------------------ cells and multihead


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "simple"])
@pytest.mark.parametrize("arch", ["ved", "aed"])
def test_other_cells_build_train_and_probe(cell, arch, data, tmp_path):
    """LSTM and vanilla (tanh) cells go through the GRU's code path: a couple of training
    steps, then the probe, whose states are the hidden states h."""
    from attend.training import compile_for_training

    arrays, record = data
    model = make(arch, record, cell=cell)
    rnn = {"lstm": keras.layers.LSTM, "simple": keras.layers.SimpleRNN}[cell]
    assert type(model.encoder) is rnn and type(model.decoder) is rnn
    compile_for_training(model, defaults("train"), {"steps_per_execution": 1, "jit_compile": False})
    src, tgt = arrays["train_src"][:16], arrays["train_tgt"][:16]
    history = model.fit((src, decoder_inputs(tgt)), tgt, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    rec = probe.record(model, arrays["test_src"], arrays["test_tgt"], record)
    probe.save(tmp_path / "p.npz", rec)
    p = probe.load(tmp_path / "p.npz")
    n, s, t = len(arrays["test_src"]), arrays["test_src"].shape[1], arrays["test_tgt"].shape[1]
    assert p["enc_states"].shape == (n, s, 8) and p["dec_states"].shape == (n, t, 8)
    assert ("attention" in p) == (arch == "aed")
    if arch == "aed":
        assert p["attention"].shape == (n, t, s)
    # The encoder's final state is [h, c] for an LSTM, [h] otherwise; the probe records h.
    src_mask = arrays["test_src"] != 0
    _enc, *final = model.encoder(model.src_embed(arrays["test_src"]), mask=src_mask)
    assert len(final) == (2 if cell == "lstm" else 1)
    last = p["enc_states"][np.arange(n), p["enc_len"] - 1]  # the state at </s>
    np.testing.assert_allclose(last, keras.ops.convert_to_numpy(final[0]), atol=1e-5)
    if cell == "lstm":
        assert np.abs(last - keras.ops.convert_to_numpy(final[1])).max() > 1e-3  # not the cell state


@pytest.mark.parametrize("cell", ["gru", "lstm", "simple"])
def test_cell_is_saved_with_the_model(cell, data, tmp_path):
    arrays, record = data
    model = make("aed", record, cell=cell)
    model.build()
    again = saved_and_loaded(model, tmp_path)
    assert again.cell == cell and type(again.encoder) is type(model.encoder)
    x = (arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    np.testing.assert_allclose(model.predict_on_batch(x), again.predict_on_batch(x), atol=1e-6)


def test_a_model_saved_before_cells_and_heads_loads_as_gru_with_one_head(data):
    from attend.models.seq2seq import Seq2Seq

    model = make("aed", data[1])
    config = {k: v for k, v in model.get_config().items() if k not in ("cell", "heads", "width")}
    old = Seq2Seq.from_config({**config, "units": 8, "n_layers": 1})
    assert old.cell == "gru" and old.heads == 1 and isinstance(old.encoder, keras.layers.GRU)


def test_unknown_cell_is_refused(data):
    with pytest.raises(ValueError, match="unknown recurrent cell 'transformer'"):
        make("aed", data[1], cell="transformer")


ALTERED = {
    "attention": "dot",
    "heads": 2,
    "ao_ff": "gru",
    "pe_min_dim": 32,
    "pe_timescale": 50.0,
    "cell": "lstm",
    "layers": 3,
    "input_encoding": "embedding",
}


@pytest.mark.parametrize("arch", ["ved", "aed", "ao", "tfm"])
def test_an_architecture_never_reads_the_settings_it_declares_ignored(arch, data):
    """What lets variants share models (attend.config.model_owner): changing a setting
    that ``Architecture.ignores`` names leaves the built model's weights and outputs as
    they were (same seed); changing any other setting of the list changes them."""
    from attend.architectures import ARCHITECTURES, reads_heads

    arrays, record = data
    src, dec_in = arrays["test_src"], decoder_inputs(arrays["test_tgt"])

    def built(**model):
        keras.utils.set_random_seed(0)
        m = make(arch, record, **model)
        return [keras.ops.convert_to_numpy(w) for w in m.weights], keras.ops.convert_to_numpy(m((src, dec_in)))

    weights, logits = built()
    ignores = ARCHITECTURES[arch].ignores
    assert set(ignores) <= set(ALTERED)
    for key, value in ALTERED.items():
        other_weights, other_logits = built(**{key: value})
        same = (
            len(other_weights) == len(weights)
            and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(weights, other_weights))
            and np.array_equal(logits, other_logits)
        )
        if key == "heads" and not reads_heads(arch, defaults("model")):  # AED, AO: multihead attention only
            assert same, key
        else:
            assert same == (key in ignores), f"{arch}: changing {key} {'changed' if not same else 'kept'} the model"


def test_schema_cells_are_the_declared_cells():
    from attend.architectures import CELLS
    from attend.config import schema

    assert schema()["$defs"]["model"]["properties"]["cell"]["enum"] == list(CELLS)


@pytest.mark.parametrize("arch", ["aed", "ao"])
def test_multihead_attention_shapes(arch, data):
    """Each head's weights (batch, heads, T, S) sum to one over the valid encoder positions;
    ``attention`` is their uniform mean."""
    arrays, record = data
    model = make(arch, record, attention="multihead", heads=2)
    src, tgt = arrays["test_src"], arrays["test_tgt"]
    out = model.internals(src, decoder_inputs(tgt))
    n, s, t = len(src), src.shape[1], tgt.shape[1]
    heads = keras.ops.convert_to_numpy(out["head_attention"])
    mean = keras.ops.convert_to_numpy(out["attention"])
    assert heads.shape == (n, 2, t, s) and mean.shape == (n, t, s)
    np.testing.assert_allclose(heads.sum(-1), 1, atol=1e-5)
    assert np.abs(heads * (src == 0)[:, None, None, :]).max() < 1e-6
    np.testing.assert_allclose(mean, heads.mean(1), atol=1e-6)
    assert np.abs(heads[:, 0] - heads[:, 1]).max() > 1e-3  # the heads differ
    single = make(arch, record)
    assert "head_attention" not in single.internals(src[:2], decoder_inputs(tgt[:2]))


def test_multihead_probe_matrices_reproduce_each_head_and_the_context(data, tmp_path):
    """The probe's per-head matrices give back every head's weights exactly, and with the
    values and the output projection, AO's logits; the pooled W_q·W_k is the sum of the
    heads' scores."""
    arrays, record = data
    model = make("ao", record, attention="multihead", heads=2)
    rec = probe.record(model, arrays["test_src"], arrays["test_tgt"], record)
    probe.save(tmp_path / "p.npz", rec)
    p = probe.load(tmp_path / "p.npz")
    assert int(p["heads"]) == 2 and str(p["attention_kind"]) == "multihead"
    assert p["head_W_q"].shape == p["head_W_k"].shape == (2, 8, 4) and p["W_q"].shape == (8, 8)
    assert p["scale"] == pytest.approx(1 / np.sqrt(4))
    enc, dec = p["enc_states"], p["dec_states"]
    q = np.einsum("ntm,hmd->nhtd", dec, p["head_W_q"])
    k = np.einsum("nsm,hmd->nhsd", enc, p["head_W_k"])
    scores = np.einsum("nhtd,nhsd->nhts", q, k) * p["scale"]
    pooled = (dec @ p["W_q"]) @ np.swapaxes(enc @ p["W_k"], 1, 2) * p["scale"]
    np.testing.assert_allclose(pooled, scores.sum(1), rtol=1e-4, atol=1e-4)
    valid_src = p["enc_tokens"][:, None, None, :] != 0
    att = np.exp(np.where(valid_src, scores, -np.inf) - np.where(valid_src, scores, -np.inf).max(-1, keepdims=True))
    att /= att.sum(-1, keepdims=True)
    valid = p["targets"] != 0
    for h in range(2):
        np.testing.assert_allclose(att[:, h][valid], p["head_attention"][:, h][valid], atol=1e-5)
    np.testing.assert_allclose(p["attention"], p["head_attention"].mean(1), atol=1e-6)
    # context = concat_h(α_h V_h) W_o; AO reads the context alone, through W_c
    head_w_v = model.attend.by_head(keras.ops.convert_to_numpy(model.attend.w_v))
    w_o = keras.ops.convert_to_numpy(model.attend.w_o)
    values = np.einsum("nsm,hmd->nhsd", enc, head_w_v)
    context = np.einsum("nhts,nhsd->nthd", p["head_attention"], values).reshape(*dec.shape[:2], 8) @ w_o
    logits = keras.ops.convert_to_numpy(
        model.internals(arrays["test_src"], decoder_inputs(arrays["test_tgt"]))["logits"]
    )
    np.testing.assert_allclose((context @ p["W_c"])[valid], logits[valid], atol=1e-4)
    np.testing.assert_allclose(p["W_v"], head_w_v.transpose(1, 0, 2).reshape(8, 8) @ w_o, atol=1e-6)


def test_multihead_is_saved_with_the_model(data, tmp_path):
    arrays, record = data
    model = make("aed", record, attention="multihead", heads=4, cell="lstm")
    model.build()
    again = saved_and_loaded(model, tmp_path)
    assert again.heads == 4 and again.attend.heads == 4 and again.attend.kind == "multihead" and again.cell == "lstm"
    x = (arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    np.testing.assert_allclose(model.predict_on_batch(x), again.predict_on_batch(x), atol=1e-6)


def test_multihead_parameters(data):
    """Four n × n matrices (Q, K, V and the output projection), however many heads."""
    _, record = data
    counts = []
    for heads in (1, 2, 8):
        model = make("ao", record, attention="multihead", heads=heads)
        model.build()
        counts.append(model.attend.count_params())
    assert counts == [4 * 8 * 8] * 3


def test_heads_must_divide_units(data):
    with pytest.raises(ValueError, match=r"model.units \(8\) into model.heads \(3\).*heads must divide units"):
        make("aed", data[1], attention="multihead", heads=3)
    make("aed", data[1], attention="learned", heads=3)  # other kinds ignore heads


# ------------------------------------------------------------------ one model class per declared module


def numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_each_architecture_is_built_by_the_class_of_the_module_its_declaration_names(arch, data):
    from attend.models import model_class

    model = make(arch, data[1])
    assert type(model) is model_class(arch)
    assert type(model).__module__ == f"attend.models.{ARCHITECTURES[arch].model}"


def test_a_model_class_refuses_an_architecture_declared_for_another():
    from attend.models.seq2seq import Seq2Seq

    with pytest.raises(ValueError, match="architecture 'tfm' is built by attend.models.transformer, not by Seq2Seq"):
        Seq2Seq.from_settings("tfm", 10, 10, 8, 8, {**defaults("model"), "units": 8})


def test_a_declaration_must_name_a_readout_it_can_have():
    from attend.architectures import Architecture

    declared = {"label": "X", "color": "k", "description": "", "model": "seq2seq", "recurrent": True}
    with pytest.raises(ValueError, match="architecture 'x': unknown readout 'logits'"):
        Architecture("x", attention=True, readout="logits", **declared)
    with pytest.raises(ValueError, match=r"architecture 'x' reads a context \(context\) but does not attend"):
        Architecture("x", attention=False, readout="context", **declared)


def test_model_modules_are_found_from_the_declarations_alone():
    """No list of model modules besides the declarations: the models package imports none
    of them by its own name, and each architecture's module is what model_class imports."""
    import attend.models
    from attend.models import model_class
    from attend.provenance import source_files

    package = Path(attend.models.__file__)
    files = {p.name for p in source_files("attend.models")}
    assert not {f"{arch.model}.py" for arch in ARCHITECTURES.values()} & files, files
    for name, arch in ARCHITECTURES.items():
        assert model_class(name).__module__ == arch.model_module
        assert arch.model not in package.read_text().split('"""')[-1], f"{arch.model} named in {package}"


def test_the_model_code_names_no_architecture():
    """What a model and its diagram do follows from the architecture's declaration, never
    from its name, so a new architecture needs no edit there."""
    import attend.models

    root = Path(attend.models.__file__).parent
    paths = [
        *root.glob("*.py"),
        root.parent / "analysis" / "readout.py",
        root.parent / "plotting" / "fig09_architectures.py",
        root.parent / "plotting" / "panels.py",
    ]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in ARCHITECTURES:
                pytest.fail(f"{path.name}:{node.lineno} names the architecture {node.value!r}")


# What every model was saved with before the Transformer had a class of its own.
BEFORE_THE_SPLIT = {
    "attention": "learned",
    "input_encoding": "onehot",
    "ff": "dense",
    "pe_min_dim": 16,
    "pe_timescale": 100.0,
    "cell": "gru",
    "heads": 1,
    "n_layers": 1,
}


@pytest.mark.parametrize("arch", ["aed", "tfm"])
def test_a_model_file_saved_before_the_split_loads_as_its_own_class(arch, data, tmp_path):
    """Such a file is an ``attend>Seq2Seq`` whatever its architecture, with its width under
    ``units`` and every architecture's settings; it loads with its weights, as the class its
    architecture's declaration names."""
    arrays, record = data
    model = make(arch, record)
    model.build()
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as new, zipfile.ZipFile(tmp_path / "old.keras", "w") as old:
        for name in new.namelist():
            content = new.read(name)
            if name == "config.json":
                saved = json.loads(content)
                config = {k: v for k, v in saved["config"].items() if k != "width"}
                config = {**BEFORE_THE_SPLIT, **config, "units": saved["config"]["width"]}
                saved.update(
                    module="attend.models", class_name="Seq2Seq", registered_name="attend>Seq2Seq", config=config
                )
                content = json.dumps(saved).encode()
            old.writestr(name, content)
    again = load_model(tmp_path / "old.keras")
    assert type(again) is type(model) and again.width == 8 and again.arch == arch
    x = (arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    np.testing.assert_array_equal(model.predict_on_batch(x), again.predict_on_batch(x))


# ------------------------------------------------------------------ any length

LONG = 20  # 2.5 times the 8 positions the test models are built for


@pytest.mark.parametrize("dim", [15, 16])
def test_positions_inside_the_table_are_the_stored_ones_and_past_it_the_same_sinusoid(dim):
    """Inside the positions a model was built for, the encoding is its stored table, bit for
    bit, whether the length is fixed when traced or not; past them, the same rotated
    sinusoid, computed."""
    layer = PositionalEncoding(8, 100.0, seed=1)
    layer.build((None, None, dim))
    table = numpy(layer.table)
    np.testing.assert_array_equal(table, rotated_sinusoids(8, dim, 100.0, 1))
    np.testing.assert_array_equal(numpy(layer(np.zeros((2, 5, dim), "float32")))[1], table[:5])
    np.testing.assert_array_equal(numpy(layer.encoding(keras.ops.convert_to_tensor(5))), table[:5])
    longer = numpy(layer(np.zeros((1, 3 * 8, dim), "float32")))[0]
    np.testing.assert_array_equal(longer[:8], table)
    np.testing.assert_allclose(longer[8:], rotated_sinusoids(3 * 8, dim, 100.0, 1)[8:], atol=1e-5)
    np.testing.assert_array_equal(numpy(layer.encoding(keras.ops.convert_to_tensor(3 * 8))), longer)


def long_batch(record, n=4, length=LONG):
    """Random sources and decoder inputs of ``length`` positions, each source ending in </s>."""
    rng = np.random.default_rng(0)
    src = rng.integers(len(SPECIALS), len(record["src_vocab"]), (n, length)).astype(np.int32)
    tgt = rng.integers(len(SPECIALS), len(record["tgt_vocab"]), (n, length)).astype(np.int32)
    src[:, -1] = tgt[:, -1] = EOS
    return src, decoder_inputs(tgt)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_runs_past_the_length_it_was_built_for(arch, data):
    """Built for 8 positions, run on 20: eagerly, traced with the length fixed (and compiled
    by XLA), and, on TensorFlow, traced without a fixed length; the same finite outputs."""
    from attend.training import compile_for_training

    _arrays, record = data
    model = make(arch, record)
    src, dec_in = long_batch(record)
    out = {k: numpy(v) for k, v in model.internals(src, dec_in).items()}
    assert out["logits"].shape == (len(src), LONG, len(record["tgt_vocab"]))
    assert out["enc_states"].shape == out["dec_states"].shape == (len(src), LONG, 8)
    assert all(np.isfinite(v).all() for v in out.values())
    compile_for_training(model, defaults("train"), {"steps_per_execution": 1, "jit_compile": True})
    np.testing.assert_allclose(model.predict_on_batch((src, dec_in)), out["logits"], atol=1e-5)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        ids = tf.TensorSpec((None, None), tf.int32)
        traced = tf.function(lambda s, d: model.internals(s, d)["logits"], input_signature=[ids, ids])
        np.testing.assert_allclose(traced(src, dec_in), out["logits"], atol=1e-5)


# ------------------------------------------------------------------ a fifth architecture


@pytest.fixture
def fifth_architecture(monkeypatch):
    """tests/toy_model.py as the module ``attend.models.toy_model`` and the architecture
    ``bi`` declared beside the others: what docs/extending.md says a new architecture is."""
    import importlib.util
    import sys

    from attend.architectures import Architecture

    name = "attend.models.toy_model"
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("toy_model.py"))
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    declared = Architecture(
        "bi",
        "BiAED",
        "#9467bd",
        True,
        "AED with a bidirectional GRU encoder and a decoder started from zero",
        model="toy_model",
        recurrent=True,
        readout="state_and_context",
        ignores=("attention", "heads", "cell", "ao_ff", "pe_min_dim", "pe_timescale", "layers", "input_encoding"),
        paper=False,
    )
    monkeypatch.setitem(ARCHITECTURES, "bi", declared)
    return module


def test_a_fifth_architecture_is_one_module_and_one_declaration(fifth_architecture, data, tmp_path):
    """Built by the class its declaration names, probed, saved and loaded like the others."""
    arrays, record = data
    model = make("bi", record)
    assert type(model) is fifth_architecture.MODEL and model.arch == "bi"
    model.build()
    rec = probe.record(model, arrays["test_src"], arrays["test_tgt"], record)
    probe.save(tmp_path / "p.npz", rec)
    p = probe.load(tmp_path / "p.npz")
    n, s, t = len(arrays["test_src"]), arrays["test_src"].shape[1], arrays["test_tgt"].shape[1]
    assert (
        str(p["arch"]) == "bi" and p["attention"].shape == (n, t, s) and p["W_c"].shape == (8, len(record["tgt_vocab"]))
    )
    again = saved_and_loaded(model, tmp_path)
    assert type(again) is type(model)
    x = (arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    np.testing.assert_array_equal(model.predict_on_batch(x), again.predict_on_batch(x))
