"""Attention against human word alignments (attend.analysis.alignment, docs/science.md §4.9):
AER on hand-computed cases, both step conventions, the diagonal's rounding, each reading
against the score terms it stands for, and a probe whose attention follows the gold."""

from __future__ import annotations

import numpy as np
import pytest
from gold_links import with_gold_links
from two_heads import two_layer_probe

from attend import probe as probe_format
from attend.analysis import alignment as al
from attend.analysis import attention as att
from attend.analysis.decompose import decompose
from attend.analysis.measure import MeasurementError, decompose_both
from attend.artifacts import DataError
from attend.table_layout import GOLD_TABLE_COLUMNS

NAN = float("nan")


def _grid(shape, sure=(), possible=()):
    """A gold grid from (sequence, target word, source word) triples."""
    links = [*sure, *possible]
    flags = [1] * len(sure) + [0] * len(possible)
    return al.gold_grid(np.array(links, int).reshape(-1, 3), np.array(flags, int), shape)


def _scores(linked, grid, sentences=None):
    """Counts and scores of ``linked`` (N, T_w), the source word of each target word."""
    sentences = np.ones(len(grid), bool) if sentences is None else sentences
    counts = al.link_counts(al.link_grid(np.array(linked), grid.shape), grid, sentences)
    return counts, al.scores(counts)


def _close(got: dict, want: dict):
    for key, value in want.items():
        assert got[key] == pytest.approx(value, nan_ok=True), (key, got[key], value)


# ---------------------------------------------------------------------------- AER by hand


def test_aer_precision_recall_by_hand():
    """S = {(0, 0), (1, 2)}, P = S + {(1, 1), (2, 2)}; predicted A = {(0, 0), (1, 1), (2, 0)}:
    |A∩S| = 1, |A∩P| = 2, AER = 1 − (1 + 2) / (3 + 2) = 0.4, precision 2/3, recall 1/2."""
    grid = _grid((1, 4, 4), sure=[(0, 0, 0), (0, 1, 2)], possible=[(0, 1, 1), (0, 2, 2)])
    counts, scores = _scores([[0, 1, 0, al.NO_LINK]], grid)
    assert counts == {
        "sentences": 1,
        "predicted": 3,
        "sure": 2,
        "possible": 4,
        "predicted_sure": 1,
        "predicted_possible": 2,
    }
    _close(scores, {"aer": 0.4, "precision": 2 / 3, "recall": 0.5})


def test_a_sure_link_counts_as_possible_too():
    """Predicting exactly the sure links scores AER 0 whatever else is possible."""
    grid = _grid((1, 3, 3), sure=[(0, 0, 1), (0, 1, 0)], possible=[(0, 1, 1), (0, 2, 2)])
    _counts, scores = _scores([[1, 0, al.NO_LINK]], grid)
    _close(scores, {"aer": 0.0, "precision": 1.0, "recall": 1.0})


def test_empty_predictions_and_a_sentence_without_links():
    grid = _grid((2, 3, 3), sure=[(0, 0, 0)])  # sentence 1 has no gold link at all
    _counts, nothing = _scores([[al.NO_LINK] * 3, [al.NO_LINK] * 3], grid)
    _close(nothing, {"aer": 1.0, "precision": NAN, "recall": 0.0})  # nothing predicted
    counts, unlinked = _scores([[al.NO_LINK] * 3, [0, 1, al.NO_LINK]], grid, np.array([False, True]))
    assert counts["sure"] == counts["possible"] == 0 and counts["predicted"] == 2
    _close(unlinked, {"aer": 1.0, "precision": 0.0, "recall": NAN})  # predicted, nothing to find
    _counts, neither = _scores([[al.NO_LINK] * 3, [al.NO_LINK] * 3], grid, np.array([False, True]))
    _close(neither, {"aer": NAN, "precision": NAN, "recall": NAN})


