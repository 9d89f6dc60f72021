"""Measurements on constructed inputs with known answers (docs/science.md §4)."""

import numpy as np
import pandas as pd
import pytest

from attend.analysis import attention as att
from attend.analysis import decompose as decompose_module
from attend.analysis import reference
from attend.analysis.decompose import decompose, group_sums, variance_fractions
from attend.analysis.measure import measure
from attend.analysis.readout import dictionary_table
from attend.analysis.words import accuracy_by_length, offsets, word_attention, word_variance
from attend.artifacts import load_analysis, save_analysis
from attend.table_layout import TABLE_COLUMNS
from attend.tokens import EOS, SPECIALS


def balanced_states(width=6, units=5, pad=2):
    """Four sequences over two words a, b where every position holds two a's and two b's,
    χ(a) = c = −χ(b), and Δ cancels at each position and for each word; beyond the valid
    length the states are garbage that must be ignored."""
    rng = np.random.default_rng(3)
    mu, c = rng.normal(size=(width, units)), rng.normal(size=units)
    d, e = rng.normal(size=(width, units)), rng.normal(size=(width, units))
    a, b = 3, 4
    alt = np.array([a if i % 2 == 0 else b for i in range(width)])
    tokens = np.stack([alt, 7 - alt, alt, 7 - alt])
    chi = np.where((tokens == a)[..., None], c, -c)
    delta = np.stack([d, e, -d, -e])
    h = mu[None] + chi + delta
    garbage = rng.normal(size=(4, pad, units)) * 100
    states = np.concatenate([h, garbage], axis=1).astype(np.float64)
    tokens = np.concatenate([tokens, np.zeros((4, pad), int)], axis=1)
    return states, tokens, np.full(4, width), {"mu": mu, "c": c, "delta": delta, "a": a, "b": b}


def test_decomposition_recovers_known_components():
    states, tokens, lengths, known = balanced_states()
    dec = decompose(states, tokens, lengths, vocab_size=5)
    np.testing.assert_allclose(dec.mu[:6], known["mu"], atol=1e-5)
    np.testing.assert_allclose(dec.chi[known["a"]], known["c"], atol=1e-5)
    np.testing.assert_allclose(dec.chi[known["b"]], -known["c"], atol=1e-5)
    np.testing.assert_array_equal(dec.chi[:3], 0)  # specials never occur here
    parts = dec.parts(states)
    np.testing.assert_allclose(parts["delta"][:, :6], known["delta"], atol=1e-5)
    np.testing.assert_array_equal(parts["delta"][:, 6:], 0)  # padding carries nothing
    assert dec.step_count.tolist() == [4] * 6 + [0, 0]
    assert dec.word_count[known["a"]] == dec.word_count[known["b"]] == 12


@pytest.mark.parametrize("onehot_limit", [50_000_000, 0])  # 0: the sort-and-reduceat path
def test_group_sums_matches_bincount(monkeypatch, onehot_limit):
    monkeypatch.setattr(decompose_module, "ONEHOT_LIMIT", onehot_limit)
    rng = np.random.default_rng(0)
    values, groups = rng.normal(size=(500, 3)), rng.integers(0, 7, size=500)
    sums, counts = group_sums(values, groups, 9)
    for j in range(3):
        np.testing.assert_allclose(sums[:, j], np.bincount(groups, values[:, j], minlength=9))
    assert counts.tolist() == np.bincount(groups, minlength=9).tolist()
    # only the listed rows count, and a row may count in two groups
    rows = np.r_[0:100, 0:100]
    sums, counts = group_sums(values, np.r_[np.zeros(100, int), np.ones(100, int)], 2, rows=rows)
    np.testing.assert_allclose(sums, np.stack([values[:100].sum(0)] * 2))
    assert counts.tolist() == [100, 100]


def test_variance_fractions_of_pure_components():
    states, tokens, lengths, known = balanced_states(pad=0)
    only_mu = np.broadcast_to(known["mu"][None], states.shape).copy()
    f = variance_fractions(decompose(only_mu, tokens, lengths, 5))
    assert (
        f["mu"] == pytest.approx(1)
        and f["chi"] == pytest.approx(0, abs=1e-9)
        and f["delta"] == pytest.approx(0, abs=1e-9)
    )
    f = variance_fractions(decompose(states, tokens, lengths, 5))
    assert 0 < f["mu"] < 1 and 0 < f["chi"] < 1 and 0 < f["delta"] < 1


