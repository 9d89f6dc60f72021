"""Synthetic task generators and the dataset encoding/IO contract."""

import json

import numpy as np
import pytest

from attend.artifacts import DataError, load_dataset, save_dataset
from attend.tasks import build_dataset
from attend.tasks.synthetic import make_synthetic
from attend.tokens import EOS, PAD, SOS, decoder_inputs, lengths

SIZES = {"train": 300, "valid": 50, "test": 50}
DATA_CFG = {
    "sizes": SIZES,
    "one_to_one": {"vocab_size": 10, "min_len": 15, "max_len": 25},
    "reverse": {"vocab_size": 10, "min_len": 20, "max_len": 20},
    "sort": {"vocab_size": 30, "min_len": 8, "max_len": 15},
}


def translate(word: str) -> str:
    return "O_" + word[2:]


def test_one_to_one_lengths_and_translation():
    data = make_synthetic("one_to_one", DATA_CFG["one_to_one"], 0, SIZES)
    for split, n in SIZES.items():
        s = data.splits[split]
        assert len(s.src) == n
        assert all(15 <= len(x) <= 25 for x in s.src)
        assert {len(x) for x in s.src} != {15}, "lengths should vary"
        assert all(y == [translate(w) for w in x] for x, y in zip(s.src, s.tgt))


def test_reverse_is_translated_input_reversed():
    data = make_synthetic("reverse", DATA_CFG["reverse"], 1, SIZES)
    s = data.splits["train"]
    assert all(len(x) == 20 for x in s.src)
    assert all(y == [translate(w) for w in reversed(x)] for x, y in zip(s.src, s.tgt))
    # The alignment says where each output word came from.
    assert all([translate(x[i]) for i in a] == y for x, y, a in zip(s.src, s.tgt, s.align))


def test_sort_is_ascending_permutation_without_repeats():
    data = make_synthetic("sort", DATA_CFG["sort"], 2, SIZES)
    s = data.splits["test"]
    for x, y in zip(s.src, s.tgt):
        assert len(set(x)) == len(x), "sort draws words without repetition"
        assert y == sorted(y)
        assert sorted(y) == sorted(translate(w) for w in x)
    assert any(x != sorted(x) for x in s.src), "inputs are not already sorted"


def test_sort_rejects_lengths_beyond_vocabulary():
    with pytest.raises(ValueError, match="max_len"):
        make_synthetic("sort", {"vocab_size": 5, "min_len": 2, "max_len": 8}, 0, SIZES)


def test_encoding_special_tokens_and_decoder_inputs():
    arrays, record = build_dataset("one_to_one", DATA_CFG, 0)
    assert record["src_vocab"][:3] == ["<pad>", "</s>", "<s>"]
    src, tgt = arrays["train_src"], arrays["train_tgt"]
    assert src.shape[1] == 26 and tgt.shape[1] == 26  # 25 words + </s>
    n = lengths(src)
    rows = np.arange(len(src))
    assert (src[rows, n - 1] == EOS).all(), "every source ends with </s>"
    assert (src[np.arange(src.shape[1]) >= n[:, None]] == PAD).all(), "then padding"
    dec = decoder_inputs(tgt)
    assert (dec[:, 0] == SOS).all()
    assert (dec[:, 1:][tgt[:, 1:] != PAD] == tgt[:, :-1][tgt[:, 1:] != PAD]).all()
    assert (dec[tgt == PAD] == PAD).all()
    # ids map back to the dictionary: I_k -> O_k
    src_vocab, tgt_vocab = record["src_vocab"], record["tgt_vocab"]
    valid = (src != PAD) & (src != EOS)
    assert all(record["dictionary"][src_vocab[i]] == tgt_vocab[j] for i, j in zip(src[valid], tgt[valid]))


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, rec = build_dataset("sort", DATA_CFG, 7)
    b, _ = build_dataset("sort", DATA_CFG, 7)
    c, _ = build_dataset("sort", DATA_CFG, 8)
    save_dataset(tmp_path / "a.npz", tmp_path / "a.json", a, rec)
    save_dataset(tmp_path / "b.npz", tmp_path / "b.json", b, rec)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert not np.array_equal(a["train_src"], c["train_src"])


def test_load_dataset_rejects_truncated_and_foreign_files(tmp_path):
    arrays, record = build_dataset("one_to_one", DATA_CFG, 0)
    npz, vocab = tmp_path / "d.npz", tmp_path / "v.json"
    save_dataset(npz, vocab, arrays, record)
    loaded, _ = load_dataset(npz, vocab)
    assert np.array_equal(loaded["test_tgt"], arrays["test_tgt"])

    data = npz.read_bytes()
    npz.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="d.npz.*truncated"):
        load_dataset(npz, vocab)

    save_dataset(npz, vocab, {k: v for k, v in arrays.items() if k != "test_tgt"}, record)
    with pytest.raises(DataError, match="test_tgt"):
        load_dataset(npz, vocab)

    save_dataset(npz, vocab, arrays, record)
    vocab.write_text(json.dumps({**record, "src_vocab": record["src_vocab"][:5]}))
    with pytest.raises(DataError, match="outside the vocabulary"):
        load_dataset(npz, vocab)

    vocab.write_text("{not json")
    with pytest.raises(DataError, match="v.json"):
        load_dataset(npz, vocab)


def test_pickled_arrays_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, train_src=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="evil.npz"):
        load_dataset(path, tmp_path / "none.json")
