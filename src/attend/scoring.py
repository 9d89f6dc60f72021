"""How predictions are scored against targets, in one place: token accuracy over the
valid (non-padding) target positions, and sequence accuracy (every valid position
right). Training's validation, the test scores and the probe's accuracy by length all
use these."""

from __future__ import annotations

import logging

import numpy as np

from .tokens import EOS, PAD, UNK

log = logging.getLogger(__name__)


def row_scores(predictions: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sequence: tokens right, valid tokens, and whether the whole sequence is right."""
    valid = targets != PAD
    right = (predictions == targets) & valid
    return right.sum(-1), valid.sum(-1), (right | ~valid).all(-1)


def accuracy(predictions: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Token and sequence accuracy of (N, T) predicted ids against (N, T) target ids."""
    right, valid, whole = row_scores(predictions, targets)
    return {"token_acc": float(right.sum() / valid.sum()), "seq_acc": float(whole.mean())}


# ---------------------------------------------------------------------------- translation

# French elided clitics end in an apostrophe and attach to the next word ("l'" "homme").
_NO_SPACE_AFTER = ("'", "(", "«", "$")
_NO_SPACE_BEFORE = (".", ",", ")", "»", "%", "...")


def detokenize(tokens: list[str]) -> str:
    """Project tokens back to running text for sacreBLEU's own tokenizer: words joined by
    spaces, except after an elided clitic ("l'" "homme" -> "l'homme") or an opening
    bracket, and before a period, comma or closing bracket. (Spacing around ! ? : ; is
    left as is: sacreBLEU's 13a tokenizer splits those off either way.)"""
    text = ""
    for i, token in enumerate(tokens):
        glue = i == 0 or tokens[i - 1].endswith(_NO_SPACE_AFTER) or token in _NO_SPACE_BEFORE
        text += token if glue else " " + token
    return text


def translation_scores(
    hypotheses: list[list[str]], references: list[list[str]], raw_references: list[str], unk: str
) -> dict:
    """Corpus BLEU and chrF of greedy translations (sacreBLEU), two ways:

    * ``bleu``, ``chrf``: on the project's own tokens, joined by spaces, with
      ``tokenize="none"``; ``references`` are the corpus's words (never ``unk``), so a
      hypothesis ``unk`` never matches. This measures the model, not a tokenizer.
    * ``bleu_detok``: sacreBLEU's standard score (its default 13a tokenizer) of the
      detokenised hypotheses (:func:`detokenize`, ``unk`` dropped) against the raw,
      lower-cased references, with sacreBLEU's signature, comparable with published numbers.
    """
    from sacrebleu.metrics import BLEU, CHRF

    if any(unk in ref for ref in references):
        raise ValueError(f"references must be the corpus's own words; found {unk!r} in one")
    hyps = [" ".join(h) for h in hypotheses]
    refs = [" ".join(r) for r in references]
    bleu, chrf = BLEU(tokenize="none", force=True), CHRF()  # force: tokenized on purpose (no warning)
    standard = BLEU(lowercase=True)  # the model writes lower case; the signature then says case:lc
    detok = [detokenize([w for w in h if w != unk]) for h in hypotheses]
    return {
        "bleu": round(bleu.corpus_score(hyps, [refs]).score, 4),
        "chrf": round(chrf.corpus_score(hyps, [refs]).score, 4),
        "bleu_detok": round(standard.corpus_score(detok, [list(raw_references)]).score, 4),
        "bleu_detok_signature": str(standard.get_signature()),
    }


def words_of(ids, vocab: list[str]) -> list[str]:
    """The words of one decoded row, up to its end of sequence."""
    out = []
    for i in ids:
        if i in (EOS, PAD):
            break
        out.append(vocab[i])
    return out


def text_scores(predictions: np.ndarray, arrays: dict, vocab: dict) -> dict:
    """BLEU and chrF of greedy test translations against the references the dataset keeps
    beside its arrays (attend.scoring.translation_scores); nothing for tasks without them."""
    if "test_reference" not in arrays:
        return {}
    hyps = [words_of(row, vocab["tgt_vocab"]) for row in predictions]
    refs = [str(r).split() for r in arrays["test_reference"]]
    scores = translation_scores(hyps, refs, [str(r) for r in arrays["test_written"]], UNK)
    log.info(
        "test BLEU %.2f, chrF %.2f (project tokens); standard BLEU %.2f (%s)",
        scores["bleu"],
        scores["chrf"],
        scores["bleu_detok"],
        scores["bleu_detok_signature"],
    )
    return {f"test_{k}": v for k, v in scores.items()}
