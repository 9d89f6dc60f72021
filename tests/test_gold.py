"""The human word alignments (attend.gold_alignment): the real files (447 pairs, their links,
their checksums), obtaining them (a local copy, the search path, a download), one line for
each malformed input, and the encoding a probe needs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from attend import config as cfg
from attend import gold_alignment as gold
from attend import probe as probe_format
from attend.artifacts import DataError
from attend.tokens import EOS, SPECIALS, UNK

REPO = Path(__file__).resolve().parents[1]
# Where the workflow looks first, from the repository root (the schema's default search path).
SHARED = [(REPO / entry).resolve() for entry in gold.default_settings()["search"]]


@pytest.fixture
def shared_gold() -> Path:
    """The shared copy of the gold files; tests that need it are skipped (saying why) without it."""
    for folder in SHARED:
        if all((folder / name).is_file() for name in gold.FILES):
            return folder
    pytest.skip(f"the gold word alignments are not in {[str(f) for f in SHARED]} (the shared data folder)")


def _write(folder: Path, pairs: str, links: str) -> dict:
    """Two gold files in ``folder``; their sha256, as the settings give them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / gold.PAIRS).write_text(pairs, encoding="utf-8")
    (folder / gold.LINKS).write_text(links, encoding="utf-8")
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in gold.FILES}


PAIRS = "the House rose .   ||| la Chambre se lève .  \nyes !   ||| oui !  \n"
LINKS = "1-1 2-2 3p3 3-4 4-5\n2-2 1p1\n"


# ---------------------------------------------------------------------------- the real files


def test_the_real_files(shared_gold):
    """447 pairs, 4,038 sure links and 13,400 possible only (17,438 in P), the checksums the
    schema declares; links counted from 0 as (pair, French word, English word)."""
    data = gold.read_gold(shared_gold)
    assert data.counts() == {"pairs": 447, "sure": 4038, "possible": 17438}
    for name, digest in gold.default_settings()["sha256"].items():
        assert hashlib.sha256((shared_gold / name).read_bytes()).hexdigest() == digest
    assert data.src[2] == ["oh", ",", "oh", "!"] and data.tgt[2] == ["oh", ",", "oh", "!"]
    first = data.links[data.links[:, 0] == 0]
    assert sorted(map(tuple, first.tolist())) == [(0, 0, 0), (0, 1, 1)] and data.sure[data.links[:, 0] == 0].all()
    s_len, t_len = np.array([len(s) for s in data.src]), np.array([len(t) for t in data.tgt])
    assert (data.links[:, 1] < t_len[data.links[:, 0]]).all() and (data.links[:, 2] < s_len[data.links[:, 0]]).all()


def test_the_shared_copy_is_found_by_the_search_path_and_copied(tmp_path, shared_gold):
    settings = gold.default_settings()
    search = [str(tmp_path / "nowhere"), str(shared_gold)]
    info = gold.fetch_gold(tmp_path / "out", None, search, settings["url"], settings["sha256"])
    assert info["via"] == "search" and info["source"] == str(shared_gold.resolve())
    assert info["sha256"] == settings["sha256"]
    for name in gold.FILES:
        assert (tmp_path / "out" / name).read_bytes() == (shared_gold / name).read_bytes()


def test_the_settings_are_the_configs_block():
    """The settings are the config's data.gold_alignment block, its defaults the schema's (the
    only place a default lives): a checksum per file; a malformed checksum or an unknown key
    is refused naming its key path."""
    settings = gold.default_settings()
    assert settings == cfg.defaults(gold.CONFIG_KEY) and set(settings["sha256"]) == set(gold.FILES)
    assert cfg.resolve({})[0]["data"]["gold_alignment"] == settings
    bad = {"data": {"gold_alignment": {"sha256": {**settings["sha256"], gold.LINKS: "abc"}}}}
    with pytest.raises(cfg.ConfigError, match=r"data\.gold_alignment\.sha256\.enfr\.gold: 'abc' does not match"):
        cfg.resolve(bad)
    with pytest.raises(cfg.ConfigError, match=r"data\.gold_alignment: Additional properties .*'path' was unexpected"):
        cfg.resolve({"data": {"gold_alignment": {"path": "gold/"}}})


