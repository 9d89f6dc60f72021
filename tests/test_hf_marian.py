"""A Marian trained with Hugging Face on a translation dataset of the pipeline
(outside/marian.py), then probed and analysed by attend's own commands, end to end: the
path `make marian` takes on the real corpus, here on a small made-up corpus with a tiny
model and a tiny SentencePiece vocabulary (about a minute).

These tests need PyTorch, transformers, sentencepiece and sacrebleu, which the main
environment does not have: `make test` builds `.venv-hf` and tests/test_hf_environment.py
runs this file there. In an environment without torch they skip."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the hf environment (.venv-hf) runs these: tests/test_hf_environment.py")
transformers = pytest.importorskip("transformers")
pytest.importorskip("sacrebleu")

from attend import probe  # noqa: E402
from attend.artifacts import save_dataset  # noqa: E402
from attend.config import defaults  # noqa: E402
from attend.tasks import build_dataset  # noqa: E402

pytestmark = pytest.mark.slow  # trains a model

REPO = Path(__file__).resolve().parents[1]
PROGRAM = REPO / "outside" / "marian.py"
STEPS, TEST_PAIRS, PROBED = 40, 16, 12


def marian_program():
    """outside/marian.py as a module (it is a program, not part of the package)."""
    if "outside_marian" not in sys.modules:
        spec = importlib.util.spec_from_file_location("outside_marian", PROGRAM)
        sys.modules["outside_marian"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["outside_marian"])
    return sys.modules["outside_marian"]


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
    """A translation dataset made by the pipeline's own code from the small corpus, and a
    tiny Marian trained on its training split by outside/marian.py."""
    root = tmp_path_factory.mktemp("marian")
    _corpus(root / "fra.txt")
    cfg = {"translation": {**{k: v for k, v in defaults("data.translation").items() if k != "corpus"}, "min_count": 2}}
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
