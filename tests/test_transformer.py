"""The Transformer (architecture ``tfm``, docs/transformer.md): its shapes and causality,
the probe of its cross-attention in the ``layers`` form and its round trip, the direct
value path, the exactness of the nine-term breakdown of every (layer, head) on a
constructed probe and on a trained smoke-size model, and the claims' reading of it."""

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from attend import probe  # noqa: E402
from attend.analysis import attention as att  # noqa: E402
from attend.analysis.decompose import decompose  # noqa: E402
from attend.analysis.measure import measure  # noqa: E402
from attend.claims import CHECKS  # noqa: E402
from attend.config import defaults  # noqa: E402
from attend.model_files import load_model  # noqa: E402
from attend.models import build_model  # noqa: E402
from attend.tasks import build_dataset  # noqa: E402
from attend.tokens import PAD, decoder_inputs  # noqa: E402

CFG = {"sizes": {"train": 64, "valid": 16, "test": 16}, "one_to_one": {"vocab_size": 10, "min_len": 3, "max_len": 7}}
UNITS, LAYERS, HEADS = 8, 2, 2


@pytest.fixture(scope="module")
def data():
    return build_dataset("one_to_one", CFG, 0)


def make(record, src_len=8, tgt_len=8, **model):
    settings = {**defaults("model"), "units": UNITS, "layers": LAYERS, "heads": HEADS, **model}
    return build_model("tfm", len(record["src_vocab"]), len(record["tgt_vocab"]), src_len, tgt_len, settings)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_internals_have_every_layer_and_head(data):
    """Each layer's and head's weights sum to one over the valid source positions and put
    nothing on padding; ``attention`` is their uniform mean; ``layer_states`` holds each
    decoder layer's own query-side states."""
    arrays, record = data
    keras.utils.set_random_seed(0)
    model = make(record)
    src, tgt = arrays["test_src"], arrays["test_tgt"]
    out = {k: numpy(v) for k, v in model.internals(src, decoder_inputs(tgt)).items()}
    n, s, t = len(src), src.shape[1], tgt.shape[1]
    assert out["layer_states"].shape == (n, LAYERS, t, UNITS)
    assert out["layer_attention"].shape == (n, LAYERS, HEADS, t, s)
    assert out["enc_states"].shape == (n, s, UNITS) and out["dec_states"].shape == (n, t, UNITS)
    np.testing.assert_allclose(out["layer_attention"].sum(-1), 1, atol=1e-5)
    assert np.abs(out["layer_attention"] * (src == PAD)[:, None, None, None, :]).max() < 1e-6
    np.testing.assert_allclose(out["attention"], out["layer_attention"].mean((1, 2)), atol=1e-6)
    assert np.abs(out["layer_states"][:, 0] - out["layer_states"][:, 1]).max() > 1e-3
    # the query states come out of a LayerNorm: zero mean over units at every position
    np.testing.assert_allclose(out["layer_states"].mean(-1), 0, atol=1e-4)


def test_the_decoder_is_causal(data):
    """A step's logits depend on the decoder inputs up to it, never on later ones."""
    arrays, record = data
    model = make(record)
    src, dec = arrays["test_src"], decoder_inputs(arrays["test_tgt"])
    later = dec.copy()
    later[:, 4:] = (later[:, 4:] + 1) % len(record["tgt_vocab"])
    a, b = numpy(model.predict_on_batch((src, dec))), numpy(model.predict_on_batch((src, later)))
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-5)
    assert np.abs(a[:, 4:] - b[:, 4:]).max() > 1e-3