# ---------------------------------------------------------------------------- parsing


def test_links_are_read_as_pair_french_english_from_0(tmp_path):
    """'i-j' is sure, 'ipj' possible, i the English and j the French word, both from 1."""
    sha = _write(tmp_path, PAIRS, LINKS)
    data = gold.read_gold(tmp_path, sha)
    assert data.src == [["the", "House", "rose", "."], ["yes", "!"]]
    assert data.tgt == [["la", "Chambre", "se", "lève", "."], ["oui", "!"]]
    np.testing.assert_array_equal(
        data.links, [[0, 0, 0], [0, 1, 1], [0, 2, 2], [0, 3, 2], [0, 4, 3], [1, 1, 1], [1, 0, 0]]
    )
    np.testing.assert_array_equal(data.sure, [1, 1, 0, 1, 1, 1, 0])
    assert data.counts() == {"pairs": 2, "sure": 5, "possible": 7}


def test_a_pair_without_links(tmp_path):
    sha = _write(tmp_path, PAIRS, "1-1\n\n")
    data = gold.read_gold(tmp_path, sha)
    assert len(data.src) == 2 and (data.links[:, 0] == 0).all()


BAD = [
    ("no separator", "the House rose .\nyes ||| oui\n", "1-1\n1-1\n", rf"{gold.PAIRS}, line 1: expected"),
    ("an empty side", PAIRS.replace("oui !", "  "), LINKS, rf"{gold.PAIRS}, line 2: expected"),
    ("two separators", PAIRS.replace("yes !", "yes ||| !"), LINKS, rf"{gold.PAIRS}, line 2: expected"),
    ("a link of another form", PAIRS, "1-1 2:2\n1-1\n", rf"{gold.LINKS}, line 1: '2:2' is not a link"),
    ("a word counted from 0", PAIRS, "1-1\n0-1\n", rf"{gold.LINKS}, line 2: '0-1' is not a link"),
    ("an English word past the sentence", PAIRS, "5-1\n1-1\n", r"line 1: '5-1' is not a link .* 1 <= i <= 4"),
    ("a French word past the sentence", PAIRS, "1-1\n1p3\n", r"line 2: '1p3' is not a link .* 1 <= j <= 2"),
    ("a link given twice", PAIRS, "1-1 1p1\n1-1\n", rf"{gold.LINKS}, line 1: the link 1-1 is given twice"),
    ("fewer lines of links than pairs", PAIRS, "1-1\n", r"1 lines of links for 2 sentence pairs"),
]


@pytest.mark.parametrize("what, pairs, links, message", BAD, ids=[b[0] for b in BAD])
def test_a_malformed_line_is_refused_naming_file_and_line(tmp_path, what, pairs, links, message):
    sha = _write(tmp_path, pairs, links)
    with pytest.raises(DataError, match=message) as caught:
        gold.read_gold(tmp_path, sha)
    assert "\n" not in str(caught.value) and str(tmp_path) in str(caught.value)


def test_a_file_that_is_not_utf8(tmp_path):
    _write(tmp_path, PAIRS, LINKS)
    (tmp_path / gold.PAIRS).write_bytes(b"caf\xe9 ||| caf\xe9\n")
    sha = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in gold.FILES}
    with pytest.raises(DataError, match=rf"{gold.PAIRS}: not UTF-8 text"):
        gold.read_gold(tmp_path, sha)


def test_a_changed_or_missing_file_is_refused_by_its_checksum(tmp_path):
    sha = _write(tmp_path, PAIRS, LINKS)
    (tmp_path / gold.LINKS).write_text(LINKS.replace("3p3", "3-3"))
    with pytest.raises(
        DataError, match=rf"{gold.LINKS}: sha256 [0-9a-f]{{64}} is not .*{sha[gold.LINKS]}.*set `local`"
    ):
        gold.read_gold(tmp_path, sha)
    (tmp_path / gold.PAIRS).unlink()
    with pytest.raises(DataError, match=rf"{gold.PAIRS}: missing, a file of the gold word alignments; download"):
        gold.read_gold(tmp_path, sha)
    _write(tmp_path / "other", PAIRS, LINKS)
    with pytest.raises(DataError, match=r"is not the gold word alignments'"):  # checked against the schema's
        gold.read_gold(tmp_path / "other")