def test_variance_fractions_sum_to_one_on_ragged_data(make_probe):
    p = make_probe(n=80, seed=9)
    for h, tok, n in (
        (p["enc_states"], p["enc_tokens"], p["enc_len"]),
        (p["dec_states"], p["dec_inputs"], p["dec_len"]),
    ):
        f = variance_fractions(decompose(h, tok, n, 9))
        assert f["sum"] == pytest.approx(1.0, abs=1e-6)
        assert min(f["mu"], f["chi"], f["delta"]) > 0.01


def test_nine_terms_sum_to_the_score(make_probe):
    p = make_probe()
    enc = decompose(p["enc_states"], p["enc_tokens"], p["enc_len"], len(p["src_vocab"]))
    dec = decompose(p["dec_states"], p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))
    terms = att.score_terms(dec.parts(p["dec_states"]), enc.parts(p["enc_states"]), p["W_q"], p["W_k"], p["scale"])
    assert terms.shape == (9, 64, 12, 12)
    score = (p["dec_states"] @ p["W_q"]) @ np.swapaxes(p["enc_states"] @ p["W_k"], 1, 2) * p["scale"]
    valid = dec.mask[:, :, None] & enc.mask[:, None, :]
    np.testing.assert_allclose(terms.sum(0)[valid], score[valid], rtol=1e-4, atol=1e-4)
    # and no single term is the whole score
    assert all(np.abs(terms[i][valid] - score[valid]).max() > 1e-2 for i in range(9))
    # the measurements' fast path gives the same terms at the attended positions
    fast = att.attended_terms(dec, enc, p["attention"].argmax(-1), p["W_q"], p["W_k"], p["scale"])
    seq, pos = dec.rows
    s_star = p["attention"][seq, pos].argmax(-1)
    np.testing.assert_allclose(fast, terms[:, seq, pos, s_star], rtol=1e-4, atol=1e-4)


def test_purely_temporal_states_give_mu_mu_share_one(make_probe):
    p = make_probe(noise=0.0)
    mu_e = np.random.default_rng(1).normal(size=(12, 16))
    p["enc_states"] = np.broadcast_to(mu_e[None], p["enc_states"].shape).copy().astype(np.float32)
    p["dec_states"] = np.broadcast_to(mu_e[None], p["dec_states"].shape).copy().astype(np.float32)
    tables, _, _ = measure(p, {}, n_samples=4)
    overall = tables["term_shares"].query("step == -1").set_index("term")["share"]
    assert overall["mu·mu"] == pytest.approx(1.0, abs=1e-4)  # float32 rounding leaves a tiny Δ
    assert overall.drop("mu·mu").abs().max() < 1e-4


def test_input_only_states_give_chi_chi_the_largest_share(make_probe):
    p = make_probe(noise=0.0)
    rng = np.random.default_rng(2)
    chi_e, chi_d = rng.normal(size=(9, 16)), rng.normal(size=(9, 16))
    for chi in (chi_e, chi_d):  # words centred, specials silent: the states carry no position
        chi[3:] -= chi[3:].mean(0)
        chi[:3] = 0
    p["enc_states"] = (chi_e[p["enc_tokens"]] * (p["enc_tokens"] > 0)[..., None]).astype(np.float32)
    p["dec_states"] = (chi_d[p["dec_inputs"]] * (np.arange(12)[None] < p["dec_len"][:, None])[..., None]).astype(
        np.float32
    )
    tables, _, _ = measure(p, {}, n_samples=4)
    overall = tables["term_shares"].query("step == -1").set_index("term")["share"]
    assert overall.idxmax() == "chi·chi"
    assert overall["mu·mu"] < 0.05 and overall["chi·chi"] > 0.3


def test_identical_attention_is_approximated_exactly():
    n, t, s = 50, 10, 10
    diag = np.broadcast_to(np.eye(t, s)[None], (n, t, s)).copy()
    metrics, arrays = att.approximation(diag, np.ones((n, t), bool), np.ones((n, s), bool), np.zeros((t, s)))
    assert metrics["argmax_agreement"] == 1.0 and metrics["tv_distance"] == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(arrays["mean_attention"], np.eye(t, s), atol=1e-6)


