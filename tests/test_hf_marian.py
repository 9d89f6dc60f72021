"""A Marian trained with Hugging Face on a translation dataset of the pipeline
(outside/marian.py), then probed and analysed by attend's own commands, end to end: the
path `make marian` takes on the real corpus, here on a small made-up corpus with a tiny
model and a tiny SentencePiece vocabulary (about a minute).

These tests need PyTorch, transformers, sentencepiece and sacrebleu, which the main
environment does not have: `make test` builds `.venv-hf` and tests/test_hf_environment.py
runs this file there. In an environment without torch they skip."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the hf environment (.venv-hf) runs these: tests/test_hf_environment.py")
transformers = pytest.importorskip("transformers")
pytest.importorskip("sacrebleu")

from outside_programs import outside_program  # noqa: E402

from attend import probe  # noqa: E402
from attend.analysis.measure import MIN_SEQUENCES  # noqa: E402
from attend.artifacts import save_dataset  # noqa: E402
from attend.config import defaults  # noqa: E402
from attend.tasks import build_dataset  # noqa: E402

pytestmark = pytest.mark.slow  # trains a model

REPO = Path(__file__).resolve().parents[1]
PROGRAM = REPO / "outside" / "marian.py"
STEPS, TEST_PAIRS, PROBED = 40, 16, MIN_SEQUENCES  # attend analyse takes no fewer


def marian_program():
    return outside_program("marian")


def _corpus(path: Path) -> None:
    """Short English -> French sentences, varied enough for a dataset's three splits and
    a SentencePiece model; a few nouns occur once, so the dataset has <unk>."""
    subjects = [("I", "Je"), ("We", "Nous"), ("They", "Ils"), ("You", "Vous")]
    verbs = [("see", ("vois", "voyons", "voient", "voyez")), ("like", ("aime", "aimons", "aiment", "aimez"))]
    nouns = [("cat", "chat"), ("dog", "chien"), ("house", "maison"), ("car", "voiture"), ("tree", "arbre")]
    nouns += [(f"bird{i}", f"oiseau{i}") for i in range(6)]  # rare words
    lines = []
    for s, (en_s, fr_s) in enumerate(subjects):
        for en_v, fr_v in verbs:
            for n, (en_n, fr_n) in enumerate(nouns):
                if n >= 5 and (s + n) % 4:
                    continue
                lines.append(f"{en_s} {en_v} the {en_n}.\t{fr_s} {fr_v[s]} le {fr_n}.")
                lines.append(f"{en_s} {en_v} the {en_n}!\t{fr_s} {fr_v[s]} le {fr_n} !")
                lines.append(f"Do {en_s.lower()} {en_v} the {en_n}?\t{fr_s} {fr_v[s]} le {fr_n} ?")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A translation dataset made by the pipeline's own code from the small corpus (a fifth
    of it the test split: enough pairs for attend analyse), and a tiny Marian trained on its
    training split by outside/marian.py."""
    root = tmp_path_factory.mktemp("marian")
    _corpus(root / "fra.txt")
    cfg = {
        "translation": {
            **{k: v for k, v in defaults("data.translation").items() if k != "corpus"},
            "min_count": 2,
            "test_fraction": 0.2,
        }
    }
    arrays, record = build_dataset("translation", cfg, 0, root / "fra.txt")
    record["meta"]["corpus"] = "fra.txt"  # as the workflow records it: relative to where it ran
    save_dataset(root / "data" / "dataset.npz", root / "data" / "vocab.json", arrays, record)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HF_HUB_OFFLINE="1")
    command = [sys.executable, "-W", "ignore", str(PROGRAM), "--dataset", "data/dataset.npz", "--out", "model"]
    command += ["--size", "tiny", "--steps", str(STEPS), "--batch-size", "16", "--lr", "3e-3", "--warmup", "10"]
    command += ["--test-limit", str(TEST_PAIRS), "--valid-limit", "8", "--log-every", "10", "--valid-every", "20"]
    run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return root, arrays, env


