"""The written sentence pairs of this project's translation test split, to probe an
outside translation model on the very sequences the pipeline probes:

    attend test-pairs results/data/translation/seed0/dataset.npz --out pairs.tsv

The dataset keeps the test split as word ids (rare English words are ``<unk>``) and its
French as written (``test_written``), not the English as written. Each test pair is found
again in the corpus (fra.txt) by its written French and its English words (``<unk>``
matching any word), with the project's own tokeniser (``attend.tasks.translation``), so
the split is never re-derived here. One line per pair, in the split's order (a probe of
the pipeline holds the first ``analysis.n_sequences``): English<TAB>French, as the
corpus writes them.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

from ..artifacts import DataError, load_npz, load_vocab, write_text
from ..tasks.translation import tokenize
from ..tokens import SPECIALS, UNK


def _english_words(ids, vocab: list[str]) -> list[str]:
    return [vocab[i] for i in ids if vocab[i] not in SPECIALS]


def _matches(words: list[str], tokens: list[str]) -> bool:
    return len(words) == len(tokens) and all(w in (UNK, t) for w, t in zip(words, tokens))


def test_pairs(
    dataset: str | Path, vocab: str | Path, corpus: str | Path, limit: int | None = None
) -> list[tuple[str, str]]:
    """(English, French) as the corpus writes them, for the test split of a translation
    dataset (its npz and vocab.json), in the split's order; the first ``limit`` only."""
    arrays = load_npz(dataset, {"test_src": 2, "test_written": 1}, "translation dataset")
    src_vocab = load_vocab(vocab)["src_vocab"]
    n = len(arrays["test_src"]) if limit is None else min(limit, len(arrays["test_src"]))
    by_french: dict[str, list[str]] = {}
    try:
        lines = Path(corpus).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{corpus}: the translation corpus is missing (give it with --corpus)") from None
    for line in lines:
        fields = line.split("\t")
        if len(fields) >= 2:
            by_french.setdefault(unicodedata.normalize("NFC", fields[1]).strip(), []).append(fields[0].strip())
    pairs = []
    for i in range(n):
        french = str(arrays["test_written"][i])
        words = _english_words(arrays["test_src"][i], src_vocab)
        found = [english for english in by_french.get(french, []) if _matches(words, tokenize(english))]
        if not found:
            raise DataError(
                f"{corpus}: test pair {i} ({' '.join(words)!r} -> {french!r}) is not in this corpus: "
                f"is it the corpus {dataset} was made from?"
            )
        pairs.append((found[0], french))
    return pairs


def recorded_corpus(dataset: str | Path, vocab: str | Path) -> Path:
    """The corpus a dataset records, found from where the workflow ran (a path relative to
    an ancestor folder of the dataset)."""
    recorded = load_vocab(vocab).get("meta", {}).get("corpus")
    if not recorded:
        raise DataError(f"{vocab}: records no corpus; give it with --corpus")
    for root in [Path("."), *Path(dataset).resolve().parents]:
        if (root / recorded).is_file():
            return root / recorded
    raise DataError(f"{vocab}: records the corpus {recorded}, which is not found from here; give it with --corpus")


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Write the English<TAB>French pairs of a translation "
        "dataset's test split, as the corpus writes them (for attend probe-hf).",
    )
    p.add_argument("dataset", help="the translation dataset, e.g. results/data/translation/seed0/dataset.npz")
    p.add_argument("--vocab", help="its vocab.json (default: beside the dataset)")
    p.add_argument("--corpus", help="fra.txt (default: the corpus the dataset records)")
    p.add_argument("--limit", type=int, help="the first N pairs (a probe holds the first analysis.n_sequences)")
    p.add_argument("--out", required=True, help="the pairs file to write (.tsv)")
    return p


def main(argv: list[str] | None = None, prog: str = "attend test-pairs") -> int:
    args = parser(prog).parse_args(argv)
    vocab = Path(args.vocab) if args.vocab else Path(args.dataset).with_name("vocab.json")
    try:
        corpus = args.corpus or recorded_corpus(args.dataset, vocab)
        pairs = test_pairs(args.dataset, vocab, corpus, args.limit)
    except DataError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    write_text(args.out, "".join(f"{english}\t{french}\n" for english, french in pairs))
    print(f"wrote {len(pairs)} pairs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m attend.adapters.pairs"))