def test_content_dependent_attention_is_poorly_approximated():
    n, t, s = 400, 8, 8
    rng = np.random.default_rng(0)
    a = np.zeros((n, t, s))
    a[np.arange(n)[:, None], np.arange(t)[None], rng.integers(0, s, size=(n, t))] = 1.0
    metrics, _ = att.approximation(a, np.ones((n, t), bool), np.ones((n, s), bool), np.zeros((t, s)))
    assert metrics["argmax_agreement"] < 0.3 and metrics["tv_distance"] > 0.7


def test_temporal_only_attention_reproduces_position_driven_attention(make_probe):
    # States that depend on position only: attention is softmax(mu·mu) exactly.
    p = make_probe(noise=0.0)
    rng = np.random.default_rng(4)
    mu_e, mu_d = rng.normal(size=(12, 16)) * 3, rng.normal(size=(12, 16)) * 3
    enc_mask = np.arange(12)[None] < p["enc_len"][:, None]
    dec_mask = np.arange(12)[None] < p["dec_len"][:, None]
    p["enc_states"] = (mu_e[None] * enc_mask[..., None]).astype(np.float32)
    p["dec_states"] = (mu_d[None] * dec_mask[..., None]).astype(np.float32)
    scores = (p["dec_states"] @ p["W_q"]) @ np.swapaxes(p["enc_states"] @ p["W_k"], 1, 2) * p["scale"]
    p["attention"] = (att.masked_softmax(scores, enc_mask[:, None, :]) * dec_mask[..., None]).astype(np.float32)
    metrics = measure(p, {}, n_samples=4)[0]["approximation"].set_index("metric")["value"]
    assert metrics["temporal_example_agreement"] == 1.0


def test_dictionary_read_through_value_and_readout():
    rng = np.random.default_rng(5)
    units, words = 8, 4
    chi = np.zeros((3 + words, units))
    chi[3:] = rng.normal(size=(words, units))
    chi[EOS] = rng.normal(size=units)
    w_v = np.eye(units)
    perm = [2, 0, 3, 1]  # I_i translates to O_perm[i]
    w_c = rng.normal(size=(units, 3 + words)) * 0.01
    for i, j in enumerate(perm):
        w_c[:, 3 + j] = chi[3 + i]
    w_c[:, EOS] = chi[EOS]
    src = np.array(SPECIALS + [f"I_{i}" for i in range(words)])
    tgt = np.array(SPECIALS + [f"O_{i}" for i in range(words)])
    right = {f"I_{i}": f"O_{j}" for i, j in enumerate(perm)}
    counts = np.array([0, 5, 0] + [3] * words)
    table = dictionary_table(chi, counts, w_v, w_c, src, tgt, right)
    assert table["word"].tolist() == [f"I_{i}" for i in range(words)]  # words only, no </s>
    assert table["correct"].tolist() == [1.0] * 4
    assert table["cosine"].min() > 0.99
    wrong = {f"I_{i}": f"O_{i}" for i in range(words)}  # identity is the wrong dictionary here
    assert dictionary_table(chi, counts, w_v, w_c, src, tgt, wrong)["correct"].sum() == 0


def test_word_variance_vanishes_after_removing_mu_when_states_are_mu_plus_chi():
    states, tokens, lengths, known = balanced_states(pad=0)
    clean = states - np.stack([known["delta"]])[0]
    dec = decompose(clean, tokens, lengths, 5)
    table = word_variance("encoder", dec, ["<pad>", "</s>", "<s>", "a", "b"]).set_index("word")
    assert table.loc["a", "variance"] > 0.1
    assert table.loc["a", "variance_without_mu"] == pytest.approx(0, abs=1e-9)
    assert table.loc["b", "count"] == 12


def test_accuracy_by_length():
    targets = np.array([[3, 4, 1, 0], [3, 1, 0, 0], [4, 4, 1, 0]])
    preds = np.array([[3, 4, 1, 0], [4, 1, 0, 0], [4, 4, 1, 9]])  # padding predictions don't count
    df = accuracy_by_length(targets, preds, np.array([3, 2, 3])).set_index("length")
    assert df.loc[3, "seq_acc"] == 1.0 and df.loc[2, "seq_acc"] == 0.0
    assert df.loc[2, "token_acc"] == 0.5 and df.loc[3, "n"] == 2


