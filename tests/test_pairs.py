"""`attend test-pairs`: the written sentence pairs of a translation dataset's test split,
found again in its corpus, to probe an outside model on the pipeline's own sequences."""

from attend.adapters import pairs
from attend.artifacts import save_dataset
from attend.config import defaults
from attend.tasks import build_dataset
from attend.tasks.translation import tokenize
from attend.tokens import SPECIALS, UNK


def _dataset(tmp_path):
    # Every pair's French is shared by two English sentences that differ in one word, and
    # some words are rare (so <unk> in the ids): only the English words tell the pairs apart.
    lines = []
    for i in range(60):
        lines += [
            f"The cat number{i % 7} sleeps.\tLe chat numéro{i} dort.",
            f"The dog number{i % 7} sleeps!\tLe chat numéro{i} dort.",
            f"Tom's word{i} is odd\tLe mot{i} de Tom est bizarre",
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
        words = [vocab[i] for i in ids if vocab[i] not in SPECIALS]
        assert len(words) == len(tokenize(english))
        assert all(w in (t, UNK) for w, t in zip(words, tokenize(english)))
    assert any(UNK in [vocab[i] for i in ids] for ids in arrays["test_src"]), "the test should exercise <unk>"
    assert pairs.main(["data/dataset.npz", "--out", "two.tsv", "--limit", "2"]) == 0
    assert (tmp_path / "two.tsv").read_text(encoding="utf-8").splitlines() == ["\t".join(p) for p in written[:2]]


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
