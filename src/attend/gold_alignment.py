"""Human word alignments of English -> French: the Hansards test set of WPT-2003
(docs/science.md §4.9). numpy only; no Keras.

447 sentence pairs of the Canadian Hansards with the word links annotators marked *sure*
or *possible* (Mihalcea and Pedersen 2003; the annotation of Och and Ney 2000), as the
awesome-align repository distributes them. Two files, one line per pair:

* ``enfr.src-tgt``: ``English tokens ||| French tokens``, space-separated, already tokenised
  (French elisions expanded: "le adoption");
* ``enfr.gold``: the pair's links, ``i-j`` sure and ``ipj`` possible, i the English and j
  the French token, both counted from 1. The possible links P include the sure ones S.

:func:`fetch_gold` puts checksum-verified copies in a folder (a local copy first, else a
download); :func:`read_gold` checks and parses them into a :class:`Gold`, refusing a
malformed line by file and line; :func:`encode_gold` turns the pairs into what a probe of a
translation model needs, keeping the gold's token boundaries (one gold token is one model
token, normalised as the translation task normalises text, ``<unk>`` when the model's
vocabulary lacks it) and reporting the out-of-vocabulary rate per side.

The settings (where the files are looked for, their public address, their checksums) are
the config's block ``data.gold_alignment``, declared with its defaults in the config schema;
:func:`default_settings` reads them. :func:`applies` says which models the workflow probes
on the gold pairs (``attend.gold_probe`` records such a probe).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .architectures import ARCHITECTURES
from .artifacts import DataError, atomic_write, download
from .config_schema import resolve_ref, schema_as_written, written_default
from .tasks.base import encode_sequences
from .tasks.translation import SCHEMA as TASK_SCHEMA
from .tasks.translation import _normalize
from .tokens import SPECIALS, UNK

log = logging.getLogger(__name__)

PAIRS, LINKS = "enfr.src-tgt", "enfr.gold"
FILES = (PAIRS, LINKS)
SEPARATOR = "|||"
_LINK = re.compile(r"(\d+)([-p])(\d+)")  # i-j sure, ipj possible

# Where the settings live: the config's block, declared with its defaults in the config
# schema (src/attend/config.schema.yaml, the only place a default lives).
CONFIG_KEY = "data.gold_alignment"
# The task whose models the gold set is for (its pairs are English -> French): every model
# of it whose architecture attends is probed on the gold pairs by the workflow.
TASK = "translation"


def default_settings() -> dict:
    """The settings of the config's ``data.gold_alignment`` block, at the schema's defaults."""
    root = schema_as_written()
    node = root
    for part in CONFIG_KEY.split("."):
        node = resolve_ref(node, root)["properties"][part]
    return {key: written_default(f"{CONFIG_KEY}.{key}") for key in resolve_ref(node, root)["properties"]}


def default_max_len() -> int:
    """The trained maximum of words per side of a model of :data:`TASK` at its default
    settings (``data.translation.max_len``, declared by the task): the length bins' limit
    for a probe whose model's own is not known (``attend analyse``)."""
    return TASK_SCHEMA["properties"]["max_len"]["default"]


def applies(task: str, arch: str) -> bool:
    """Whether the workflow probes the model of ``task`` and ``arch`` on the gold pairs: a
    model of :data:`TASK` whose architecture attends (its declaration says so)."""
    return task == TASK and ARCHITECTURES[arch].attention


# ---------------------------------------------------------------------------- the files


def _fix(url: str) -> str:
    return f"download {PAIRS} and {LINKS} from {url} elsewhere and set `local` to the folder that holds them"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path, sha256: str, url: str, fix: str | None = None) -> str:
    """Its sha256, or a one-line :class:`DataError` naming the file and the fix (``fix``, or
    else: download the files from ``url`` and configure the folder)."""
    fix = fix or _fix(url)
    if not path.is_file():
        raise DataError(f"{path}: missing, a file of the gold word alignments; {fix}")
    actual = _digest(path)
    if actual != sha256.lower():
        raise DataError(
            f"{path}: sha256 {actual} is not the gold word alignments' {sha256.lower()}: the file is truncated, "
            f"edited or another release; {fix}"
        )
    return actual