def test_the_folder_loads_as_a_hub_model_does(trained):
    root = trained[0]
    folder = root / "model"
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModelForSeq2SeqLM.from_pretrained(folder)
    assert isinstance(tokenizer, transformers.MarianTokenizer) and isinstance(model, transformers.MarianMTModel)
    # Marian's conventions: </s> 0, <unk> 1, <pad> last and the decoder's start token
    vocab = tokenizer.get_vocab()
    assert (vocab["</s>"], vocab["<unk>"], vocab["<pad>"]) == (0, 1, len(vocab) - 1)
    config = model.config
    assert (config.pad_token_id, config.decoder_start_token_id, config.eos_token_id) == (len(vocab) - 1,) * 2 + (0,)
    assert config.vocab_size == len(vocab) and model.get_input_embeddings().weight.shape == (len(vocab), 32)
    ids = tokenizer("I see the cat.")["input_ids"]
    assert ids[-1] == 0 and tokenizer.decode(ids, skip_special_tokens=True) == "I see the cat."
    assert tokenizer.decode(tokenizer(text_target="Je vois le chat.")["input_ids"], skip_special_tokens=True) == (
        "Je vois le chat."
    )


def test_it_trained_and_was_scored_on_the_datasets_test_split(trained):
    root, arrays, _ = trained
    record = json.loads((root / "model" / "training.json").read_text())
    assert record["data"]["train_pairs"] == len(arrays["train_src"])
    assert record["size"]["parameters"] == sum(
        p.numel() for p in transformers.MarianMTModel.from_pretrained(root / "model").parameters()
    )
    losses = [entry["loss"] for entry in record["history"]]
    assert [entry["step"] for entry in record["history"]] == list(range(10, STEPS + 1, 10))
    assert losses[-1] < losses[0], losses  # it learned something
    assert "valid_loss" in record["history"][-1]
    assert record["core_seconds"]["training"] > 0
    hypotheses = (root / "model" / "test_hypotheses.txt").read_text(encoding="utf-8").splitlines()
    assert len(hypotheses) == TEST_PAIRS
    scores = json.loads((root / "model" / "scores.json").read_text())
    assert scores["decoding"] == "greedy"
    for key in ("bleu", "chrf", "bleu_detok", "bleu_written"):
        assert 0 <= scores[key] <= 100
    # the scores are those of its translations against the dataset's own references
    program = marian_program()
    n = TEST_PAIRS
    references, written = [str(r) for r in arrays["test_reference"][:n]], [str(w) for w in arrays["test_written"][:n]]
    again = program.score(hypotheses, references, written)
    assert {k: again[k] for k in ("bleu", "chrf", "bleu_detok", "bleu_written")} == {
        k: scores[k] for k in ("bleu", "chrf", "bleu_detok", "bleu_written")
    }


def test_scoring_is_the_pipelines(trained):
    """The written French scores 100 against the references (tokenised by the project's
    tokeniser, they are the references' own words), a wrong translation less."""
    _, arrays, _ = trained
    program = marian_program()
    references, written = [str(r) for r in arrays["test_reference"]], [str(w) for w in arrays["test_written"]]
    perfect = program.score(written, references, written)
    assert perfect["bleu"] == perfect["chrf"] == perfect["bleu_detok"] == perfect["bleu_written"] == 100
    shifted = program.score(written[1:] + written[:1], references, written)
    assert shifted["bleu"] < 100 and shifted["chrf"] < 100