def test_a_word_looking_at_the_source_end_gets_no_link():
    """Sentence of S′ = 2 source words (</s> at 2) and T′ = 3 target words: rows put their
    weight on source 0, </s>, 1 (the fourth, </s>'s step, on </s>)."""
    weights = np.zeros((1, 4, 4))
    weights[0, [0, 1, 2, 3], [0, 2, 1, 2]] = 1
    enc_len, dec_len = np.array([3]), np.array([4])
    linked = al.linked_words(weights, enc_len, dec_len, al.CONVENTIONS["predicts"])
    np.testing.assert_array_equal(linked, [[0, al.NO_LINK, 1, al.NO_LINK]])
    grid = _grid((1, 4, 4), sure=[(0, 0, 0), (0, 1, 1), (0, 2, 1)])
    counts, scores = _scores(linked, grid)
    assert counts["predicted"] == 2 and counts["predicted_sure"] == 2  # the </s> word predicts nothing
    _close(scores, {"aer": 1 - 4 / 5, "precision": 1.0, "recall": 2 / 3})


def test_both_conventions_on_a_constructed_case():
    """T′ = 3 target words; decoder step t puts its weight on source position p_t, p = (2, 0,
    3 = </s>, 1). 'predicts' reads word j at step j, 'reads' at step j + 1."""
    weights = np.zeros((1, 5, 5))
    weights[0, [0, 1, 2, 3], [2, 0, 3, 1]] = 1
    weights[0, 4, 0] = 1  # past the sentence: never read
    enc_len, dec_len = np.array([4]), np.array([4])
    predicts = al.linked_words(weights, enc_len, dec_len, al.CONVENTIONS["predicts"])
    reads = al.linked_words(weights, enc_len, dec_len, al.CONVENTIONS["reads"])
    np.testing.assert_array_equal(predicts, [[2, 0, al.NO_LINK, al.NO_LINK, al.NO_LINK]])
    np.testing.assert_array_equal(reads, [[0, al.NO_LINK, 1, al.NO_LINK, al.NO_LINK]])


def test_weight_beyond_the_sentence_is_never_linked():
    weights = np.zeros((1, 2, 5))
    weights[0, 0] = [0.2, 0.1, 0.0, 0.0, 0.7]  # position 4 lies past enc_len 3
    np.testing.assert_array_equal(al.linked_words(weights, np.array([3]), np.array([2]), 0), [[0, al.NO_LINK]])


def test_the_diagonal_rounds_halves_up():
    """j (S′ − 1) / (T′ − 1): S′ = 5, T′ = 3 gives 0, 2, 4; S′ = 2, T′ = 3 gives 0, ½ → 1, 1
    (round-half-even would give 0); T′ = 1 links word 0; S′ = 1 links everything to 0."""
    cases = [((5, 3), [0, 2, 4]), ((2, 3), [0, 1, 1]), ((4, 3), [0, 2, 3]), ((6, 1), [0]), ((1, 4), [0, 0, 0, 0])]
    enc_len = np.array([s + 1 for (s, _), _ in cases])
    dec_len = np.array([t + 1 for (_, t), _ in cases])
    linked = al.diagonal_words(enc_len, dec_len, 5)
    for row, (_, want) in zip(linked, cases):
        np.testing.assert_array_equal(row, want + [al.NO_LINK] * (5 - len(want)))


# ---------------------------------------------------------------------------- the readings


def test_without_mu_mu_and_temporal_only_are_softmaxes_of_the_score_terms(make_probe):
    """Against the nine terms of analysis.attention.score_terms: all nine give the probe's
    attention back, the first alone the temporal-only reading, the other eight the reading
    without μ·μ, each over the sentence's valid source positions."""
    arrays = make_probe(n=24, s=7, t=6, units=8, arch="aed")
    encoder, decoder = decompose_both(arrays)
    (unit,) = att.units(arrays, decoder, None)
    readings = al.unit_readings(unit, encoder, float(arrays["scale"]))
    terms = att.score_terms(
        decoder.parts(arrays["dec_states"]),
        encoder.parts(arrays["enc_states"]),
        arrays["W_q"],
        arrays["W_k"],
        float(arrays["scale"]),
    )
    valid = decoder.mask[:, :, None] & encoder.mask[:, None, :]
    enc_mask = np.broadcast_to(encoder.mask[:, None, :], valid.shape)

    def softmax(scores):
        return att.masked_softmax(scores, enc_mask)[valid]

    np.testing.assert_allclose(softmax(terms.sum(0)), arrays["attention"][valid], atol=1e-5)
    np.testing.assert_allclose(readings["without_mu_mu"][valid], softmax(terms[1:].sum(0)), atol=1e-5)
    np.testing.assert_allclose(readings["temporal_only"][valid], softmax(terms[0]), atol=1e-5)
    a_bar = att.by_length(att.mean_attention(arrays["attention"], decoder.mask))[arrays["enc_len"]]
    np.testing.assert_allclose(readings["mean_attention"][valid], a_bar[valid], atol=1e-6)
    assert not np.allclose(readings["mean_attention"][valid], readings["attention"][valid])