def find_gold(local: str | None, search: list) -> tuple[Path | None, str]:
    """The folder the files are taken from and how it was found ("local", "search"), or
    (None, "download") when no searched folder holds both. A ``local`` folder that does
    not exist is an error."""
    if local:
        folder = Path(local).expanduser()
        if not folder.is_dir():
            raise DataError(
                f"{folder}: the configured local copy of the gold word alignments does not exist; fix the path "
                "in `local`, or set it to null to search and download"
            )
        return folder, "local"
    for entry in search or []:
        folder = Path(entry).expanduser()
        if all((folder / name).is_file() for name in FILES):
            return folder, "search"
    return None, "download"


def fetch_gold(dest: str | Path, local: str | None, search: list, url: str, sha256: dict) -> dict:
    """Put verified copies of both files in the folder ``dest``; return where they came from
    and their checksums. Order: ``local`` (an error if it does not exist), else the first
    ``search`` folder holding both files, else a download from ``url`` (a folder address).
    A file that fails its checksum is never written to ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    folder, via = find_gold(local, search)
    if folder is None:
        log.info("gold alignments: no local copy (searched %s); downloading from %s", list(search or []), url)
    digests = {}
    for name in FILES:
        if folder is None:
            digests[name] = _download(url.rstrip("/") + "/" + name, dest / name, sha256[name], url)
        else:
            digests[name] = check_file(folder / name, sha256[name], url)
            atomic_write(dest / name, lambda fh, source=folder / name: fh.write(source.read_bytes()))
    source = url if folder is None else str(folder.resolve())
    log.info("gold alignments: %s and %s from %s (%s)", *FILES, source, via)
    return {"source": source, "via": via, "sha256": digests}


def _download(address: str, dest: Path, sha256: str, url: str) -> str:
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".download") as tmpdir:
        tmp = Path(tmpdir) / dest.name
        download(address, tmp, "the gold word alignments", _fix(url))
        actual = _digest(tmp)
        if actual != sha256.lower():
            raise DataError(
                f"{address}: sha256 {actual} is not the gold word alignments' {sha256.lower()}; retry, or {_fix(url)}"
            )
        atomic_write(dest, lambda fh: fh.write(tmp.read_bytes()))
    return actual


# ---------------------------------------------------------------------------- parsing


@dataclass
class Gold:
    """The pairs and their links. ``links`` (K, 3) holds (pair, French word j, English word
    i), 0-based, in file order; ``sure`` (K,) whether each link is sure (the others are
    possible only). P is every link, S the sure ones."""

    src: list[list[str]]  # English tokens as the file writes them
    tgt: list[list[str]]  # French tokens
    links: np.ndarray
    sure: np.ndarray

    def counts(self) -> dict[str, int]:
        return {"pairs": len(self.src), "sure": int(self.sure.sum()), "possible": len(self.links)}


def _lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file, without the final newline's empty line."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err})") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_pairs(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """English and French tokens of each line ``English ||| French``."""
    src, tgt = [], []
    for n, line in enumerate(_lines(path), 1):
        sides = line.split(SEPARATOR)
        if len(sides) != 2 or not sides[0].split() or not sides[1].split():
            raise DataError(
                f"{path}, line {n}: expected 'English tokens {SEPARATOR} French tokens', got {line[:80]!r}; "
                "the file is damaged: fetch it again"
            )
        src.append(sides[0].split())
        tgt.append(sides[1].split())
    return src, tgt


def parse_links(path: Path, src: list[list[str]], tgt: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) links (pair, French word, English word), 0-based, and (K,) sure, from one line
    of ``i-j`` / ``ipj`` per pair (1-based, i English, j French)."""
    lines = _lines(path)
    if len(lines) != len(src):
        raise DataError(
            f"{path}: {len(lines)} lines of links for {len(src)} sentence pairs; the two files are not of one "
            "release: fetch both again"
        )
    links, sure = [], []
    for n, line in enumerate(lines, 1):
        seen = set()
        for token in line.split():
            match = _LINK.fullmatch(token)
            i, j = (int(match[1]), int(match[3])) if match else (0, 0)
            if not (match and 1 <= i <= len(src[n - 1]) and 1 <= j <= len(tgt[n - 1])):
                raise DataError(
                    f"{path}, line {n}: {token!r} is not a link i-j or ipj with 1 <= i <= {len(src[n - 1])} "
                    f"(English) and 1 <= j <= {len(tgt[n - 1])} (French); the file is damaged: fetch it again"
                )
            if (i, j) in seen:
                raise DataError(f"{path}, line {n}: the link {i}-{j} is given twice; the file is damaged")
            seen.add((i, j))
            links.append((n - 1, j - 1, i - 1))
            sure.append(match[2] == "-")
    return np.array(links, dtype=np.int32).reshape(-1, 3), np.array(sure, dtype=bool)


