"""English -> French translation from the Tatoeba pairs of manythings.org/anki (docs/science.md §2).

The corpus, ``fra.txt``, has one pair per line: ``English<TAB>French[<TAB>attribution]``
(the 2019 release used here has no attribution column). :func:`fetch_corpus` puts a
checksum-verified copy in the workflow's results; :func:`make_translation` turns it into
word-level train/valid/test splits.

Tokenisation (:func:`tokenize`), the same for both languages:

* Unicode NFC, then lower-case. Every Unicode space counts as whitespace, including the
  narrow no-break space U+202F and no-break space U+00A0 that French puts before ``! ? : ;``
  (and the zero-width space U+200B). Soft hyphens (U+00AD) are deleted.
* Typographic apostrophes (’ ‘ `) become ``'``; curly double quotes (“ ” „) become ``"``.
* A word is a run of letters/digits, joined through internal apostrophes or hyphens, so
  "don't", "tom's", "aujourd'hui", "arrête-toi" and "est-ce" stay one token each.
  Numbers keep internal separators: "2:30", "10,000", "3.5".
* French elision is split after the apostrophe when a word starts with an elided clitic
  (c d j l m n s t qu jusqu lorsqu puisqu quoiqu): "l'homme" -> "l'" "homme",
  "qu'il" -> "qu'" "il", "jusqu'à" -> "jusqu'" "à"; "aujourd'hui" and "quelqu'un" stay
  whole. English contractions are not split ("don't", "i'm").
* Every other non-space character is its own token (``. , ! ? ; : " « » ( ) - % $`` ...),
  except a run of periods, which is one token ("..."). Nothing but whitespace is dropped,
  and "<", ">" are split off, so no token can collide with "<unk>" or the special tokens.

Pairs: malformed lines are skipped (and counted); identical tokenised pairs are kept once
(the raw lines are distinct, but some differ only in case or apostrophe style), so the test
split holds no exact copy of a training pair; pairs longer than ``max_len`` tokens on either
side are dropped; an optional ``sample`` keeps a random subset; the rest is shuffled by
``seed`` and split by ``valid_fraction`` / ``test_fraction``. Vocabularies come from the
training split alone: words seen fewer than ``min_count`` times there become ``<unk>`` in
every split; ``tgt_vocab_cap`` keeps only the most frequent French words, and
``min_coverage`` drops training pairs with too many French words outside the vocabulary.
The test references' own words and their written French are kept beside the arrays
(``test_reference``, ``test_written``) for BLEU (attend.scoring.translation_scores).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from ..artifacts import SPLITS, DataError, atomic_write, download
from ..tokens import UNK
from . import Task, register
from .base import Split, TaskData

log = logging.getLogger(__name__)

CORPUS_NAME = "fra.txt"
CONFIG_HINT = "data: translation: corpus: local: /path/to/fra.txt"
# Sizes of known releases, only to make checksum errors more helpful.
KNOWN_BYTES = {"0bb85dbaa1c896844649094d7eaf2e34bee34e84fe362b26ce7e8f2e12aae104": 11_669_748}


# ---------------------------------------------------------------------------- corpus


def _hint() -> str:
    return (
        f"download fra-eng.zip from https://www.manythings.org/anki/ elsewhere, unzip {CORPUS_NAME}, "
        f"and point the config at it ({CONFIG_HINT})"
    )


def _copy_verified(read_into, dest: Path, source: str, sha256: str) -> tuple[str, int]:
    """Write dest atomically from ``read_into(fh)``, hashing as it goes; DataError on mismatch."""
    expected = sha256.lower()
    result: dict = {}

    def write(out) -> None:
        digest = hashlib.sha256()
        n = read_into(out, digest)
        actual = digest.hexdigest()
        if actual != expected:
            size = KNOWN_BYTES.get(expected)
            sizes = f"{n:,} bytes" + (f", expected {size:,}" if size is not None else "")
            raise DataError(
                f"{source}: sha256 mismatch for the translation corpus {CORPUS_NAME}: expected {expected}, "
                f"got {actual} ({sizes}); the file is truncated, corrupted or another release. "
                f"Fix it or {_hint()}"
            )
        result.update(sha256=actual, bytes=n)

    atomic_write(dest, write)
    return result["sha256"], result["bytes"]


def _stream(src_fh):
    """A ``read_into`` that copies an open binary file, updating the digest."""

    def read_into(out, digest) -> int:
        n = 0
        while chunk := src_fh.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
            n += len(chunk)
        return n

    return read_into


def _zip_member(zf: zipfile.ZipFile) -> str:
    """The fra.txt entry of the anki zip (ignoring macOS resource forks)."""
    names = [n for n in zf.namelist() if Path(n).name == CORPUS_NAME and "__MACOSX" not in n]
    if not names:
        raise DataError(f"the downloaded zip has no {CORPUS_NAME} (entries: {zf.namelist()[:10]})")
    return names[0]


def _download(url: str, dest: Path, sha256: str) -> tuple[str, int]:
    """Download the zip to a temporary file, then extract and verify its fra.txt into dest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".download") as tmpdir:
        archive = Path(tmpdir) / "corpus.zip"
        download(url, archive, "the translation corpus", _hint())
        try:
            with zipfile.ZipFile(archive) as zf, zf.open(_zip_member(zf)) as member:
                return _copy_verified(_stream(member), dest, f"{url} ({CORPUS_NAME})", sha256)
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:  # a truncated or foreign download
            raise DataError(
                f"the file downloaded from {url} is not a readable zip ({type(err).__name__}: {err}); "
                f"retry, or {_hint()}"
            ) from None