def test_offsets_follow_the_alignment_when_attention_does():
    n, t, s = 30, 6, 8
    rng = np.random.default_rng(6)
    align = np.minimum(np.arange(t)[None] + rng.integers(0, 3, size=(n, 1)), s - 1)
    a = np.zeros((n, t, s))
    a[np.arange(n)[:, None], np.arange(t)[None], align] = 1.0
    mu_scores = -np.abs(np.arange(t)[:, None] + 1 - np.arange(s)[None])  # peaks one step ahead
    df = offsets(a, align, np.ones((n, t), bool), mu_scores, np.ones(s, bool))
    np.testing.assert_allclose(df["attended_offset"], df["data_offset"])
    assert df["data_offset"].iloc[0] == pytest.approx((align[:, 0]).mean())
    assert (df["temporal_offset"] == 1).all()


def test_word_attention_around_the_attended_position():
    a = np.zeros((1, 2, 6))
    a[0, 0, [1, 2, 3]] = [0.2, 0.7, 0.1]  # attends s=2 (word 5)
    a[0, 1, [4, 5]] = [0.6, 0.4]  # attends s=4 (word 6)
    tokens = np.array([[3, 4, 5, 3, 6, 1]])
    df = word_attention(a, tokens, np.ones((1, 2), bool), [str(i) for i in range(7)])
    row = df[df["word"] == "5"].set_index("offset")["attention"]
    assert row[-1] == pytest.approx(0.2) and row[0] == pytest.approx(0.7) and row[1] == pytest.approx(0.1)
    assert df[df["word"] == "6"].set_index("offset")["attention"][1] == pytest.approx(0.4)