# ---------------------------------------------------------------------------- obtaining


def test_local_first_then_search_then_download(tmp_path):
    sha = _write(tmp_path / "mine", PAIRS, LINKS)
    _write(tmp_path / "searched", PAIRS, LINKS)
    url = (tmp_path / "remote").as_uri() + "/"
    _write(tmp_path / "remote", PAIRS, LINKS)
    search = [str(tmp_path / "empty"), str(tmp_path / "searched")]
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / gold.PAIRS).write_text(PAIRS)  # one file only: not a copy of both

    local = gold.fetch_gold(tmp_path / "a", str(tmp_path / "mine"), search, url, sha)
    assert (local["via"], local["source"]) == ("local", str((tmp_path / "mine").resolve()))
    searched = gold.fetch_gold(tmp_path / "b", None, search, url, sha)
    assert (searched["via"], searched["source"]) == ("search", str((tmp_path / "searched").resolve()))
    downloaded = gold.fetch_gold(tmp_path / "c", None, [str(tmp_path / "empty")], url, sha)
    assert (downloaded["via"], downloaded["source"]) == ("download", url)
    for out in "abc":
        assert gold.read_gold(tmp_path / out, sha).counts() == {"pairs": 2, "sure": 5, "possible": 7}


def test_a_download_that_fails_its_checksum_writes_nothing(tmp_path):
    sha = _write(tmp_path / "remote", PAIRS, LINKS)
    (tmp_path / "remote" / gold.LINKS).write_text("1-1\n1-1\n")
    url = (tmp_path / "remote").as_uri()
    with pytest.raises(DataError, match=rf"{gold.LINKS}: sha256 .* retry, or download"):
        gold.fetch_gold(tmp_path / "out", None, [], url, sha)
    assert not (tmp_path / "out" / gold.LINKS).exists()
    with pytest.raises(DataError, match=r"could not download .*nowhere.*no internet access"):
        gold.fetch_gold(tmp_path / "out2", None, [], (tmp_path / "nowhere").as_uri(), sha)


def test_a_local_folder_that_does_not_exist(tmp_path):
    settings = gold.default_settings()
    with pytest.raises(DataError, match=r"missing: the configured local copy .* does not exist; fix the path"):
        gold.fetch_gold(tmp_path / "out", str(tmp_path / "missing"), [], settings["url"], settings["sha256"])


def test_a_local_copy_with_a_wrong_checksum_is_not_copied(tmp_path):
    sha = _write(tmp_path / "mine", PAIRS, LINKS)
    (tmp_path / "mine" / gold.PAIRS).write_text(PAIRS.upper())
    with pytest.raises(DataError, match=rf"mine/{gold.PAIRS}: sha256"):
        gold.fetch_gold(tmp_path / "out", str(tmp_path / "mine"), [], "https://example.org/", sha)
    assert not (tmp_path / "out" / gold.PAIRS).exists()


# ---------------------------------------------------------------------------- for a model