def test_a_temporal_head_and_an_input_head():
    """Units (0, 0) and (1, 1) of the two-layer probe score by μ·μ alone, (0, 1) and (1, 0) by
    χ·χ alone: a temporal unit's temporal-only reading is its attention and it is uniform
    without μ·μ; an input unit's reading without μ·μ is its attention, its temporal-only
    reading uniform."""
    arrays, _known = two_layer_probe()
    encoder, decoder = decompose_both(arrays)
    n_tgt = len(arrays["tgt_vocab"])
    units = att.units(arrays, decoder, lambda s: decompose(s, arrays["dec_inputs"], arrays["dec_len"], n_tgt))
    uniform = 1 / arrays["enc_len"][0]
    for unit in units:
        readings = al.unit_readings(unit, encoder, float(arrays["scale"]))
        temporal = (unit.layer, unit.head) in ((0, 0), (1, 1))
        same, flat = ("temporal_only", "without_mu_mu") if temporal else ("without_mu_mu", "temporal_only")
        np.testing.assert_allclose(readings[same], unit.attention, atol=1e-5)
        np.testing.assert_allclose(readings[flat], uniform, atol=1e-5)
        assert np.abs(unit.attention - uniform).max() > 0.05  # the attention itself is not flat


# ---------------------------------------------------------------------------- a whole probe


def _reverse_gold(arrays) -> dict:
    """Format 2 with gold links: target word j of each sentence to source word S′ − 1 − j
    (mod S′), sure; target word 0 also to source word 0, possible, where that differs."""
    links, sure = [], []
    for n, (s_len, t_len) in enumerate(zip(arrays["enc_len"] - 1, arrays["dec_len"] - 1)):
        for j in range(t_len):
            links.append((n, j, (s_len - 1 - j) % s_len))
            sure.append(1)
        if (s_len - 1) % s_len != 0:
            links.append((n, 0, 0))
            sure.append(0)
    return {
        **arrays,
        "format_version": np.array(2, np.int32),
        "gold_links": np.array(links, np.int32),
        "gold_sure": np.array(sure, np.int32),
    }


def _attention_on(arrays, source_of_word) -> np.ndarray:
    """Attention putting all its weight, at the step predicting target word j, on
    source_of_word(n, j); the </s> step on the source </s>. A probe's attention must be the
    softmax of its own scores, so the states and matrices are made to give it: encoder
    state s is the one-hot of s, decoder state t the one-hot of the position it attends,
    W_q = W_k = I and a scale of 60 (every other weight e^-60). The probe is changed in
    place; its attention is returned."""
    n_seq, width_t, width_s = arrays["attention"].shape
    target = np.zeros((n_seq, width_t), np.int64)
    for n, (s_len, t_len) in enumerate(zip(arrays["enc_len"], arrays["dec_len"])):
        for j in range(t_len - 1):
            target[n, j] = source_of_word(n, j)
        target[n, t_len - 1] = s_len - 1
    enc_mask = np.arange(width_s)[None] < arrays["enc_len"][:, None]
    dec_mask = np.arange(width_t)[None] < arrays["dec_len"][:, None]
    eye = np.eye(width_s, dtype=np.float32)
    arrays["enc_states"] = np.broadcast_to(eye, (n_seq, width_s, width_s)) * enc_mask[..., None]
    arrays["dec_states"] = eye[target] * dec_mask[..., None]
    arrays["W_q"] = arrays["W_k"] = eye
    arrays["scale"] = np.float32(60.0)
    arrays.pop("W_v", None), arrays.pop("W_c", None)
    scores = arrays["dec_states"] @ np.swapaxes(arrays["enc_states"], 1, 2) * 60.0
    z = np.exp(np.where(enc_mask[:, None, :], scores, -np.inf) - scores.max(-1, keepdims=True))
    weights = (z / z.sum(-1, keepdims=True) * dec_mask[..., None]).astype(np.float32)
    return weights