def test_attend_probes_and_analyses_it(trained):
    root, _, env = trained
    attend = [sys.executable, "-m", "attend.cli"]
    steps = [
        ["test-pairs", "data/dataset.npz", "--limit", str(PROBED), "--out", "pairs.tsv"],
        ["probe-hf", "--model", "model", "--pairs", "pairs.tsv", "--out", "probe.npz"],
        ["analyse", "probe.npz", "--out", "analysis"],
    ]
    for step in steps:
        run = subprocess.run(attend + step, cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, (step, (run.stdout + run.stderr)[-4000:])
    arrays = probe.load(root / "probe.npz")
    layers, heads, d_model = 2, 2, 32
    assert probe.form(arrays) == "layers" and (int(arrays["layers"]), int(arrays["heads"])) == (layers, heads)
    n, src_pos = arrays["enc_tokens"].shape
    tgt_pos = arrays["dec_inputs"].shape[1]
    assert n == PROBED
    assert arrays["enc_states"].shape == (n, src_pos, d_model + 1)  # + the constant 1 that carries the biases
    assert arrays["layer_states"].shape == (n, layers, tgt_pos, d_model + 1)
    assert arrays["layer_attention"].shape == (n, layers, heads, tgt_pos, src_pos)
    assert arrays["layer_W_q"].shape == arrays["layer_W_k"].shape == (layers, heads, d_model + 1, d_model // heads)
    # the probe's tokens are the model's SentencePiece pieces of the sentences probed
    english = [line.split("\t")[0] for line in (root / "pairs.tsv").read_text(encoding="utf-8").splitlines()]
    for i in range(n):
        pieces = [str(arrays["src_vocab"][t]) for t in arrays["enc_tokens"][i, : arrays["enc_len"][i] - 1]]
        assert "".join(pieces).replace("▁", " ").strip() == english[i]
    analysis = root / "analysis"
    for table in ("variance", "term_shares", "approximation", "word_variance"):
        assert len(pd.read_csv(analysis / f"{table}.csv")) > 0, table
    shares = pd.read_csv(analysis / "term_shares.csv")
    units = {(layer, head) for layer in range(layers) for head in range(heads)}
    assert set(zip(shares["layer"], shares["head"])) == {(-1, -1), (0, -1), (1, -1)} | units
    assert np.allclose(shares.groupby(["layer", "head", "step"])["share"].sum(), 1, atol=1e-5)
    assert shares.groupby(["layer", "head", "step"])["term"].nunique().eq(9).all()
    variance = pd.read_csv(analysis / "variance.csv")
    parts = variance[variance["component"].isin(["mu", "chi", "delta"])]
    assert np.allclose(parts.groupby("side")["fraction"].sum(), 1, atol=1e-5) and set(parts["side"]) == {
        "encoder",
        "decoder",
    }
    assert "▁the" in set(pd.read_csv(analysis / "word_variance.csv")["word"])  # χ is per SentencePiece piece
    for figure in ("attention", "term_shares", "approximation", "word_variance", "mechanism", "units"):
        assert (analysis / f"{figure}.png").stat().st_size > 0 and (analysis / f"{figure}.pdf").is_file(), figure
    summary = (analysis / "summary.md").read_text(encoding="utf-8")
    assert f"{PROBED} sequences" in summary and f"{layers} layers × {heads} heads" in summary
    skipped = summary.split("## Skipped")[1].split("\n## ")[0]
    assert "dictionary" in skipped  # no value path: a Transformer's context reaches the logits through later layers


def _gold_files(folder: Path, n: int = 24) -> list[tuple[list[str], list[str]]]:
    """Gold files of the small corpus's sentences, tokenised as the Hansards files are
    (space-separated, punctuation apart): word k of the English linked to word k of the
    French (sure), and the article also to the noun (possible)."""
    subjects = [("I", "Je", "vois"), ("We", "Nous", "voyons"), ("They", "Ils", "voient"), ("You", "Vous", "voyez")]
    nouns = [("cat", "chat"), ("dog", "chien"), ("house", "maison"), ("car", "voiture"), ("tree", "arbre")]
    pairs = []
    for k in range(n):
        (en_s, fr_s, fr_v), (en_n, fr_n) = subjects[k % 4], nouns[(k // 4) % 5]
        end = "!" if k >= 20 else "."
        pairs.append(([en_s, "see", "the", en_n, end], [fr_s, fr_v, "le", fr_n, end]))
    folder.mkdir()
    (folder / "enfr.src-tgt").write_text("".join(f"{' '.join(s)} ||| {' '.join(t)}\n" for s, t in pairs))
    (folder / "enfr.gold").write_text("1-1 2-2 3-3 4-4 5-5 3p4\n" * n)
    return pairs


def test_attend_probes_it_on_gold_alignments_and_reads_them_by_word(trained):
    root, _, env = trained
    pairs = _gold_files(root / "gold")
    attend = [sys.executable, "-m", "attend.cli"]
    steps = [
        ["probe-hf", "--model", "model", "--gold", "gold", "--out", "gold.npz"],
        ["analyse", "gold.npz", "--out", "gold-analysis", "--no-figures"],
    ]
    for step in steps:
        run = subprocess.run(attend + step, cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, (step, (run.stdout + run.stderr)[-4000:])
    arrays = probe.load(root / "gold.npz")
    assert len(arrays["gold_links"]) == 6 * len(pairs) and arrays["gold_sure"].sum() == 5 * len(pairs)
    # each gold token is the text of its pieces (SentencePiece's, the tokens joined by spaces)
    for n, (src, tgt) in enumerate(pairs):
        for tokens, ids, words, vocab in (
            (src, arrays["enc_tokens"][n], arrays["enc_word"][n], arrays["src_vocab"]),
            (tgt, arrays["targets"][n], arrays["dec_word"][n], arrays["tgt_vocab"]),
        ):
            spelled = ["".join(str(vocab[i]) for i, w in zip(ids, words) if w == k).replace("▁", "") for k in range(5)]
            assert spelled == tokens and (words[len(ids[ids > 0]) - 1 :] == -1).all()
    table = pd.read_csv(root / "gold-analysis" / "gold_alignment.csv")
    assert {(-1, -1), (0, -1), (1, -1), (0, 0), (1, 1)} <= set(zip(table["layer"], table["head"]))
    whole = table[(table["layer"] == -1) & (table["head"] == -1) & (table["length_bin"] == "all")]
    assert (whole["sure"] == 5 * len(pairs)).all() and (whole["possible"] == 6 * len(pairs)).all()
    # the diagonal of five words against five is the sure links exactly
    diagonal = whole[whole["reading"] == "diagonal"]
    assert np.allclose(diagonal["aer"], 0) and np.allclose(diagonal["recall"], 1)
    summary = (root / "gold-analysis" / "summary.md").read_text(encoding="utf-8")
    assert "a word pair is linked when any of their subword pairs is" in summary
    assert "χ by the model's own tokens (subword pieces)" in summary


def test_pairs_in_the_wrong_order_are_refused(trained):
    root, _, env = trained
    pairs = root / "direction.tsv"
    subprocess.run(
        [sys.executable, "-m", "attend.cli", "test-pairs", "data/dataset.npz", "--out", str(pairs)],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    command = [sys.executable, "-m", "attend.cli", "probe-hf", "--model", "model", "--pairs", str(pairs)]
    run = subprocess.run(
        command + ["--out", "swapped.npz", "--swap"], cwd=root, env=env, capture_output=True, text=True
    )
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, run.stderr[-3000:]
    given, exchanged = map(float, re.findall(r"accuracy (\d\.\d+) as probed, (\d\.\d+) with", lines[0])[0])
    assert exchanged - given > 0.2 and "drop --swap" in lines[0]


def test_gold_tokens_map_to_sentencepiece_pieces_through_normalisation(trained):
    """The slow tokenizer's pieces carry no offsets: they are found by decoding, through
    SentencePiece's normalisation (NFKC: "ﬁ" is "fi") and its <unk> (a character it never saw)."""
    from attend.adapters import hf

    tokenizer = transformers.AutoTokenizer.from_pretrained(trained[0] / "model")
    assert not tokenizer.is_fast
    tokens = ["the", "ﬁsh", "see", "Ωmega", "cat", "."]
    ids, words = hf.gold_encoding(tokenizer, [tokens], target=False)
    pieces = tokenizer.convert_ids_to_tokens(ids[0])
    assert "<unk>" in pieces and words[0][-1] == -1 and pieces[-1] == "</s>"
    assert sorted(set(words[0][:-1])) == list(range(len(tokens)))
    for k, token in enumerate(tokens):
        own = [p for p, w in zip(pieces, words[0]) if w == k]
        text = "".join(own).replace("▁", "")
        assert text == token.replace("ﬁ", "fi") or "<unk>" in own, (token, own)
