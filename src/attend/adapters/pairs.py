"""The written sentence pairs of a split of this project's translation dataset, to probe
(or train) an outside translation model on the very sequences the pipeline uses:

    attend test-pairs results/data/translation/seed0/dataset.npz --out pairs.tsv
    attend test-pairs results/data/translation/seed0/dataset.npz --split train --out train.tsv

The dataset keeps its splits as word ids, with ``<unk>`` for the words outside its
vocabularies (rare English words, French beyond the 3,000 most frequent), and the test
split's French as written (``test_written``), not the sentences as written. Each pair is
found again in the corpus (fra.txt), so the split is never re-derived here: every corpus
pair is tokenised with the project's own tokeniser (``attend.tasks.translation``) and its
words mapped through the dataset's own vocabularies (``<unk>`` outside them), which is
exactly how the dataset wrote its ids; identical tokenised pairs count once, as the first
line the corpus writes them on (the dataset keeps them once too).

Some rows are ambiguous: several corpus pairs map to the same ids when they differ only in
words outside the vocabularies. Each corpus pair is given to one row at most, the test
split first (its rows must also match their written French), then validation, then
training, each row taking the first unused candidate in corpus order. So no test pair is
ever written as a training pair, and the ids of every row written are exactly the
dataset's. One line per pair, in the split's order (a probe of the pipeline holds the
first ``analysis.n_sequences`` of the test split): English<TAB>French, as the corpus writes
them.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..artifacts import SPLITS, DataError, load_npz, load_vocab, write_text
from ..tasks.translation import tokenize
from ..tokens import SPECIALS, UNK

ORDER = ("test", "valid", "train")  # the order in which rows take their corpus pairs (module docstring)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _candidates(corpus: str | Path, src_vocab: list[str], tgt_vocab: list[str]) -> dict[tuple, list[tuple[str, str]]]:
    """Every distinct tokenised corpus pair as written (its first line), grouped by the ids
    the dataset's vocabularies give it, in corpus order."""
    src_ids, tgt_ids = ({w: i for i, w in enumerate(v)} for v in (src_vocab, tgt_vocab))
    src_unk, tgt_unk = src_ids[UNK], tgt_ids[UNK]
    try:
        lines = Path(corpus).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{corpus}: the translation corpus is missing (give it with --corpus)") from None
    seen: set[tuple] = set()
    found: dict[tuple, list[tuple[str, str]]] = defaultdict(list)
    for line in lines:
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        english, french = fields[0].strip(), _nfc(fields[1])
        tokens = tuple(tokenize(english)), tuple(tokenize(french))
        if not all(tokens) or tokens in seen:
            continue
        seen.add(tokens)
        key = tuple(src_ids.get(w, src_unk) for w in tokens[0]), tuple(tgt_ids.get(w, tgt_unk) for w in tokens[1])
        found[key].append((english, french))
    return found


def _words(ids: np.ndarray) -> tuple[int, ...]:
    """A row's word ids, without padding, </s> and <s>."""
    return tuple(int(i) for i in ids if i >= len(SPECIALS))


def split_pairs(
    dataset: str | Path, vocab: str | Path, corpus: str | Path, split: str = "test", limit: int | None = None
) -> list[tuple[str, str]]:
    """(English, French) as the corpus writes them, for one split of a translation dataset
    (its npz and vocab.json), in the split's order; the first ``limit`` only."""
    if split not in SPLITS:
        raise DataError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return _assign(dataset, vocab, corpus, ORDER[: ORDER.index(split) + 1], limit)[split]


def dataset_pairs(dataset: str | Path, vocab: str | Path, corpus: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Every split's (English, French) pairs at once, by split name (:func:`split_pairs`)."""
    return _assign(dataset, vocab, corpus, ORDER, None)


def _assign(
    dataset: str | Path, vocab: str | Path, corpus: str | Path, splits: tuple[str, ...], limit: int | None
) -> dict[str, list[tuple[str, str]]]:
    """The pairs of ``splits`` (a prefix of ORDER), each row taking its corpus pair in ORDER
    (module docstring); the last split's first ``limit`` rows only."""
    required = {"test_written": 1, **{f"{name}_{side}": 2 for name in splits for side in ("src", "tgt")}}
    arrays = load_npz(dataset, required, "translation dataset")
    record = load_vocab(vocab)
    src_vocab, tgt_vocab = record["src_vocab"], record["tgt_vocab"]
    if UNK not in src_vocab or UNK not in tgt_vocab:
        raise DataError(f"{vocab}: has no {UNK} word: is it a translation dataset's vocab.json?")
    candidates = _candidates(corpus, src_vocab, tgt_vocab)
    used: set[tuple[tuple, int]] = set()
    out: dict[str, list[tuple[str, str]]] = {}
    for name in splits:
        src, tgt = arrays[f"{name}_src"], arrays[f"{name}_tgt"]
        n = len(src) if name != splits[-1] or limit is None else min(limit, len(src))
        out[name] = []
        for i in range(n):
            key = _words(src[i]), _words(tgt[i])
            written = str(arrays["test_written"][i]) if name == "test" else None
            pick = next(
                (
                    k
                    for k, (_, french) in enumerate(candidates.get(key, []))
                    if (key, k) not in used and written in (None, french)
                ),
                None,
            )
            if pick is None:
                english = " ".join(src_vocab[w] for w in key[0])
                french = written or " ".join(tgt_vocab[w] for w in key[1])
                raise DataError(
                    f"{corpus}: {name} pair {i} ({english!r} -> {french!r}) is not in this corpus: "
                    f"is it the corpus {dataset} was made from?"
                )
            used.add((key, pick))
            out[name].append(candidates[key][pick])
    return out


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
        description="Write the English<TAB>French pairs of a split of a translation "
        "dataset (the test split unless --split), as the corpus writes them (for attend probe-hf, "
        "or to train an outside model on the pipeline's training split).",
    )
    p.add_argument("dataset", help="the translation dataset, e.g. results/data/translation/seed0/dataset.npz")
    p.add_argument("--vocab", help="its vocab.json (default: beside the dataset)")
    p.add_argument("--corpus", help="fra.txt (default: the corpus the dataset records)")
    p.add_argument("--split", choices=SPLITS, default="test", help="which split (default: test)")
    p.add_argument("--limit", type=int, help="the first N pairs (a probe holds the first analysis.n_sequences)")
    p.add_argument("--out", required=True, help="the pairs file to write (.tsv)")
    return p


def main(argv: list[str] | None = None, prog: str = "attend test-pairs") -> int:
    args = parser(prog).parse_args(argv)
    vocab = Path(args.vocab) if args.vocab else Path(args.dataset).with_name("vocab.json")
    try:
        corpus = args.corpus or recorded_corpus(args.dataset, vocab)
        pairs = split_pairs(args.dataset, vocab, corpus, args.split, args.limit)
    except DataError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    write_text(args.out, "".join(f"{english}\t{french}\n" for english, french in pairs))
    print(f"wrote {len(pairs)} pairs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m attend.adapters.pairs"))