@pytest.mark.parametrize("arch, vocab", [("aed", 6), ("ao", 6), ("aed", 300)])  # 300: a translation-sized vocabulary
def test_vectorised_measurements_match_the_per_sequence_loop(arch, vocab, make_probe):
    p = make_probe(n=40, seed=7, arch=arch, vocab=vocab)
    p["align"] = np.minimum(np.arange(12)[None].repeat(40, 0), p["enc_len"][:, None] - 1).astype(np.int32)
    p["align"][::3, -2:] = -1  # steps without an alignment are left out of alignment_agreement
    loop = reference.measure_loop(p)
    tables, arrays, _ = measure(p, {}, n_samples=4)
    for side in ("enc", "dec"):
        for t, mu in loop[f"mu_{side}"].items():
            np.testing.assert_allclose(arrays[f"{side}_mu"][t], mu, rtol=1e-4, atol=1e-5)
        for w, chi in loop[f"chi_{side}"].items():
            np.testing.assert_allclose(arrays[f"{side}_chi"][w], chi, rtol=1e-4, atol=1e-5)
    shares = tables["term_shares"]
    overall = shares.query("step == -1")
    np.testing.assert_allclose(overall["share"], loop["share"], rtol=1e-4)
    np.testing.assert_allclose(overall["signed_mean"], loop["signed"], rtol=1e-4, atol=1e-5)
    for t, expected in loop["share_by_step"].items():
        np.testing.assert_allclose(arrays["term_share_by_step"][t], expected, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(shares.query("step == @t")["share"], expected, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(arrays["term_signed_by_step"][t], loop["signed_by_step"][t], rtol=1e-4, atol=1e-5)
    approx = tables["approximation"].set_index("metric")["value"]
    # ... plus the attention-quality measures (tests/test_samples_and_quality.py)
    assert set(approx.index) == set(loop["metrics"]) | {"max_attention", "near_diagonal"}
    for name, value in loop["metrics"].items():
        assert approx[name] == pytest.approx(value, abs=1e-6), name


def test_ved_gets_decomposition_only_and_everything_round_trips(tmp_path, make_probe):
    tables, arrays, _ = measure(make_probe(arch="ved"), {}, n_samples=4)
    assert tables["term_shares"].empty and tables["approximation"].empty
    assert set(tables["variance"]["component"]) == {"mu", "chi", "delta", "sum"}
    paths = {name: str(tmp_path / f"{name}.csv") for name in TABLE_COLUMNS}
    save_analysis(tables, arrays, tmp_path / "analysis.npz", paths)
    back = load_analysis(tmp_path / "analysis.npz")
    assert str(back["arch"]) == "ved"
    np.testing.assert_array_equal(back["enc_mu"], arrays["enc_mu"])
    # empty tables keep their header
    assert list(pd.read_csv(paths["term_shares"]).columns) == TABLE_COLUMNS["term_shares"]


def test_attention_model_fills_every_table(make_probe):
    p = make_probe(arch="ao")
    p["align"] = np.minimum(np.arange(12)[None].repeat(64, 0), p["enc_len"][:, None] - 1).astype(np.int32)
    tables, arrays, _ = measure(p, {f"I_{i}": f"O_{i}" for i in range(6)}, n_samples=4)
    for name, cols in TABLE_COLUMNS.items():
        assert not tables[name].empty, name
        assert list(tables[name].columns) == cols, name
    assert arrays["mean_attention"].shape == (12, 12)
    assert arrays["value_points"].shape[1] == p["W_v"].shape[1]


# ------------------------------------------------------------------ multihead, head by head


def _two_head_decompositions():
    from two_heads import two_head_probe

    p, known = two_head_probe()
    enc = decompose(p["enc_states"], p["enc_tokens"], p["enc_len"], len(p["src_vocab"]))
    dec = decompose(p["dec_states"], p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))
    return p, known, enc, dec


def test_two_head_example_has_the_components_it_was_built_with():
    p, known, enc, dec = _two_head_decompositions()
    for parts, side, states in ((enc, "enc", p["enc_states"]), (dec, "dec", p["dec_states"])):
        np.testing.assert_allclose(parts.mu, known[side]["mu"], atol=1e-5)
        np.testing.assert_allclose(parts.chi, known[side]["chi"], atol=1e-5)
        np.testing.assert_allclose(parts.parts(states)["delta"], known[side]["delta"], atol=1e-5)


def test_nine_terms_of_every_head_sum_to_that_heads_score():
    p, known, enc, dec = _two_head_decompositions()
    terms = att.score_terms(
        dec.parts(p["dec_states"]), enc.parts(p["enc_states"]), p["head_W_q"], p["head_W_k"], p["scale"]
    )
    assert terms.shape == (2, 9, len(p["enc_states"]), 5, 5)
    assert np.allclose(terms.sum(1), np.moveaxis(known["scores"], 1, 0), atol=1e-5)
    # head 0 is μ·μ alone, head 1 χ·χ alone
    mu_mu, chi_chi = att.TERMS.index("mu·mu"), att.TERMS.index("chi·chi")
    assert np.allclose(terms[0, mu_mu], known["scores"][:, 0], atol=1e-5)
    assert np.allclose(np.delete(terms[0], mu_mu, 0), 0, atol=1e-5)
    assert np.allclose(terms[1, chi_chi], known["scores"][:, 1], atol=1e-5)
    assert np.allclose(np.delete(terms[1], chi_chi, 0), 0, atol=1e-5)


def test_per_head_shares_of_a_temporal_and_an_input_driven_head():
    """Head 0 reads position only, head 1 the input only: μ·μ shares 1 and 0."""
    p, known, enc, dec = _two_head_decompositions()
    units = att.units(p, dec, None)
    assert [(u.layer, u.head) for u in units] == [(0, 0), (0, 1)] and all(u.queries is dec for u in units)
    heads = [att.unit_breakdown(u, enc, float(p["scale"])) for u in units]
    out = {
        "attended": np.stack([h["attended"] for h in heads], 1),
        "mu_scores": np.stack([h["mu_scores"] for h in heads]),
        "metrics": [h["metrics"] for h in heads],
        "shares": {k: np.stack([h["shares"][k] for h in heads]) for k in ("share", "share_by_step")},
        "mean_attention": np.stack([h["mean_attention"] for h in heads]),
        "temporal_attention": np.stack([h["temporal_attention"] for h in heads]),
    }
    n = len(p["enc_states"])
    assert [h["shares"]["step_count"].tolist() for h in heads] == [[n] * 5] * 2
    assert out["attended"].shape == (n, 2, 5)
    np.testing.assert_array_equal(out["attended"], p["head_attention"].argmax(-1))
    share = out["shares"]["share"]
    assert share.shape == (2, 9) and out["shares"]["share_by_step"].shape == (2, 5, 9)
    mu_mu, chi_chi = att.TERMS.index("mu·mu"), att.TERMS.index("chi·chi")
    assert share[0, mu_mu] == pytest.approx(1, abs=1e-5)
    assert share[1, mu_mu] == pytest.approx(0, abs=1e-5)
    assert share[1, chi_chi] == pytest.approx(1, abs=1e-5)
    np.testing.assert_allclose(share.sum(1), 1, atol=1e-6)
    # each head's terms at its own attended position sum to its own score there
    terms = att.attended_terms(dec, enc, out["attended"], p["head_W_q"], p["head_W_k"], p["scale"])
    seq, pos = dec.rows
    for h in range(2):
        at_star = known["scores"][seq, h, pos, out["attended"][seq, h, pos]]
        assert np.allclose(terms[h].sum(0), at_star, atol=1e-5)
    # the temporal head is reproduced by its μ·μ score alone; the input-driven head is not
    assert out["mu_scores"].shape == (2, 5, 5)
    np.testing.assert_allclose(out["mu_scores"][0], known["scores"][0, 0], atol=1e-5)
    assert out["metrics"][0]["temporal_example_agreement"] == 1.0
    assert out["metrics"][0]["argmax_agreement"] == 1.0
    assert out["mean_attention"].shape == out["temporal_attention"].shape == (2, 5, 5)
    np.testing.assert_allclose(out["mu_scores"][1], 0, atol=1e-5)


def test_per_head_terms_match_single_head_terms_on_random_states(make_probe):
    """Stacked matrices give, head by head, exactly what each head's matrices give alone,
    and the nine terms of every head sum to its score."""
    p = make_probe(n=24, seed=4)
    enc = decompose(p["enc_states"], p["enc_tokens"], p["enc_len"], len(p["src_vocab"]))
    dec = decompose(p["dec_states"], p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))
    rng = np.random.default_rng(5)
    w_q, w_k = (rng.normal(size=(4, 16, 4)).astype(np.float32) / 4 for _ in range(2))
    scale = 0.5
    dec_parts, enc_parts = dec.parts(p["dec_states"]), enc.parts(p["enc_states"])
    terms = att.score_terms(dec_parts, enc_parts, w_q, w_k, scale)
    attended = rng.integers(0, 12, size=(24, 4, 12)) % p["enc_len"][:, None, None]
    fast = att.attended_terms(dec, enc, attended, w_q, w_k, scale)
    valid = dec.mask[:, :, None] & enc.mask[:, None, :]
    seq, pos = dec.rows
    for h in range(4):
        score = (p["dec_states"] @ w_q[h]) @ np.swapaxes(p["enc_states"] @ w_k[h], 1, 2) * scale
        assert np.allclose(terms[h].sum(0)[valid], score[valid], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(terms[h], att.score_terms(dec_parts, enc_parts, w_q[h], w_k[h], scale))
        np.testing.assert_allclose(fast[h], terms[h][:, seq, pos, attended[seq, h, pos]], rtol=1e-4, atol=1e-4)
    shares = att.term_shares(fast, pos, 12)
    single = att.term_shares(fast[2], pos, 12)
    for key in ("share", "share_by_step", "signed", "signed_by_step"):
        np.testing.assert_allclose(shares[key][2], single[key])
    np.testing.assert_array_equal(shares["step_count"], single["step_count"])
    np.testing.assert_allclose(
        att.temporal_scores(dec.mu, enc.mu, w_q, w_k, scale)[1],
        att.temporal_scores(dec.mu, enc.mu, w_q[1], w_k[1], scale),
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match=r"4 heads need an attended position per head"):
        att.attended_terms(dec, enc, attended[:, 0], w_q, w_k, scale)


def test_multihead_probe_runs_through_the_single_head_measurements():
    """Readers of the model as a whole (layer -1, head -1) see the uniform mean over heads:
    the temporal head's μ·μ share 1 and the input head's 0 make 0.5; the heads are layer
    0's; the arrays are those of the head-averaged attention, with each head's own."""
    from two_heads import two_head_probe

    p, _ = two_head_probe()
    tables, arrays, _ = measure(p, {}, n_samples=2)
    shares = tables["term_shares"]
    assert list(shares.columns) == TABLE_COLUMNS["term_shares"] and sorted(shares["head"].unique()) == [-1, 0, 1]
    assert set(map(tuple, shares[["layer", "head"]].drop_duplicates().to_numpy())) == {(-1, -1), (0, 0), (0, 1)}
    shares = shares.assign(head=shares["head"])
    overall = shares.query("step == -1").set_index(["head", "term"])["share"]
    assert overall.loc[-1].sum() == pytest.approx(1, abs=1e-5)
    assert overall.loc[(0, "mu·mu")] == pytest.approx(1, abs=1e-5)
    assert overall.loc[(1, "chi·chi")] == pytest.approx(1, abs=1e-5)
    assert overall.loc[(-1, "mu·mu")] == pytest.approx(0.5, abs=1e-5)
    assert overall.loc[(-1, "chi·chi")] == pytest.approx(0.5, abs=1e-5)
    by_step = shares.query("step >= 0").set_index(["head", "step", "term"])["share"]
    np.testing.assert_allclose(by_step.loc[-1].to_numpy(), (by_step.loc[0] + by_step.loc[1]).to_numpy() / 2, atol=1e-6)
    np.testing.assert_allclose(arrays["term_share_by_step"][:, att.TERMS.index("mu·mu")], 0.5, atol=1e-5)
    approx = tables["approximation"].set_index(["head", "metric"])["value"]
    assert sorted(tables["approximation"]["head"].unique()) == [-1, 0, 1]
    for metric in approx.loc[-1].index:
        assert approx.loc[(-1, metric)] == pytest.approx((approx.loc[(0, metric)] + approx.loc[(1, metric)]) / 2)
    assert approx.loc[(0, "temporal_example_agreement")] == 1.0  # the temporal head: μ·μ alone
    assert {"max_attention", "near_diagonal"} <= set(approx.loc[0].index)
    assert arrays["mean_attention"].shape == (5, 5)
    assert arrays["unit_layer"].tolist() == [0, 0] and arrays["unit_head"].tolist() == [0, 1]
    assert arrays["unit_mean_attention"].shape == (2, 5, 5) and arrays["unit_sample_attention"].shape == (2, 2, 5, 5)
    np.testing.assert_allclose(arrays["unit_mean_attention"].mean(0), arrays["mean_attention"], atol=1e-6)


def test_a_single_head_model_is_its_own_whole(make_probe):
    tables, arrays, _ = measure(make_probe(n=24, seed=2), {}, n_samples=2)
    for name in ("term_shares", "approximation"):
        assert set(tables[name]["layer"]) == set(tables[name]["head"]) == {-1}
    assert "unit_layer" not in arrays


def test_seed_summary_keeps_heads_apart():
    """The head column groups the summary (it is not a value to average over): two seeds'
    head -1 and head 0 rows give one summary row each."""
    from attend.tables import seed_summary

    df = pd.DataFrame(
        {
            "task": "t",
            "arch": "aed",
            "seed": [0, 0, 1, 1],
            "layer": [-1, 0, -1, 0],
            "head": [-1, 0, -1, 0],
            "metric": "argmax_agreement",
            "value": [0.5, 0.1, 0.7, 0.3],
        }
    )
    summary = seed_summary(df).set_index("head")
    assert "head_mean" not in summary.columns and "layer_mean" not in summary.columns and len(summary) == 2
    assert summary.loc[-1, "value_mean"] == pytest.approx(0.6) and summary.loc[0, "value_mean"] == pytest.approx(0.2)
    assert (summary["value_count"] == 2).all()


# ------------------------------------------------------------------ several layers, layer by layer


def test_every_layer_and_head_is_analysed_on_its_own_query_states():
    """The layers form: each (layer, head) unit at its own attended positions, with the
    decomposition of its own layer's query states; its nine terms sum to its score; the
    temporal units have μ·μ share 1, the input units χ·χ share 1; each layer's rows and
    the whole model's are the uniform means."""
    from two_heads import two_layer_probe

    p, known = two_layer_probe()
    enc = decompose(p["enc_states"], p["enc_tokens"], p["enc_len"], len(p["src_vocab"]))
    dec = decompose(p["dec_states"], p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))
    seen = []

    def decompose_queries(states):
        seen.append(states)
        return decompose(states, p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))

    units = att.units(p, dec, decompose_queries)
    assert [(u.layer, u.head) for u in units] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert len(seen) == 2 and units[0].queries is units[1].queries and units[2].queries is not units[0].queries
    np.testing.assert_allclose(units[2].queries.mu, 2 * units[0].queries.mu, atol=1e-5)
    mu_mu, chi_chi = att.TERMS.index("mu·mu"), att.TERMS.index("chi·chi")
    for unit in units:
        out = att.unit_breakdown(unit, enc, float(p["scale"]))
        terms = att.attended_terms(unit.queries, enc, out["attended"], unit.w_q, unit.w_k, float(p["scale"]))
        seq, pos = unit.queries.rows
        score = known["scores"][seq, unit.layer, unit.head, pos, out["attended"][seq, pos]]
        np.testing.assert_allclose(terms.sum(0), score, rtol=1e-4, atol=1e-5)
        temporal = unit.head == unit.layer
        assert out["shares"]["share"][mu_mu if temporal else chi_chi] == pytest.approx(1, abs=1e-5)

    tables, arrays, skipped = measure(p, {}, n_samples=2)
    shares = tables["term_shares"].query("step == -1").set_index(["layer", "head", "term"])["share"]
    assert sorted({(layer, head) for layer, head, _ in shares.index}) == [
        (-1, -1),
        (0, -1),
        (0, 0),
        (0, 1),
        (1, -1),
        (1, 0),
        (1, 1),
    ]
    for layer in (-1, 0, 1):
        head = -1
        assert shares[(layer, head, "mu·mu")] == pytest.approx(0.5, abs=1e-5)
        assert shares[(layer, head, "chi·chi")] == pytest.approx(0.5, abs=1e-5)
    assert shares[(1, 1, "mu·mu")] == pytest.approx(1, abs=1e-5) and shares[(1, 0, "chi·chi")] == pytest.approx(
        1, abs=1e-5
    )
    approx = tables["approximation"].set_index(["layer", "head", "metric"])["value"]
    assert approx[(0, 0, "temporal_example_agreement")] == 1.0 and approx[(1, 1, "temporal_example_agreement")] == 1.0
    assert approx[(0, -1, "argmax_agreement")] == pytest.approx(
        (approx[(0, 0, "argmax_agreement")] + approx[(0, 1, "argmax_agreement")]) / 2
    )
    assert arrays["unit_layer"].tolist() == [0, 0, 1, 1] and arrays["unit_head"].tolist() == [0, 1, 0, 1]
    assert arrays["unit_sample_attention"].shape == (2, 4, 5, 5)
    # the model's μ·μ score is the sum of its units' (the input units contribute nothing)
    np.testing.assert_allclose(
        arrays["temporal_scores"], known["scores"][0, 0, 0] + known["scores"][0, 1, 1], atol=1e-4
    )
    assert "term_shares" not in skipped


def test_measurements_whose_keys_are_absent_are_skipped_saying_why(make_probe):
    p = make_probe(arch="ao")
    for key in ("targets", "predictions", "W_v", "W_c"):
        del p[key]
    tables, arrays, skipped = measure(p, {}, n_samples=3)
    assert skipped == {
        "accuracy_by_length": "no targets and predictions in the probe",
        "alignment_offsets": "no alignment in the probe (the task does not know one)",
        "dictionary": "no value path (W_v, W_c) in the probe",
    }
    for name in skipped:
        assert tables[name].empty and list(tables[name].columns) == TABLE_COLUMNS[name]
    assert not tables["term_shares"].empty and arrays["sample_index"].tolist() == [0, 1, 2]
    _, _, ved = measure(make_probe(arch="ved"), {"I_0": "O_0"}, n_samples=2)
    assert ved["term_shares"] == ved["dictionary"] == "the model has no attention"
    _, _, no_dictionary = measure(make_probe(arch="aed"), {}, n_samples=2)
    assert no_dictionary["dictionary accuracy"].startswith("no task dictionary")
