"""The analysis in bounded memory: a probe carrying a tokenizer's whole vocabulary on both
sides is analysed without any vocabulary × vocabulary array, and the memory-saving paths
give the numbers the direct ones give."""

import tracemalloc

import numpy as np

from attend.analysis import attention as att
from attend.analysis import readout
from attend.analysis.decompose import decompose
from attend.analysis.measure import measure
from attend.tokens import SPECIALS

BIG_VOCAB = 60_000  # opus-mt-en-fr's is 59,514 words


def _decompositions(p):
    enc = decompose(p["enc_states"], p["enc_tokens"], p["enc_len"], len(p["src_vocab"]))
    dec = decompose(p["dec_states"], p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"]))
    return dec, enc


def test_pair_products_by_rows_equal_the_table(make_probe, monkeypatch):
    p = make_probe()
    dec, enc = _decompositions(p)
    attended = p["attention"].argmax(-1)
    table = att.attended_terms(dec, enc, attended, p["W_q"], p["W_k"], p["scale"])
    monkeypatch.setattr(att, "MAX_PAIR_TABLE", 0)
    rows = att.attended_terms(dec, enc, attended, p["W_q"], p["W_k"], p["scale"])
    np.testing.assert_allclose(rows, table, rtol=1e-5, atol=1e-5)  # float32 states: float32 sums


def test_by_length_for_the_lengths_present_equals_every_length():
    rows = np.random.default_rng(0).normal(size=(5, 7))
    lengths = np.array([0, 3, 7])
    for softmax in (False, True):
        np.testing.assert_array_equal(att.by_length(rows, softmax, lengths), att.by_length(rows, softmax)[lengths])


def test_read_out_in_chunks_equals_at_once(monkeypatch):
    rng = np.random.default_rng(0)
    values, w_c = rng.normal(size=(50, 8)), rng.normal(size=(8, 30))
    whole = readout.read_out(values, w_c, [0, 2])
    monkeypatch.setattr(readout, "MAX_LOGITS", 61)  # two rows of 30 logits at a time
    np.testing.assert_array_equal(readout.read_out(values, w_c, [0, 2]), whole)
    assert not np.isin(whole, [0, 2]).any()


def test_a_probe_with_a_whole_tokenizer_vocabulary_is_analysed_in_little_memory(make_probe):
    """60,000 words a side: a V × V table of float64 would be 28.8 GB; the measurement stays
    under 1 GB (numpy's allocations, traced)."""
    p = make_probe()
    for key, prefix in (("src_vocab", "I"), ("tgt_vocab", "O")):
        p[key] = np.array(SPECIALS + [f"{prefix}_{i}" for i in range(BIG_VOCAB - len(SPECIALS))])
    tracemalloc.start()
    try:
        tables, arrays, _ = measure(p, {}, n_samples=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 30, f"peak {peak / 2**30:.1f} GiB"
    assert len(tables["dictionary"]) > 0 and arrays["enc_chi"].shape[0] == BIG_VOCAB


def test_the_by_length_approximation_of_long_sequences_stays_in_bounded_memory():
    """T = S = 2,000: tabulating every length up to S asked for a (2001, 2000, 2000) float64
    array (59.6 GiB); the lengths present only, a few of them here."""
    rng = np.random.default_rng(0)
    n, width = 3, 2000
    enc_len = np.array([2000, 1500, 1500])
    enc_mask = np.arange(width)[None] < enc_len[:, None]
    dec_mask = np.ones((n, width), bool)
    scores = rng.normal(size=(n, width, width)).astype(np.float32)
    attention = att.masked_softmax(scores, enc_mask[:, None, :]).astype(np.float32)
    tracemalloc.start()
    try:
        metrics, _ = att.approximation(attention, dec_mask, enc_mask, rng.normal(size=(width, width)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 << 30, f"peak {peak / 2**30:.1f} GiB"
    assert 0 <= metrics["argmax_agreement"] <= 1


def test_a_layer_holds_its_copies_of_the_states_only_while_its_heads_are_measured(make_probe):
    """A Transformer's layers are measured one at a time: each layer's float32 and float64
    copies of its query states (at opus-mt's size 0.5 GB a layer) are dropped once its last
    head is done, and kept between its heads (made once a layer, not once a head)."""
    p = make_probe()
    layers = [
        decompose(p["dec_states"] * (1 + i), p["dec_inputs"], p["dec_len"], len(p["tgt_vocab"])) for i in range(2)
    ]
    units = [
        att.Unit(layer, head, layers[layer], p["W_q"], p["W_k"], p["attention"]) for layer in (0, 1) for head in (0, 1)
    ]
    cached = []
    for unit in att.one_layer_at_a_time(units):
        made = "flat64" in unit.queries.__dict__
        assert unit.queries.flat64.dtype == np.float64  # what terms_error reads
        cached.append((unit.layer, unit.head, made, ["flat64" in q.__dict__ for q in layers]))
    assert cached == [
        (0, 0, False, [True, False]),
        (0, 1, True, [True, False]),  # the second head reuses the first's copy
        (1, 0, False, [False, True]),  # layer 0's copies are gone
        (1, 1, True, [False, True]),
    ]
    assert not any("flat" in q.__dict__ or "flat64" in q.__dict__ for q in layers)