def fetch_corpus(dest: str | Path, local: str | None, search: list, url: str, sha256: str) -> dict:
    """Put a verified copy of fra.txt at ``dest``; return where it came from, its sha256 and size.

    Order: ``local`` (an error if it does not exist), else the first existing path of
    ``search``, else download ``url`` (the anki zip). The copy is checked against ``sha256``;
    on any failure ``dest`` is not created (nor changed).
    """
    dest = Path(dest)
    if local:
        source = Path(local).expanduser()
        if not source.is_file():
            raise DataError(
                f"the configured local copy of the translation corpus, {source}, does not exist; "
                f"fix the path in the config ({CONFIG_HINT}) or set it to null to search/download"
            )
        via = "local"
    else:
        found = [Path(p).expanduser() for p in search or [] if Path(p).expanduser().is_file()]
        source, via = (found[0], "search") if found else (None, "download")
    if source is None:
        log.info("translation corpus: no local copy (searched %s); downloading %s", list(search or []), url)
        digest, n = _download(url, dest, sha256)
        return {"source": url, "via": via, "sha256": digest, "bytes": n}
    with open(source, "rb") as fh:
        digest, n = _copy_verified(_stream(fh), dest, str(source), sha256)
    log.info("translation corpus: copied %s (%d bytes, sha256 %s) to %s", source, n, digest, dest)
    return {"source": str(source.resolve()), "via": via, "sha256": digest, "bytes": n}


# ---------------------------------------------------------------------------- tokenisation

# Characters \s misses that act as spaces, deleted characters, and quote variants.
_REPLACE = (
    ("\u200b", " "),
    ("\ufeff", " "),
    ("\u00ad", ""),
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("`", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u201e", '"'),
)
ELISIONS = ("jusqu", "lorsqu", "puisqu", "quoiqu", "qu", "c", "d", "j", "l", "m", "n", "s", "t")
_TOKEN = re.compile(
    rf"(?:{'|'.join(ELISIONS)})'(?=[^\W_])"  # a French elided clitic at a word's start: l' qu' jusqu'
    r"|\d+(?:[.,:]\d+)+"  # numbers with separators: 2:30, 10,000, 3.5
    r"|[^\W_]+(?:['-][^\W_]+)*"  # words, joined through internal apostrophes or hyphens
    r"|\.{2,}"  # an ellipsis typed as periods
    r"|[^\w\s]|_"  # any other single character
)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    for old, new in _REPLACE:  # str.replace is much faster than str.translate here
        text = text.replace(old, new)
    return text.lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens (module docstring for the rules)."""
    return _TOKEN.findall(_normalize(text))


# ---------------------------------------------------------------------------- pairs


def read_pairs(corpus: Path) -> tuple[list[tuple[list[str], list[str], str]], dict, str]:
    """Tokenised (English, French, the French as written) pairs of a corpus file, counts,
    and the file's sha256."""
    corpus = Path(corpus)
    try:
        raw = corpus.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{corpus}: the translation corpus is missing") from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{corpus}: not UTF-8 text ({err}); is it really {CORPUS_NAME}?") from None
    pairs, malformed, first_bad = [], 0, None
    lines = _normalize(text).splitlines()  # at once: the same as tokenize() line by line, but faster
    written = text.splitlines()  # normalising never adds or removes a line break
    for n, (line, original) in enumerate(zip(lines, written), 1):
        fields = line.split("\t")
        ok = len(fields) in (2, 3)
        src, tgt = (_TOKEN.findall(fields[0]), _TOKEN.findall(fields[1])) if ok else ([], [])
        if not src or not tgt:
            malformed += 1
            first_bad = first_bad or n
            continue
        pairs.append((src, tgt, unicodedata.normalize("NFC", original.split("\t")[1]).strip()))
    if malformed:
        log.warning("%s: skipped %d malformed lines (the first is line %d)", corpus, malformed, first_bad)
    return pairs, {"lines": len(lines), "malformed": malformed}, digest


