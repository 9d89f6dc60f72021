"""Scores: BLEU and chrF of translations (attend.scoring) on hand-made corpora whose
scores follow from the definition, and the detokeniser's round trip."""

from __future__ import annotations

import pytest

from attend.scoring import detokenize, translation_scores
from attend.tasks.translation import tokenize

UNK = "<unk>"


def scores(hyps, refs):
    return translation_scores([h.split() for h in hyps], [r.split() for r in refs], refs, UNK)


def test_identical_translations_score_100():
    refs = ["le chat est noir .", "tom va à la gare ."]
    result = scores(refs, refs)
    assert result["bleu"] == pytest.approx(100) and result["chrf"] == pytest.approx(100)
    assert result["bleu_detok"] == pytest.approx(100)
    assert "tok:13a" in result["bleu_detok_signature"] and "case:lc" in result["bleu_detok_signature"]


def test_a_hypothesis_unk_never_matches():
    # One wrong last word of six: n-gram precisions 5/6, 4/5, 3/4, 2/3 and no brevity
    # penalty, so BLEU = (1/3) ** (1/4) = 75.98, whatever the reference word was.
    expected = 100 * (5 / 6 * 4 / 5 * 3 / 4 * 2 / 3) ** 0.25
    assert scores(["a b c d e <unk>"], ["a b c d e f"])["bleu"] == pytest.approx(expected, abs=0.01)
    assert scores(["a b c d e g"], ["a b c d e f"])["bleu"] == pytest.approx(expected, abs=0.01)
    with pytest.raises(ValueError, match="corpus's own words"):
        scores(["a b"], ["a <unk>"])


def test_brevity_penalty():
    # Half the reference, every n-gram right: BLEU = exp(1 - 8/4) = 36.79.
    assert scores(["a b c d"], ["a b c d e f g h"])["bleu"] == pytest.approx(100 * 2.718281828**-1, abs=0.01)


@pytest.mark.parametrize(
    "text",
    [
        "l'homme qu'il a vu est là.",
        "jusqu'à aujourd'hui, (oui) il est 2:30.",
        "arrête-toi ! est-ce vrai ?",
        "« oui », dit-il...",
    ],
)
def test_detokenize_round_trips_through_the_tokenizer(text):
    tokens = tokenize(text)
    assert tokenize(detokenize(tokens)) == tokens
    assert detokenize(tokenize("L'homme est là.")) == "l'homme est là."