def test_one_gold_token_is_one_model_token(tmp_path):
    """Normalised as the translation task normalises (lower case, NFC, its apostrophes),
    never split; <unk> where the vocabulary lacks the word; </s> after each side."""
    pairs = "The HOUSE ’s rose ||| la Chambre aujourd' hui l'homme\nyes ||| Oui\n"
    sha = _write(tmp_path, pairs, "1-1 2-2 3-2 4p5\n1-1\n")
    data = gold.read_gold(tmp_path, sha)
    src_vocab = SPECIALS + [UNK, "the", "house", "'s", "yes"]
    tgt_vocab = SPECIALS + [UNK, "la", "chambre", "aujourd'hui", "hui", "oui", "l'", "homme"]
    arrays, oov = gold.encode_gold(data, src_vocab, tgt_vocab)
    words = lambda ids, vocab: [vocab[i] for i in ids]  # noqa: E731
    assert words(arrays["enc_tokens"][0], src_vocab) == ["the", "house", "'s", UNK, "</s>"]
    # "aujourd'" + "hui" stay two tokens, "l'homme" one (unknown): the gold's boundaries
    assert words(arrays["targets"][0], tgt_vocab) == ["la", "chambre", UNK, "hui", UNK, "</s>"]
    assert words(arrays["targets"][1][:2], tgt_vocab) == ["oui", "</s>"]
    np.testing.assert_array_equal(arrays["enc_len"], [5, 2])
    np.testing.assert_array_equal(arrays["dec_len"], [6, 2])
    assert arrays["enc_tokens"][1, 1] == EOS and arrays["enc_tokens"][1, 2:].max() == 0
    assert oov["src"] == {"tokens": 5, "unk": 1, "rate": 0.2}
    assert oov["tgt"] == {"tokens": 6, "unk": 2, "rate": 2 / 6}
    np.testing.assert_array_equal(arrays["gold_links"], data.links)
    np.testing.assert_array_equal(arrays["gold_sure"], [1, 1, 1, 0, 1])


def test_a_special_token_in_the_gold_is_a_word_like_any_other(tmp_path):
    sha = _write(tmp_path, "</s> ||| <s>\n", "1-1\n")
    arrays, oov = gold.encode_gold(gold.read_gold(tmp_path, sha), SPECIALS + [UNK], SPECIALS + [UNK])
    assert arrays["enc_tokens"][0, 0] == arrays["targets"][0, 0] == len(SPECIALS)  # <unk>, not </s> or <s>
    assert oov["src"]["rate"] == oov["tgt"]["rate"] == 1.0


def test_a_vocabulary_without_unk_is_refused(tmp_path):
    sha = _write(tmp_path, PAIRS, LINKS)
    with pytest.raises(DataError, match=r"the tgt vocabulary has no <unk>"):
        gold.encode_gold(gold.read_gold(tmp_path, sha), SPECIALS + [UNK], SPECIALS + ["la"])


def test_the_encoding_makes_a_valid_probe_with_gold_links(tmp_path, make_probe):
    """What encode_gold gives, with states and attention of the right shapes, is a format-2
    probe that validates and round-trips."""
    sha = _write(tmp_path, PAIRS, LINKS)
    vocab = SPECIALS + [UNK, "the", "house", "la", "chambre", "."]
    arrays, _oov = gold.encode_gold(gold.read_gold(tmp_path, sha), vocab, vocab)
    n, s = arrays["enc_tokens"].shape
    t = arrays["targets"].shape[1]
    base = make_probe(n=n, s=s, t=t, units=4, arch="aed", vocab=len(vocab) - len(SPECIALS))
    enc_mask = np.arange(s)[None] < arrays["enc_len"][:, None]
    dec_mask = np.arange(t)[None] < arrays["dec_len"][:, None]
    attention = (enc_mask[:, None, :] & dec_mask[:, :, None]) / arrays["enc_len"][:, None, None]
    dec_inputs = np.concatenate([np.full((n, 1), 2), arrays["targets"][:, :-1]], 1) * dec_mask
    probe = {
        **base,
        **arrays,
        "dec_inputs": dec_inputs.astype(np.int32),
        "predictions": arrays["targets"],
        "attention": attention.astype(np.float32),
        "W_q": np.zeros_like(base["W_q"]),  # scores of 0: the uniform attention is their softmax
        "src_vocab": np.array(vocab),
        "tgt_vocab": np.array(vocab),
        "format_version": np.array(probe_format.FORMAT_VERSION, np.int32),
    }
    probe_format.save(tmp_path / "gold.npz", probe)
    back = probe_format.load(tmp_path / "gold.npz")
    np.testing.assert_array_equal(back["gold_links"], arrays["gold_links"])