def _dedupe(pairs: list) -> list:
    seen: set = set()
    kept = []
    for src, tgt, *rest in pairs:
        key = " ".join(src) + "\t" + " ".join(tgt)  # tokens hold no whitespace
        if key not in seen:
            seen.add(key)
            kept.append((src, tgt, *rest))
    return kept


def _split_sizes(n: int, valid_fraction: float, test_fraction: float) -> dict[str, int]:
    n_valid, n_test = round(n * valid_fraction), round(n * test_fraction)
    sizes = {"train": n - n_valid - n_test, "valid": n_valid, "test": n_test}
    if min(sizes.values()) < 1:
        raise DataError(f"translation: {n} pairs are too few for train/valid/test splits of {sizes}")
    return sizes


# ---------------------------------------------------------------------------- vocabulary


def build_vocab(seqs: list[list[str]], min_count: int) -> list[str]:
    """<unk>, then words seen >= min_count times, most frequent first (ties alphabetical)."""
    counts = Counter(w for s in seqs for w in s)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return [UNK] + words


def covered(seq: list[str], vocab: set[str]) -> float:
    """The fraction of a sequence's words that are in the vocabulary."""
    return sum(w in vocab for w in seq) / len(seq)


def _apply_vocab(seqs: list[list[str]], vocab: set[str]) -> tuple[list[list[str]], float]:
    """Replace out-of-vocabulary words by <unk>; also return the fraction replaced."""
    out = [[w if w in vocab else UNK for w in s] for s in seqs]
    total = sum(len(s) for s in seqs)
    unk = sum(s.count(UNK) for s in out)
    return out, (unk / total if total else 0.0)


# ---------------------------------------------------------------------------- task