def read_gold(folder: str | Path, sha256: dict | None = None, url: str | None = None, fix: str | None = None) -> Gold:
    """The pairs and links of the two files in ``folder``, each checked against ``sha256``
    first (default: the schema's); a missing or wrong file is refused saying ``fix`` (the
    workflow: the command that fetches them again)."""
    folder = Path(folder)
    settings = default_settings()
    sha256, url = sha256 or settings["sha256"], url or settings["url"]
    for name in FILES:
        check_file(folder / name, sha256[name], url, fix)
    src, tgt = parse_pairs(folder / PAIRS)
    links, sure = parse_links(folder / LINKS, src, tgt)
    return Gold(src=src, tgt=tgt, links=links, sure=sure)


# ---------------------------------------------------------------------------- for a model


def model_tokens(tokens: list[str], vocab: list[str]) -> tuple[list[str], int]:
    """Each gold token normalised as the translation task normalises text (NFC, its quote
    forms, lower case), never split, and ``<unk>`` where the vocabulary lacks it; also how
    many became ``<unk>``."""
    known = set(vocab) - set(SPECIALS)
    words = [_normalize(token) for token in tokens]
    out = [w if w in known else UNK for w in words]
    return out, sum(w not in known for w in words)


def encode_gold(gold: Gold, src_vocab: list[str], tgt_vocab: list[str]) -> tuple[dict[str, np.ndarray], dict]:
    """What a teacher-forced probe of a translation model on the gold pairs needs, as the
    probe names it (attend.probe.KEYS): ``enc_tokens`` (N, S), English then ``</s>``;
    ``targets`` (N, T), French then ``</s>``; ``enc_len``, ``dec_len`` (N,), ``</s>``
    included; ``gold_links`` (K, 3) (sequence, target word, source word) and ``gold_sure``
    (K,) 1 sure, 0 possible only. Also the out-of-vocabulary rate of each side (the share of
    gold tokens that became ``<unk>``) and the token counts behind it."""
    arrays, oov = {}, {}
    for side, key, seqs, vocab in (("src", "enc_tokens", gold.src, src_vocab), ("tgt", "targets", gold.tgt, tgt_vocab)):
        vocab = list(vocab)
        if UNK not in vocab:
            raise DataError(f"the {side} vocabulary has no {UNK}: the gold pairs need a translation model's vocabulary")
        mapped = [model_tokens(seq, vocab) for seq in seqs]
        arrays[key] = encode_sequences([words for words, _ in mapped], vocab, UNK)
        tokens, unknown = sum(len(seq) for seq in seqs), sum(n for _, n in mapped)
        oov[side] = {"tokens": tokens, "unk": unknown, "rate": unknown / tokens}
    arrays["enc_len"] = np.array([len(s) + 1 for s in gold.src], dtype=np.int32)
    arrays["dec_len"] = np.array([len(t) + 1 for t in gold.tgt], dtype=np.int32)
    arrays["gold_links"] = gold.links.astype(np.int32)
    arrays["gold_sure"] = gold.sure.astype(np.int32)
    log.info(
        "gold alignments: out-of-vocabulary rate: English %.3f, French %.3f", oov["src"]["rate"], oov["tgt"]["rate"]
    )
    return arrays, oov