def _row(table, reading, convention="predicts", length_bin="all", layer=al.WHOLE_MODEL, head=al.WHOLE_MODEL):
    rows = table[
        (table.layer == layer)
        & (table["head"] == head)
        & (table.convention == convention)
        & (table.length_bin == length_bin)
        & (table.reading == reading)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_attention_on_the_gold_links_scores_aer_0_and_the_diagonal_does_not(make_probe):
    arrays = _reverse_gold(make_probe(n=40, s=12, t=12, units=8, arch="aed"))
    s_words = arrays["enc_len"] - 1
    arrays["attention"] = _attention_on(arrays, lambda n, j: (s_words[n] - 1 - j) % s_words[n])
    probe_format.validate(arrays)  # a probe as the format has it
    table, _arrays = al.gold_alignment(arrays, max_len=8)
    best = _row(table, "attention")
    assert (best.aer, best.precision, best.recall) == (0.0, 1.0, 1.0)
    assert best.predicted == best.sure == (arrays["dec_len"] - 1).sum()
    assert _row(table, "diagonal").aer > 0.5
    assert _row(table, "attention", convention="reads").aer > 0.5  # one word off


def test_length_bins_split_the_pooled_counts(make_probe):
    arrays = _reverse_gold(make_probe(n=40, s=12, t=12, units=8, arch="aed"))
    table, _arrays = al.gold_alignment(arrays, max_len=8)
    bins = al.length_bins(arrays["enc_len"] - 1, arrays["dec_len"] - 1, 8)
    assert 0 < bins["inside"].sum() < len(arrays["enc_len"])
    counts = ["sentences", "predicted", "sure", "possible", "predicted_sure", "predicted_possible"]
    for reading in al.READINGS:
        for convention in al.CONVENTIONS:
            parts = [_row(table, reading, convention, b)[counts].to_numpy(int) for b in al.LENGTH_BINS]
            np.testing.assert_array_equal(parts[0], parts[1] + parts[2])
    assert _row(table, "diagonal", "predicts", "inside").sentences == bins["inside"].sum()


def test_a_model_of_several_layers_has_rows_per_unit_layer_and_model():
    arrays, _known = two_layer_probe()
    n = len(arrays["enc_len"])
    links = np.array([(i, j, (j + i) % 4) for i in range(n) for j in range(4)], np.int32)
    arrays.update(format_version=np.array(2, np.int32), gold_links=links, gold_sure=np.ones(len(links), np.int32))
    probe_format.validate(arrays)
    table, drawn = al.gold_alignment(arrays, max_len=10)
    groups = list(dict.fromkeys(zip(table.layer, table["head"])))
    assert groups == [(-1, -1), (0, -1), (1, -1), (0, 0), (0, 1), (1, 0), (1, 1)]
    per_group = len(al.CONVENTIONS) * len(al.LENGTH_BINS) * len(al.READINGS)
    assert len(table) == len(groups) * per_group
    assert list(table.columns) == GOLD_TABLE_COLUMNS["gold_alignment"]
    # the model's readings are the uniform mean of its units'; its attention is the probe's
    encoder, decoder = decompose_both(arrays)
    n_tgt = len(arrays["tgt_vocab"])
    units = att.units(arrays, decoder, lambda s: decompose(s, arrays["dec_inputs"], arrays["dec_len"], n_tgt))
    readings = [al.unit_readings(u, encoder, float(arrays["scale"])) for u in units]
    index = int(drawn["gold_sentence"])
    for name in al.WEIGHTS:
        mean = np.mean([r[name][index, :4] for r in readings], axis=0)  # steps 0..3 predict words 0..3
        np.testing.assert_allclose(drawn[f"gold_sentence_{name}"][0], mean, atol=1e-6)
    np.testing.assert_allclose(drawn["gold_sentence_attention"][1], arrays["attention"][index, 1:5], atol=1e-6)


def test_the_drawn_sentence_and_its_arrays(make_probe):
    arrays = _reverse_gold(make_probe(n=40, s=12, t=12, units=8, arch="aed"))
    _table, drawn = al.gold_alignment(arrays, max_len=8)
    grid = al.gold_grid(arrays["gold_links"], arrays["gold_sure"], arrays["attention"].shape)
    inside = al.length_bins(arrays["enc_len"] - 1, arrays["dec_len"] - 1, 8)["inside"]
    index = int(drawn["gold_sentence"])
    assert index == al.drawn_sentence(grid, inside) and inside[index]
    s_len, t_len = arrays["enc_len"][index], arrays["dec_len"][index]
    assert drawn["gold_sentence_links"].shape == (t_len - 1, s_len)
    assert drawn["gold_sentence_temporal_only"].shape == (len(al.CONVENTIONS), t_len - 1, s_len)
    np.testing.assert_array_equal(drawn["gold_sentence_links"], grid[index, : t_len - 1, :s_len])
    np.testing.assert_array_equal(drawn["gold_sentence_target_words"], arrays["targets"][index, : t_len - 1])
    _table, chosen = al.gold_alignment(arrays, max_len=8, sentence=3)
    assert int(chosen["gold_sentence"]) == 3


def test_the_drawn_sentence_has_the_most_sure_links_then_links():
    """Inside the trained length: sentence 0 has six possible links, 1 and 3 three sure and
    one possible, 2 three sure; 4, beyond, has ten sure. Sentence 1 is drawn (3 before 2 for
    its extra link, 1 before 3 for its index); with none inside, 4."""
    grid = np.zeros((5, 4, 4), np.int8)
    grid[0, :2, :3] = al.POSSIBLE
    for n in (1, 2, 3):
        grid[n, [0, 1, 2], [0, 1, 2]] = al.SURE
    grid[[1, 3], 3, 0] = al.POSSIBLE
    grid[4, :3, :3] = al.SURE
    grid[4, 3, 0] = al.SURE
    inside = np.array([True, True, True, True, False])
    assert al.drawn_sentence(grid, inside) == 1
    assert al.drawn_sentence(grid, np.zeros(5, bool)) == 4


def test_a_probe_without_gold_links_or_attention_is_refused(make_probe):
    with pytest.raises(DataError, match=r"lacks \['gold_links'\]"):
        al.gold_alignment(make_probe(n=8, arch="aed"), max_len=10)
    with pytest.raises(DataError, match=r"lacks \['attention', 'gold_links'\]"):
        al.gold_alignment(make_probe(n=8, arch="ved"), max_len=10)
    arrays = _reverse_gold(make_probe(n=24, arch="aed"))
    with pytest.raises(DataError, match=r"sentence 24 is not one of the probe's 24 gold pairs"):
        al.gold_alignment(arrays, max_len=10, sentence=24)
    with pytest.raises(MeasurementError, match=r"the probe holds 8 sequences; the decomposition needs at least 20"):
        al.gold_alignment(_reverse_gold(make_probe(n=8, arch="aed")), max_len=10)


# ---------------------------------------------------------------------------- subwords


def test_subword_links_are_read_at_the_word_level():
    """Source words [s0 s1] [s2], </s> at s3 (enc_word 0 0 1 −1); target words [p0] [p1 p2],
    </s> at p3 (dec_word 0 1 1 −1). Steps 0, 1, 2 look at s1, s2, s0: the word pairs (0, 0),
    (1, 1) and (1, 0) are linked, once each, whatever subword pairs say so."""
    weights = np.zeros((1, 4, 4))
    weights[0, [0, 1, 2, 3], [1, 2, 0, 3]] = 1
    enc_word, dec_word = np.array([[0, 0, 1, -1]]), np.array([[0, 1, 1, -1]])
    linked = al.linked_words(weights, np.array([4]), np.array([4]), al.CONVENTIONS["predicts"])
    links = al.word_links(linked, enc_word, dec_word, (1, 2, 2))
    np.testing.assert_array_equal(links[0], [[True, False], [True, True]])
    grid = _grid((1, 2, 2), sure=[(0, 0, 0), (0, 1, 1)])
    counts = al.link_counts(links, grid, np.ones(1, bool))
    assert (counts["predicted"], counts["predicted_sure"], counts["predicted_possible"]) == (3, 2, 2)
    _close(al.scores(counts), {"aer": 1 - 4 / 5, "precision": 2 / 3, "recall": 1.0})
    # a position of no word (−1: a special token) links nothing: here s1, which step 0 looks at
    special = al.word_links(linked, np.array([[0, -1, 1, -1]]), dec_word, (1, 2, 2))
    np.testing.assert_array_equal(special[0], [[False, False], [True, True]])


def _split_words(arrays: dict) -> dict:
    """``arrays`` (one position one word, gold links, single head) as the probe of a model
    whose every word is two subwords: tokens and states repeated, each source subword
    weighted as its word (the rows renormalised: the argmax stays on the same word, its
    first subword), both subwords of a target word attending as the word did; the word maps ``enc_word``, ``dec_word`` say which word each is."""
    n = len(arrays["enc_len"])
    s2, t2 = 2 * arrays["enc_tokens"].shape[1], 2 * arrays["dec_inputs"].shape[1]
    src_of = np.zeros((n, s2), int)  # the word-level position each subword position comes from
    tgt_of = np.zeros((n, t2), int)
    enc_word, dec_word = np.full((n, s2), -1), np.full((n, t2), -1)
    enc_len, dec_len = 2 * arrays["enc_len"] - 1, 2 * arrays["dec_len"] - 1
    for i in range(n):
        for of, word, length in ((src_of, enc_word, arrays["enc_len"][i]), (tgt_of, dec_word, arrays["dec_len"][i])):
            words = np.repeat(np.arange(length - 1), 2)
            of[i, : len(words)], word[i, : len(words)] = words, words
            of[i, len(words)] = length - 1  # </s>
    rows = np.arange(n)[:, None]
    targets = arrays["targets"][rows, tgt_of]
    weights = arrays["attention"][rows[:, :, None], tgt_of[:, :, None], src_of[:, None, :]]
    weights = weights * (np.arange(s2)[None, None, :] < enc_len[:, None, None])
    weights = weights / np.maximum(weights.sum(-1, keepdims=True), 1e-12)  # each subword as its word, renormalised
    split = {
        **arrays,
        "enc_tokens": arrays["enc_tokens"][rows, src_of],
        "enc_states": arrays["enc_states"][rows, src_of],
        "targets": targets,
        "predictions": targets,
        "dec_inputs": np.concatenate([np.full((n, 1), arrays["dec_inputs"][0, 0]), targets[:, :-1]], 1),
        "dec_states": arrays["dec_states"][rows, tgt_of],
        "attention": weights.astype(np.float32),
        "enc_len": enc_len.astype(np.int32),
        "dec_len": dec_len.astype(np.int32),
        "enc_word": enc_word.astype(np.int32),
        "dec_word": dec_word.astype(np.int32),
    }
    return probe_format.assemble({k: v for k, v in split.items() if k != "format_version"})


def test_a_probe_of_subwords_scores_as_its_words(make_probe):
    """Every word made two subwords that attend as the word did: the attention's and the
    diagonal's links, counts and AER (convention 'predicts') are the word-level probe's,
    in every length bin; the drawn sentence's links cover every subword pair of a linked
    word pair."""
    words = with_gold_links(make_probe(n=30, s=8, t=8, units=8, arch="aed"), seed=3)
    probe_format.validate(words)
    subwords = _split_words(words)
    assert subwords["enc_tokens"].shape[1] == 2 * words["enc_tokens"].shape[1]
    expected, _ = al.gold_alignment(words, max_len=5)
    table, drawn = al.gold_alignment(subwords, max_len=5)
    counts = ["sentences", "predicted", "sure", "possible", "predicted_sure", "predicted_possible", "aer"]
    for reading in ("attention", "diagonal"):
        for length_bin in al.LENGTH_BINS:
            np.testing.assert_allclose(
                _row(table, reading, "predicts", length_bin)[counts].to_numpy(float),
                _row(expected, reading, "predicts", length_bin)[counts].to_numpy(float),
            )
    index = int(drawn["gold_sentence"])
    word_links = al.gold_grid(words["gold_links"], words["gold_sure"], words["attention"].shape)[index]
    enc_word, dec_word = subwords["enc_word"][index], subwords["dec_word"][index]
    for p, q in np.ndindex(drawn["gold_sentence_links"].shape):
        want = word_links[dec_word[p], enc_word[q]] if dec_word[p] >= 0 and enc_word[q] >= 0 else 0
        assert drawn["gold_sentence_links"][p, q] == want
    assert (drawn["gold_sentence_diagonal"][::2] == 2 * _diagonal_of(words, index)).all()  # a word's first subword


def _diagonal_of(arrays, index):
    s, t = arrays["enc_len"][[index]], arrays["dec_len"][[index]]
    return al.diagonal_words(s, t, int(t[0]) - 1)[0]