def make_translation(corpus: Path, cfg: dict, seed: int) -> TaskData:
    """Word-level English -> French splits of fra.txt (module docstring for every step).
    The corpus, ``max_len``, ``sample`` and the two fractions decide the split sizes
    (``data.sizes`` of the config is for the synthetic tasks)."""
    c = {k: v for k, v in cfg.items() if k != "corpus"}
    pairs, counts, digest = read_pairs(corpus)
    expected = (cfg.get("corpus") or {}).get("sha256")
    if expected and digest != expected.lower():
        raise DataError(
            f"{corpus}: sha256 {digest} differs from the configured {expected}; "
            "delete it and rerun to fetch the corpus again"
        )
    counts["pairs"] = len(pairs)
    pairs = _dedupe(pairs)
    counts["after_dedupe"] = len(pairs)
    max_len = int(c["max_len"])
    pairs = [p for p in pairs if len(p[0]) <= max_len and len(p[1]) <= max_len]
    counts["after_length_filter"] = len(pairs)

    # One permutation gives both the subsample (its first `sample` pairs) and the shuffle.
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    if c["sample"] is not None:
        if int(c["sample"]) > len(pairs):
            log.warning("translation: sample=%s exceeds the %d pairs left; keeping them all", c["sample"], len(pairs))
        order = order[: int(c["sample"])]
    counts["after_sample"] = len(order)
    n = _split_sizes(len(order), float(c["valid_fraction"]), float(c["test_fraction"]))
    bounds = {
        "train": (0, n["train"]),
        "valid": (n["train"], n["train"] + n["valid"]),
        "test": (n["train"] + n["valid"], len(order)),
    }
    raw = {name: [pairs[i] for i in order[a:b]] for name, (a, b) in bounds.items()}

    src_words = build_vocab([p[0] for p in raw["train"]], int(c["min_count"]))
    tgt_words = build_vocab([p[1] for p in raw["train"]], int(c["min_count"]))
    if c["tgt_vocab_cap"] is not None:  # the output softmax is most of a step's cost
        tgt_words = tgt_words[: int(c["tgt_vocab_cap"])]
    src_set, tgt_set = set(src_words), set(tgt_words)
    # The coverage filter shapes the training data only; validation and test keep every pair.
    raw["train"] = [p for p in raw["train"] if covered(p[1], tgt_set) >= float(c["min_coverage"])]
    counts["train_after_coverage"] = len(raw["train"])
    if not raw["train"]:
        raise DataError(
            f"translation: no training pair has min_coverage={c['min_coverage']} of its French words "
            f"in the vocabulary; lower min_coverage or raise tgt_vocab_cap"
        )
    splits, unk_rate = {}, {}
    for name in SPLITS:
        src, src_unk = _apply_vocab([p[0] for p in raw[name]], src_set)
        tgt, tgt_unk = _apply_vocab([p[1] for p in raw[name]], tgt_set)
        splits[name] = Split(src=src, tgt=tgt)
        counts[name] = len(src)
        unk_rate[name] = {"src": round(src_unk, 6), "tgt": round(tgt_unk, 6)}

    meta = {
        "corpus": str(corpus),
        "corpus_sha256": digest,
        "config": c,
        "counts": counts,
        "src_vocab_size": len(src_words),  # including <unk>
        "tgt_vocab_size": len(tgt_words),
        "unk_rate": unk_rate,  # fraction of tokens mapped to <unk>, per split and side
    }
    log.info("translation: %s", meta)
    # What BLEU is scored against: the test references' own words (none is <unk>), and the
    # French as the corpus writes it, for sacreBLEU's standard tokenizer.
    texts = {"test_reference": [" ".join(p[1]) for p in raw["test"]], "test_written": [p[2] for p in raw["test"]]}
    return TaskData(src_words=src_words, tgt_words=tgt_words, splits=splits, dictionary={}, meta=meta, texts=texts)


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "English -> French sentence pairs (Tatoeba, fra.txt)",
    "properties": {
        "max_len": {
            "type": "integer",
            "minimum": 1,
            "default": 10,
            "description": "(choice) keep pairs of at most this many tokens per side",
        },
        "min_count": {
            "type": "integer",
            "minimum": 1,
            "default": 5,
            "description": "(choice) training words seen fewer times become <unk>",
        },
        "tgt_vocab_cap": {
            "type": ["integer", "null"],
            "minimum": 1,
            "default": 3000,
            "description": "(choice) keep only this many most frequent French training words "
            "(the output softmax is most of a training step's cost); the rest "
            "become <unk> (null: no cap)",
        },
        "min_coverage": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.0,
            "description": "(choice) keep a training pair only if at least this fraction of its "
            "French words are in the vocabulary (validation and test keep every "
            "pair, and BLEU scores against the references' own words)",
        },
        "sample": {
            "type": ["integer", "null"],
            "minimum": 10,
            "default": None,
            "description": "keep a random subset of this many pairs (null: every pair that passes the filter)",
        },
        "valid_fraction": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 0.5,
            "default": 0.1,
            "description": "share of the pairs held out for validation",
        },
        "test_fraction": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 0.5,
            "default": 0.1,
            "description": "share of the pairs held out for the test set",
        },
        "corpus": {
            "type": "object",
            "additionalProperties": False,
            "description": "where the corpus comes from; every copy is checked against sha256",
            "properties": {
                "local": {
                    "type": ["string", "null"],
                    "default": None,
                    "description": "path to your own copy of fra.txt (null: search, then download)",
                },
                "search": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": ["../shared/data/fra-eng/fra.txt"],
                    "description": "paths tried in order before downloading",
                },
                "url": {
                    "type": "string",
                    "default": "https://www.manythings.org/anki/fra-eng.zip",
                    "description": "the anki zip holding fra.txt, downloaded when no copy is found",
                },
                "sha256": {
                    "type": "string",
                    "pattern": "^[0-9a-f]{64}$",
                    "default": "0bb85dbaa1c896844649094d7eaf2e34bee34e84fe362b26ce7e8f2e12aae104",
                    "description": "checksum of fra.txt (the 2019-04-07 release)",
                },
            },
        },
    },
}

register(
    Task(
        name="translation",
        label="translation",
        family="mixed",
        schema=SCHEMA,
        color="#66a61e",
        marker="P",
        generate=lambda cfg, seed, sizes, corpus: make_translation(corpus, cfg, seed),
        corpus=True,
        unk=UNK,
    )
)
