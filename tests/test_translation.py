"""The translation task: tokeniser, corpus fetching and checksums, splits and vocabularies."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from attend.artifacts import DataError
from attend.config import defaults
from attend.tasks.base import encode
from attend.tasks.translation import UNK, fetch_corpus, make_translation, tokenize


def settings(**over) -> dict:
    """data.translation with the schema's defaults (no corpus checksum: these corpora are made up)."""
    return {**{k: v for k, v in defaults("data.translation").items() if k != "corpus"}, **over}


CORPUS = Path(__file__).resolve().parents[2] / "shared/data/fra-eng/fra.txt"
CORPUS_SHA256 = "0bb85dbaa1c896844649094d7eaf2e34bee34e84fe362b26ce7e8f2e12aae104"
NNBSP, NBSP = "\u202f", "\u00a0"
URL = "https://www.manythings.org/anki/fra-eng.zip"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_corpus(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{en}\t{fr}\n" for en, fr in pairs), encoding="utf-8")
    return path


def numbered_corpus(tmp_path: Path, n: int = 200) -> Path:
    """n pairs sharing common words, each with one word of its own on both sides."""
    pairs = [(f"I see the cat number{i} .", f"Je vois le chat numéro{i} .") for i in range(n)]
    return write_corpus(tmp_path / "fra.txt", pairs)


# ---------------------------------------------------------------------------- tokeniser


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("Go.", ["go", "."]),
        ("Hello, Tom!", ["hello", ",", "tom", "!"]),
        (f"Qui{NNBSP}?", ["qui", "?"]),
        (f"Au feu{NNBSP}!", ["au", "feu", "!"]),
        (f"Ça alors{NBSP}!", ["ça", "alors", "!"]),
        (f"Attention{NBSP}: chien{NNBSP};", ["attention", ":", "chien", ";"]),
        ("Va !", ["va", "!"]),
        ("L'homme qu'il a vu.", ["l'", "homme", "qu'", "il", "a", "vu", "."]),
        ("J’ai gagné.", ["j'", "ai", "gagné", "."]),  # typographic apostrophe
        ("Jusqu'à aujourd'hui, quelqu'un", ["jusqu'", "à", "aujourd'hui", ",", "quelqu'un"]),
        ("I don't know Tom's dog.", ["i", "don't", "know", "tom's", "dog", "."]),
        ("Arrête-toi ! Est-ce vrai ?", ["arrête-toi", "!", "est-ce", "vrai", "?"]),
        (f"«{NNBSP}Oui{NNBSP}», dit-il…", ["«", "oui", "»", ",", "dit-il", "…"]),
        ('He said "no" (twice)...', ["he", "said", '"', "no", '"', "(", "twice", ")", "..."]),
        ("At 2:30, 10,000 people paid 5%.", ["at", "2:30", ",", "10,000", "people", "paid", "5", "%", "."]),
        ("ÉTÉ", ["été"]),
        ("<unk> <s>", ["<", "unk", ">", "<", "s", ">"]),  # can never produce a special token
        ("", []),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_tokenize_treats_french_spaces_as_whitespace():
    for space in (NNBSP, NBSP, "\u2009", "\u200b"):
        assert tokenize(f"Vraiment{space}?{space}Oui{space}!") == ["vraiment", "?", "oui", "!"]


# ---------------------------------------------------------------------------- corpus


def test_fetch_local_copy_verifies_and_copies(tmp_path):
    src = numbered_corpus(tmp_path, 5)
    data = src.read_bytes()
    dest = tmp_path / "out" / "fra.txt"
    info = fetch_corpus(dest, local=str(src), search=[], url=URL, sha256=sha(data))
    assert info["sha256"] == sha(data) and info["bytes"] == len(data)
    assert info["source"] == str(src.resolve())
    assert dest.read_bytes() == data and not dest.is_symlink()
    assert [p.name for p in dest.parent.iterdir()] == ["fra.txt"]  # no temporary left behind


def test_fetch_prefers_local_then_first_existing_search_path(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("A\tA\n")
    b.write_text("B\tB\n")
    dest = tmp_path / "dest.txt"
    info = fetch_corpus(dest, None, [tmp_path / "missing.txt", b, a], URL, sha(b.read_bytes()))
    assert info["source"] == str(b.resolve()) and dest.read_text() == "B\tB\n"
    info = fetch_corpus(dest, str(a), [b], URL, sha(a.read_bytes()))
    assert info["source"] == str(a.resolve()) and dest.read_text() == "A\tA\n"


def test_checksum_mismatch_raises_and_leaves_no_dest(tmp_path):
    src = numbered_corpus(tmp_path, 5)
    dest = tmp_path / "out" / "fra.txt"
    with pytest.raises(DataError) as err:
        fetch_corpus(dest, local=str(src), search=[], url=URL, sha256="0" * 64)
    msg = str(err.value)
    assert str(src) in msg and "0" * 64 in msg and sha(src.read_bytes()) in msg
    assert "translation: corpus: local:" in msg
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_truncated_corpus_fails_checksum_cleanly(tmp_path):
    full = numbered_corpus(tmp_path, 50).read_bytes()
    half = tmp_path / "half.txt"
    half.write_bytes(full[: len(full) // 2])
    dest = tmp_path / "out" / "fra.txt"
    with pytest.raises(DataError, match="sha256 mismatch") as err:
        fetch_corpus(dest, local=None, search=[half], url=URL, sha256=sha(full))
    assert f"{len(full) // 2:,} bytes" in str(err.value)
    assert not dest.exists()


def test_missing_local_path_names_the_config_key(tmp_path):
    with pytest.raises(DataError) as err:
        fetch_corpus(
            tmp_path / "dest.txt", local=str(tmp_path / "nowhere.txt"), search=[CORPUS], url=URL, sha256=CORPUS_SHA256
        )
    assert "nowhere.txt" in str(err.value) and "translation: corpus: local:" in str(err.value)
    assert not (tmp_path / "dest.txt").exists()


def test_download_failure_says_to_use_a_local_copy(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    dest = tmp_path / "out" / "fra.txt"
    with pytest.raises(DataError) as err:
        fetch_corpus(dest, local=None, search=[tmp_path / "missing.txt"], url=URL, sha256=CORPUS_SHA256)
    msg = str(err.value)
    assert URL in msg and "internet" in msg and "translation: corpus: local:" in msg
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def fake_download(monkeypatch, payload: bytes) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: io.BytesIO(payload))


def test_download_extracts_fra_txt_from_the_zip(tmp_path, monkeypatch):
    text = b"Go.\tVa !\nHi.\tSalut !\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("__MACOSX/fra-eng/._fra.txt", b"resource fork")
        zf.writestr("fra-eng/fra.txt", text)
        zf.writestr("fra-eng/_about.txt", b"about")
    fake_download(monkeypatch, buf.getvalue())
    dest = tmp_path / "out" / "fra.txt"
    info = fetch_corpus(dest, local=None, search=[], url=URL, sha256=sha(text))
    assert dest.read_bytes() == text and info == {
        "source": URL,
        "via": "download",
        "sha256": sha(text),
        "bytes": len(text),
    }
    assert [p.name for p in dest.parent.iterdir()] == ["fra.txt"]


def test_truncated_download_raises_and_leaves_no_dest(tmp_path, monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fra.txt", b"Go.\tVa !\n" * 1000)
    fake_download(monkeypatch, buf.getvalue()[: len(buf.getvalue()) // 2])
    dest = tmp_path / "out" / "fra.txt"
    with pytest.raises(DataError, match="not a readable zip"):
        fetch_corpus(dest, local=None, search=[], url=URL, sha256=CORPUS_SHA256)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_shared_corpus_checksum_matches(tmp_path):
    if not CORPUS.exists():
        pytest.skip(f"the shared translation corpus is not at {CORPUS} (the shared data folder beside the repo)")
    assert sha(CORPUS.read_bytes()) == CORPUS_SHA256
    info = fetch_corpus(tmp_path / "fra.txt", None, [CORPUS], URL, CORPUS_SHA256)
    assert info["bytes"] == 11_669_748


# ---------------------------------------------------------------------------- task


def all_words(seqs):
    return {w for s in seqs for w in s}


def test_vocabularies_come_from_the_train_split_only(tmp_path):
    data = make_translation(numbered_corpus(tmp_path), settings(min_count=1), seed=0)
    assert data.src_words[0] == UNK and data.tgt_words[0] == UNK
    train, test = data.splits["train"], data.splits["test"]
    # With min_count 1 the vocabulary is exactly the training words (no <unk> there) ...
    assert all_words(train.src) == set(data.src_words) - {UNK}
    assert all_words(train.tgt) == set(data.tgt_words) - {UNK}
    # ... and each test pair's own numbered word, seen only in test, became <unk>.
    assert all(s[4] == UNK and t[4] == UNK for s, t in zip(test.src, test.tgt))
    assert all(s[:4] == ["i", "see", "the", "cat"] for s in test.src)
    assert data.meta["unk_rate"]["train"] == {"src": 0.0, "tgt": 0.0}
    assert data.meta["unk_rate"]["test"]["src"] == pytest.approx(1 / 6, abs=1e-6)
    assert data.dictionary == {}
    encode(data)  # every word is in the vocabulary, even without an unk fallback


def test_min_count_maps_rare_training_words_to_unk(tmp_path):
    data = make_translation(numbered_corpus(tmp_path), settings(min_count=2), seed=0)
    assert data.src_words == [UNK, ".", "cat", "i", "see", "the"]  # by count, then alphabetically
    assert all(s[4] == UNK for split in data.splits.values() for s in split.src)
    assert data.meta["unk_rate"]["train"]["src"] == pytest.approx(1 / 6, abs=1e-6)


def test_length_filter_and_counts(tmp_path):
    lines = [" ".join(["a"] * n) + "\t" + " ".join(["b"] * m) for n in range(1, 8) for m in range(1, 8)]
    lines += ["a\tb"] * 3  # duplicates of the 1 x 1 pair
    lines += ["\tb", "no French\t ", "just one field"]  # malformed
    lines += ["x\ty\tattribution"]  # a third column is allowed
    corpus = tmp_path / "fra.txt"
    corpus.write_text("\n".join(lines) + "\n")
    data = make_translation(corpus, settings(max_len=4, min_count=1), seed=1)
    counts = data.meta["counts"]
    assert counts["lines"] == 49 + 3 + 3 + 1
    assert counts["malformed"] == 3
    assert counts["pairs"] == 49 + 3 + 1
    assert counts["after_dedupe"] == 49 + 1
    assert counts["after_length_filter"] == 4 * 4 + 1 == counts["after_sample"]
    assert (counts["train"], counts["valid"], counts["test"]) == (13, 2, 2)
    for split in data.splits.values():
        assert all(1 <= len(s) <= 4 for s in split.src + split.tgt)
    assert data.meta["corpus_sha256"] == sha(corpus.read_bytes())
    assert set(data.src_words) <= {UNK, "a", "x"} and data.meta["src_vocab_size"] == len(data.src_words)


def test_deterministic_by_seed_and_sample(tmp_path):
    corpus = numbered_corpus(tmp_path, 300)
    cfg = settings(sample=100, min_count=1, valid_fraction=0.2, test_fraction=0.1)
    a = make_translation(corpus, cfg, seed=3)
    b = make_translation(corpus, cfg, seed=3)
    c = make_translation(corpus, cfg, seed=4)
    assert a.splits == b.splits and a.src_words == b.src_words and a.meta == b.meta
    assert a.splits["train"].src != c.splits["train"].src
    counts = a.meta["counts"]
    assert counts["after_sample"] == 100
    assert (counts["train"], counts["valid"], counts["test"]) == (70, 20, 10)
    # every sampled pair lands in exactly one split (their numbered words are all distinct)
    train_words = all_words(a.splits["train"].src)
    assert all(s[4] == UNK for name in ("valid", "test") for s in a.splits[name].src)
    assert len({s[4] for s in a.splits["train"].src}) == 70 and UNK not in train_words


def test_sample_larger_than_the_corpus_keeps_everything(tmp_path):
    data = make_translation(numbered_corpus(tmp_path, 30), settings(sample=1000), seed=0)
    assert data.meta["counts"]["after_sample"] == 30


def test_bad_inputs_raise(tmp_path):
    corpus = numbered_corpus(tmp_path, 30)
    with pytest.raises(DataError, match="differs from the configured"):
        make_translation(corpus, settings(corpus={"sha256": "0" * 64}), seed=0)
    with pytest.raises(DataError, match="too few"):
        make_translation(write_corpus(tmp_path / "tiny.txt", [("a", "b"), ("c", "d")]), settings(), seed=0)
    with pytest.raises(DataError, match="missing"):
        make_translation(tmp_path / "absent.txt", settings(), seed=0)
    (tmp_path / "latin1.txt").write_bytes("Été\tÉté\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        make_translation(tmp_path / "latin1.txt", settings(), seed=0)


def test_real_corpus_counts():
    if not CORPUS.exists():
        pytest.skip(f"the shared translation corpus is not at {CORPUS} (the shared data folder beside the repo)")
    data = make_translation(
        CORPUS, settings(max_len=10, min_count=2, tgt_vocab_cap=None, corpus={"sha256": CORPUS_SHA256}), seed=0
    )
    counts = data.meta["counts"]
    assert counts["lines"] == counts["pairs"] == 167_130 and counts["malformed"] == 0
    assert counts["after_length_filter"] == 134_646
    assert (counts["train"], counts["valid"], counts["test"]) == (107_716, 13_465, 13_465)
    assert (len(data.src_words), len(data.tgt_words)) == (7_621, 12_323)
    assert all(r["src"] < 0.02 and r["tgt"] < 0.03 for r in data.meta["unk_rate"].values())


# ---------------------------------------------------------------------------- vocabulary cap


def capped_corpus(tmp_path: Path) -> Path:
    """French words by frequency: "le" (every pair) > "chat" (2 in 3) > "noir" (1 in 3)."""
    pairs = [(f"the cat {i}", "le chat" if i % 3 else "le noir") for i in range(60)]
    pairs = [(en, fr + (" chat" if i % 3 == 1 else "")) for i, (en, fr) in enumerate(pairs)]
    return write_corpus(tmp_path / "fra.txt", pairs)


def test_vocabulary_cap_keeps_the_most_frequent_words_and_maps_the_rest_to_unk(tmp_path):
    data = make_translation(capped_corpus(tmp_path), settings(min_count=1, tgt_vocab_cap=3), seed=0)
    assert data.tgt_words == [UNK, "chat", "le"]  # "noir" is the rarest
    for split in data.splits.values():
        assert all(w in data.tgt_words for t in split.tgt for w in t)
        assert any(UNK in t for t in split.tgt)
    arrays, _record = encode(data, UNK)
    # The test references keep the corpus's words, in the order of the test arrays.
    refs = [r.split() for r in arrays["test_reference"]]
    assert len(refs) == len(data.splits["test"].tgt) == len(arrays["test_written"])
    for ref, tgt in zip(refs, data.splits["test"].tgt):
        assert [w if w in data.tgt_words else UNK for w in ref] == tgt
    assert "noir" in {w for r in refs for w in r} and UNK not in {w for r in refs for w in r}


def test_coverage_filter_shapes_the_training_split_only(tmp_path):
    cfg = settings(min_count=1, tgt_vocab_cap=3, min_coverage=1.0)
    full = make_translation(capped_corpus(tmp_path), settings(min_count=1, tgt_vocab_cap=3), seed=0)
    data = make_translation(capped_corpus(tmp_path), cfg, seed=0)
    assert all(UNK not in t for t in data.splits["train"].tgt)  # only fully covered pairs
    assert data.meta["counts"]["train_after_coverage"] == len(data.splits["train"].tgt) < len(full.splits["train"].tgt)
    for name in ("valid", "test"):  # never the held-out splits
        assert data.splits[name] == full.splits[name]
    with pytest.raises(DataError, match="min_coverage"):
        make_translation(capped_corpus(tmp_path), settings(min_count=1, tgt_vocab_cap=1, min_coverage=1.0), seed=0)


def test_written_references_are_the_corpus_lines(tmp_path):
    corpus = write_corpus(tmp_path / "fra.txt", [(f"Go {i}.", f"L’homme n°{i}{NNBSP}!") for i in range(40)])
    arrays, _ = encode(make_translation(corpus, settings(min_count=1), seed=0), UNK)
    for written, ref in zip(arrays["test_written"], arrays["test_reference"]):
        assert written.startswith("L’homme n°") and written.endswith(f"{NNBSP}!")
        assert tokenize(written) == ref.split()
