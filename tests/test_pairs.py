"""`attend test-pairs`: the written sentence pairs of a translation dataset's split (the
test split unless --split), found again in its corpus, to probe (or train) an outside
model on the pipeline's own sequences."""

from attend.adapters import pairs
from attend.artifacts import save_dataset
from attend.config import defaults
from attend.tasks import build_dataset
from attend.tasks.translation import tokenize
from attend.tokens import SPECIALS, UNK


def _dataset(tmp_path):
    # Every pair's French is shared by two English sentences that differ in one word, and
    # some words are rare (so <unk> in the ids): only the English words tell the pairs apart.
    # "I see a cat." and "I see a lynx{i}." share their French, and "cat" is a word of the
    # vocabulary: the ids tell them apart ("cat" against <unk>), a <unk> matching any word
    # would not. The "Tom's word{i}" pairs all have the same ids (<unk> on both sides).
    lines = []
    for i in range(60):
        lines += [
            f"The cat number{i % 7} sleeps.\tLe chat numéro{i} dort.",
            f"The dog number{i % 7} sleeps!\tLe chat numéro{i} dort.",
            f"Tom's word{i} is odd\tLe mot{i} de Tom est bizarre",
            f"I see a cat.\tJe vois un félin{i}.",
            f"I see a lynx{i}.\tJe vois un félin{i}.",
        ]
    corpus = tmp_path / "fra.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = {"translation": {**{k: v for k, v in defaults("data.translation").items() if k != "corpus"}, "min_count": 2}}
    arrays, record = build_dataset("translation", cfg, 0, corpus)
    record["meta"]["corpus"] = "fra.txt"  # as the workflow records it: relative to where it ran
    save_dataset(tmp_path / "data" / "dataset.npz", tmp_path / "data" / "vocab.json", arrays, record)
    return arrays, record, corpus, lines


def test_the_test_split_is_found_again_in_the_corpus(tmp_path, monkeypatch):
    arrays, record, _corpus, lines = _dataset(tmp_path)
    monkeypatch.chdir(tmp_path)  # the corpus the dataset records, relative to here
    assert pairs.main(["data/dataset.npz", "--out", "pairs.tsv"]) == 0
    written = [line.split("\t") for line in (tmp_path / "pairs.tsv").read_text(encoding="utf-8").splitlines()]
    assert len(written) == len(arrays["test_src"]) > 0
    corpus_pairs = {tuple(line.split("\t")) for line in lines}
    vocab = record["src_vocab"]
    for (english, french), ids, french_written in zip(written, arrays["test_src"], arrays["test_written"]):
        assert (english, french) in corpus_pairs and french == str(french_written)
        assert _ids(english, vocab) == [i for i in ids if i >= len(SPECIALS)]  # exactly the dataset's row
    assert any(UNK in [vocab[i] for i in ids] for ids in arrays["test_src"]), "the test should exercise <unk>"
    assert any(english.startswith("I see a lynx") for english, _ in written), "the test should exercise a rare word"
    assert pairs.main(["data/dataset.npz", "--out", "two.tsv", "--limit", "2"]) == 0
    assert (tmp_path / "two.tsv").read_text(encoding="utf-8").splitlines() == ["\t".join(p) for p in written[:2]]


def _ids(sentence: str, vocab: list[str]) -> list[int]:
    """A sentence's ids as the dataset writes them: its words through the vocabulary."""
    index = {w: i for i, w in enumerate(vocab)}
    return [index.get(w, index[UNK]) for w in tokenize(sentence)]


def test_every_split_is_found_again_and_no_test_pair_is_written_for_another(tmp_path):
    arrays, record, corpus, lines = _dataset(tmp_path)
    data = tmp_path / "data"
    found = pairs.dataset_pairs(data / "dataset.npz", data / "vocab.json", corpus)
    corpus_pairs = {tuple(line.split("\t")) for line in lines}
    for split in ("train", "valid", "test"):
        assert len(found[split]) == len(arrays[f"{split}_src"]) > 0
        for (english, french), src, tgt in zip(found[split], arrays[f"{split}_src"], arrays[f"{split}_tgt"]):
            assert (english, french) in corpus_pairs
            assert _ids(english, record["src_vocab"]) == [i for i in src if i >= len(SPECIALS)]
            assert _ids(french, record["tgt_vocab"]) == [i for i in tgt if i >= len(SPECIALS)]
    everything = found["train"] + found["valid"] + found["test"]
    assert len(set(everything)) == len(everything)  # each corpus pair given to one row at most
    toms = [pair for pair in found["train"] if pair[0].startswith("Tom's")]
    assert len(toms) > 1, "the test should exercise rows that share their ids"
    assert pairs.split_pairs(data / "dataset.npz", data / "vocab.json", corpus, "train", limit=5) == found["train"][:5]
    assert (
        pairs.main(
            [str(data / "dataset.npz"), "--corpus", str(corpus), "--split", "valid", "--out", str(tmp_path / "v.tsv")]
        )
        == 0
    )
    written = (tmp_path / "v.tsv").read_text(encoding="utf-8").splitlines()
    assert written == ["\t".join(pair) for pair in found["valid"]]


def test_another_corpus_is_refused_in_one_line(tmp_path, capsys):
    _dataset(tmp_path)
    other = tmp_path / "other.txt"
    other.write_text("Hello.\tBonjour.\n", encoding="utf-8")
    assert (
        pairs.main([str(tmp_path / "data" / "dataset.npz"), "--corpus", str(other), "--out", str(tmp_path / "p.tsv")])
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "test pair 0" in err[0] and "is not in this corpus" in err[0]
    assert not (tmp_path / "p.tsv").exists()