def test_layers_and_heads_are_saved_with_the_model(data, tmp_path):
    arrays, record = data
    model = make(record, layers=3, heads=4)
    model.build()
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert again.arch == "tfm" and again.n_layers == 3 and again.heads == 4 and len(again.decoder_layers) == 3
    x = (arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    np.testing.assert_allclose(model.predict_on_batch(x), again.predict_on_batch(x), atol=1e-6)


def test_bad_layers_and_heads_are_refused(data):
    with pytest.raises(ValueError, match="model.layers must be a positive integer, got 0"):
        make(data[1], layers=0)
    with pytest.raises(ValueError, match=r"model.units \(8\) into model.heads \(3\)"):
        make(data[1], heads=3)


def own_scores(model, src, dec_in) -> np.ndarray:
    """(N, L, H, T, S): the pre-softmax scores of every cross-attention head, by the
    model's own layers on its own states (``Attention.scores``)."""
    out = model.internals(src, dec_in)
    return np.stack(
        [
            numpy(layer.cross_attend.scores(out["layer_states"][:, i], out["enc_states"]))
            for i, layer in enumerate(model.decoder_layers)
        ],
        1,
    )


def test_probe_round_trip_with_layers(data, tmp_path):
    """The probe of a Transformer is in the ``layers`` form, survives save and load
    unchanged, and its matrices give back every layer's and head's weights exactly."""
    arrays, record = data
    model = make(record)
    rec = probe.record(model, arrays["test_src"], arrays["test_tgt"], record)
    assert probe.form(rec) == "layers"
    probe.save(tmp_path / "p.npz", rec)
    p = probe.load(tmp_path / "p.npz")
    assert set(p) == set(rec) and all(np.array_equal(p[k], rec[k]) for k in rec)
    assert int(p["layers"]) == LAYERS and int(p["heads"]) == HEADS and str(p["arch"]) == "tfm"
    assert p["layer_W_q"].shape == p["layer_W_k"].shape == (LAYERS, HEADS, UNITS, UNITS // HEADS)
    assert p["scale"] == pytest.approx(1 / np.sqrt(UNITS // HEADS))
    scores = (
        np.einsum("nltm,lhmd,nsk,lhkd->nlhts", p["layer_states"], p["layer_W_q"], p["enc_states"], p["layer_W_k"])
        * p["scale"]
    )
    valid_src = (p["enc_tokens"] != PAD)[:, None, None, None, :]
    z = np.where(valid_src, scores, -np.inf)
    weights = np.exp(z - z.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    valid = (p["targets"] != PAD)[:, None, None, :]
    valid = np.broadcast_to(valid, weights.shape[:-1])
    np.testing.assert_allclose(weights[valid], p["layer_attention"][valid], atol=1e-5)
    mine = own_scores(model, arrays["test_src"], decoder_inputs(arrays["test_tgt"]))
    cells = np.broadcast_to(valid[..., None] & valid_src, scores.shape)
    np.testing.assert_allclose(scores[cells], mine[cells], rtol=1e-4, atol=1e-5)


def test_the_direct_value_path(data):
    """W_v is the sum over layers of each cross-attention's value map through its output
    projection; x @ W_c is the logits of a residual-stream vector x through the final
    LayerNorm and the readout, up to the LayerNorm's 1/σ scale and its β term."""
    _arrays, record = data
    model = make(record)
    model.build()
    mats = model.matrices()
    cross = [layer.cross_attend for layer in model.decoder_layers]
    np.testing.assert_allclose(mats["W_v"], sum(numpy(a.w_v) @ numpy(a.w_o) for a in cross), atol=1e-6)
    x = np.random.default_rng(0).normal(size=(5, UNITS)).astype(np.float32)
    norm = model.decoder_norm
    logits = numpy(model.readout(norm(x)))
    sigma = np.sqrt(x.var(-1, keepdims=True) + norm.epsilon)
    beta_term = numpy(norm.beta) @ numpy(model.readout.kernel)
    np.testing.assert_allclose(logits, (x @ mats["W_c"]) / sigma + beta_term, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ exactness of the breakdown


def check_exact(p: dict, model_scores: np.ndarray) -> None:
    """For every (layer, head) unit of a ``layers`` probe: the nine terms, computed from the
    decomposition of its own query states and of the encoder states, sum to
    ``model_scores`` (N, L, H, T, S) within 1e-4 relative at every valid (t, s), and their
    softmax reproduces the recorded weights within 1e-5."""
    encoder = decompose(p["enc_states"], p["enc_tokens"], p["enc_len"], len(p["src_vocab"]))
    decoder = decompose(p["dec_states"], p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))
    units = att.units(p, decoder, lambda s: decompose(s, p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"])))
    assert len(units) == p["layer_attention"].shape[1] * p["layer_attention"].shape[2]
    valid = decoder.mask[:, :, None] & encoder.mask[:, None, :]
    rows = decoder.mask
    for unit in units:
        terms = att.score_terms(
            unit.queries.parts(unit.queries.states),
            encoder.parts(encoder.states),
            unit.w_q,
            unit.w_k,
            float(p["scale"]),
        )
        total = terms.astype(np.float64).sum(0)
        own = model_scores[:, unit.layer, unit.head]
        err = np.abs(total - own)[valid]
        assert err.max() <= 1e-4 * max(np.abs(own[valid]).max(), 1.0), (unit.layer, unit.head, err.max())
        softmax = att.masked_softmax(total, encoder.mask[:, None, :])
        np.testing.assert_allclose(softmax[rows], unit.attention[rows], atol=1e-5)


def test_the_breakdown_is_exact_on_a_constructed_layered_probe():
    from two_heads import two_layer_probe

    p, known = two_layer_probe()
    probe.validate(p)
    check_exact(p, known["scores"])


@pytest.mark.slow
def test_the_breakdown_is_exact_on_a_trained_smoke_model(tmp_path):
    """A smoke-size Transformer (16 units, two layers of two heads) trained for 150 steps
    on one_to_one: every layer's and head's nine terms sum to the model's own scores, and
    their softmax is its attention; the measurements read it layer by layer."""
    from attend import training

    cfg = {"sizes": {"train": 2000, "valid": 200, "test": 200}, "one_to_one": defaults("data.one_to_one")}
    arrays, record = build_dataset("one_to_one", cfg, 0)
    model_cfg = {**defaults("model"), "units": 16, "layers": 2, "heads": 2}
    train_cfg = {**defaults("train"), "eval_every": 50, "n_eval": 200, "max_steps": 150}
    training.set_determinism(0)
    metrics = training.train(
        "tfm",
        arrays,
        record,
        model_cfg,
        train_cfg,
        {"steps_per_execution": 50, "jit_compile": False},
        0,
        model_path=tmp_path / "model.keras",
        log_path=tmp_path / "log.csv",
        metrics_path=tmp_path / "metrics.json",
        checkpoint_dir=tmp_path / "ckpt",
        fingerprint="test",
        identity={"task": "one_to_one"},
    )
    assert metrics["steps"] > 0
    model = load_model(tmp_path / "model.keras")
    src, tgt = arrays["test_src"], arrays["test_tgt"]
    p = probe.record(model, src, tgt, record)
    probe.validate(p)
    assert p["layer_attention"].max() > 0.5  # trained: some heads attend sharply
    check_exact(p, own_scores(model, src, decoder_inputs(tgt)))
    tables, analysis, _skipped = measure(p, {}, n_samples=2)
    units = {(layer, head) for layer, head in tables["term_shares"][["layer", "head"]].itertuples(index=False)}
    assert units == {(-1, -1), (0, -1), (1, -1), (0, 0), (0, 1), (1, 0), (1, 1)}
    assert analysis["unit_sample_attention"].shape[:2] == (2, 4)


# ------------------------------------------------------------------ the claims' reading


def claim_tables(
    tfm_mu=0.8, tfm_acc=0.99, tfm_tasks=("one_to_one", "reverse", "sort", "escan", "translation"), with_units=True
):
    """The tables of test_claims (every paper claim passes) plus a Transformer on
    ``tfm_tasks`` whose whole-model μ·μ share on one_to_one is ``tfm_mu``; with
    ``with_units``, its layers' and units' rows hold values that would fail every claim,
    so a reader that took them instead of the whole model's would be seen."""
    from test_claims import TASKS, tables

    acc, approx, shares, words, gold = tables()
    extra_acc, extra_approx, extra_shares, extra_words = [], [], [], []
    for seed in (0, 1, 2):
        for task in tfm_tasks:
            mu = tfm_mu if task == "one_to_one" else TASKS[task]
            extra_acc.append({"task": task, "arch": "tfm", "seed": seed, "test_seq_acc": tfm_acc})
            groups = [(-1, -1, mu, 0.95)] + (
                [(0, -1, 0.0, 0.0), (0, 0, 0.0, 0.0), (1, 0, 0.0, 0.0)] if with_units else []
            )
            for layer, head, share, agreement in groups:
                for metric, value in (
                    ("argmax_agreement", mu if layer == -1 else 0.0),
                    ("temporal_argmax_agreement", agreement),
                ):
                    extra_approx.append(
                        {
                            "task": task,
                            "arch": "tfm",
                            "seed": seed,
                            "layer": layer,
                            "head": head,
                            "metric": metric,
                            "value": value,
                        }
                    )
                rest = (1 - share) / (len(att.TERMS) - 1)
                extra_shares += [
                    {
                        "task": task,
                        "arch": "tfm",
                        "seed": seed,
                        "layer": layer,
                        "head": head,
                        "step": -1,
                        "term": term,
                        "share": share if term == "mu·mu" else rest,
                    }
                    for term in att.TERMS
                ]
            if task in ("one_to_one", "reverse", "sort"):
                extra_words += [
                    {
                        "task": task,
                        "arch": "tfm",
                        "seed": seed,
                        "word": f"I_{i}",
                        "cosine": 0.1,
                        "correct": float(i < 5),
                    }
                    for i in range(10)
                ]
    whole = {"layer": -1, "head": -1}
    return (
        pd.concat([acc, pd.DataFrame(extra_acc)], ignore_index=True),
        pd.concat([approx.assign(**whole), pd.DataFrame(extra_approx)], ignore_index=True),
        pd.concat([shares.assign(**whole), pd.DataFrame(extra_shares)], ignore_index=True),
        pd.concat([words, pd.DataFrame(extra_words)], ignore_index=True),
        gold,  # the paper's translation models only: the Transformer's F6 is not checked
    )


def test_the_paper_rows_are_the_same_with_a_transformer_beside_them():
    from test_claims import tables

    from attend.claims import claims

    alone = claims(*tables())
    both = claims(*claim_tables())
    paper = both[both["scope"] == "paper"].reset_index(drop=True)
    assert list(alone["scope"]) == ["paper"] * len(CHECKS)
    pd.testing.assert_frame_equal(paper, alone)
    assert (paper["status"] == "pass").all()
    assert list(both["scope"]) == ["paper"] * len(CHECKS) + ["tfm"] * len(CHECKS)
    assert list(both["claim"]) == list(CHECKS) * 2


def test_the_transformer_is_asked_every_claim_of_its_own_models():
    """F1 and F5 read the Transformer's whole-model rows (its units' would fail them); F2
    and F3 its value path (here 0.1 cosine, half the dictionary: both fail); F4 its own task
    points; F5 its accuracy against VED's."""
    from attend.claims import claims

    table = claims(*claim_tables()).set_index(["scope", "claim"]).loc["tfm"]
    assert table.loc["F1", "status"] == "pass" and table.loc["F1", "value"] == pytest.approx(0.95)
    assert "Transformer" in table.loc["F1", "criterion"]
    assert "by layer" in table.loc["F1", "detail"] and "L0 0.00" in table.loc["F1", "detail"]
    assert table.loc["F2", "status"] == "fail" and table.loc["F2", "value"] == pytest.approx(0.1)
    assert table.loc["F3", "status"] == "fail" and table.loc["F3", "value"] == pytest.approx(0.5)
    assert "(Transformer)" in table.loc["F3", "criterion"]
    assert table.loc["F4", "status"] == "pass" and table.loc["F4", "seeds_passing"] == "3/3"
    assert table.loc["F5", "status"] == "pass"
    assert table.loc["F5", "value"] == pytest.approx(0.99 - 0.2)
    assert table.loc["F5", "criterion"].startswith("mu·mu largest for the Transformer")


def test_a_transformer_that_fails_a_claim_fails_it_alone():
    """A Transformer whose μ·μ is not its largest term on one_to_one, and which is less
    accurate than VED, fails F1 and F5 in its own rows; the paper's rows still pass."""
    from attend.claims import claims

    table = claims(*claim_tables(tfm_mu=0.05, tfm_acc=0.1)).set_index(["scope", "claim"])
    assert table.loc[("tfm", "F1"), "status"] == "fail" and table.loc[("tfm", "F5"), "status"] == "fail"
    assert table.loc[("tfm", "F5"), "value"] == pytest.approx(0.1 - 0.2)
    assert (table.loc["paper", "status"] == "pass").all()


def test_transformer_claims_without_the_runs_they_need_are_not_checked():
    """On one_to_one alone, the Transformer's F4 (3 tasks) is not checked; without any
    Transformer there are no Transformer rows."""
    from test_claims import tables

    from attend.claims import claims

    table = claims(*claim_tables(tfm_tasks=("one_to_one",), with_units=False)).set_index(["scope", "claim"])
    assert table.loc[("tfm", "F4"), "status"] == "not checked"
    assert table.loc[("tfm", "F4"), "detail"] == "needs at least 3 tasks with tfm"
    assert set(claims(*tables())["scope"]) == {"paper"}


def test_variants_and_the_summary_keep_the_paper_first():
    from attend.claims import claims, summary_markdown
    from attend.variant_comparison import variant_claims

    table = claims(*claim_tables(tfm_mu=0.05))
    compared = variant_claims({"base": table})
    assert len(compared) == len(CHECKS) and (compared["status"] == "pass").all()
    text = summary_markdown(table)
    assert f"{len(CHECKS)} of {len(CHECKS)} claims pass" in text and "## F1 (Transformer): fail" in text
    assert text.index("## F6: pass") < text.index("## F1 (Transformer)")
