"""Model shapes, save/load, the probe's contents and the greedy-accuracy shortcut."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from attend import probe  # noqa: E402
from attend.config import defaults  # noqa: E402
from attend.models import build_model, rotated_sinusoids  # noqa: E402
from attend.tasks import build_dataset  # noqa: E402
from attend.tasks.base import decoder_inputs  # noqa: E402
from attend.training import greedy_accuracy, load_model, teacher_forced_accuracy  # noqa: E402

CFG = {"sizes": {"train": 64, "valid": 16, "test": 16},
       "one_to_one": {"vocab_size": 10, "min_len": 3, "max_len": 7}}


@pytest.fixture(scope="module")
def data():
    arrays, record = build_dataset("one_to_one", CFG, 0)
    return arrays, record


def make(arch, record, **model):
    """A small model of the schema's default settings, with ``model`` overrides."""
    settings = {**defaults("model"), "units": 8, **model}
    return build_model(arch, len(record["src_vocab"]), len(record["tgt_vocab"]), 8, 8, settings)


@pytest.mark.parametrize("arch", ["ved", "aed", "ao"])
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
    arrays, record = data
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
        n, t_len = dec.shape
        causal = np.cumsum(dec * 7 + 3, axis=1)
        token = (src.sum(1, keepdims=True) + causal + np.arange(t_len)) % 3 + 1  # 1 is </s>
        return np.eye(8)[token]


def test_greedy_sequence_accuracy_equals_teacher_forced_exact_match(data):
    from attend.training import greedy_decode

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


@pytest.mark.parametrize("kind", ["learned", "dot"])
def test_attention_kind_is_carried_by_name(kind, data, tmp_path):
    """The form of attention is a named kind in the layer, the saved model and the probe."""
    arrays, record = data
    model = make("ao", record, attention=kind)
    model.build()
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert again.attend.kind == kind and again.attention_kind == kind
    rec = probe.record(again, arrays["test_src"][:4], arrays["test_tgt"][:4], record)
    assert str(rec["attention_kind"]) == kind


def test_unknown_attention_kind_is_refused(data):
    with pytest.raises(ValueError, match="unknown attention kind 'cosine'"):
        make("aed", data[1], attention="cosine")
