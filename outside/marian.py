"""Train a small Marian (Hugging Face ``MarianMTModel``, PyTorch, CPU) on the training split
of this project's English -> French translation dataset, with its own SentencePiece
vocabulary, then score it on the test split exactly as the pipeline scores its models.

    make marian                       # the dataset (Snakemake), then this, in .venv-hf
    .venv-hf/bin/python outside/marian.py --dataset results/data/translation/seed0/dataset.npz \\
        --out results/outside/marian [--size small] [--steps 3000] [--threads 1]

Why it lives here (outside/, not src/attend nor the workflow): it is an *outside* model, a
stand-in for one trained elsewhere (``Helsinki-NLP/opus-mt-en-fr``, which this project's
machines cannot download), on which ``attend probe-hf`` and ``attend analyse`` are tried.
Nothing of the pipeline's data -> models -> probes -> ... -> figures flow reads it. Its
model, training loop, tokenizer and file format are Hugging Face's; only the data is the
pipeline's: the sentences of the training split, found again in the corpus by
``attend.adapters.pairs`` (the split is never re-derived), so the model is comparable with
the pipeline's Transformer.

What it writes into ``--out``, a folder that ``from_pretrained`` loads with no network:

* the model (``save_pretrained``: config.json, generation_config.json, model.safetensors);
* its tokenizer, a ``MarianTokenizer`` (source.spm, target.spm, vocab.json,
  tokenizer_config.json), so ``AutoTokenizer.from_pretrained(folder)`` loads it as it loads
  opus-mt-en-fr's: one SentencePiece model (unigram) trained on the English and French of
  the training split, for both sides, and one vocabulary (ids 0 ``</s>``, 1 ``<unk>``, the
  pieces, then ``<pad>``, the decoder's start token, last, as opus-mt's);
* ``training.json``: the size, parameters, steps, losses and core-seconds (user + system
  CPU time of this process, start-up included);
* ``test_hypotheses.txt`` and ``scores.json``: greedy translations of the test split and
  their scores by ``attend.scoring.translation_scores`` (BLEU and chrF on the project's
  tokens against the references' own words, and sacreBLEU's 13a BLEU of the detokenised
  tokens against the written French, as the pipeline scores its models), plus sacreBLEU's
  13a BLEU of the model's own output against the written French (lower-cased).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from attend.adapters.pairs import dataset_pairs, recorded_corpus
from attend.artifacts import DataError, load_npz, write_text
from attend.scoring import translation_scores
from attend.tasks.translation import tokenize
from attend.tokens import UNK


@dataclass(frozen=True)
class Size:
    """A Marian's shape: layers on each side, model width, heads, feed-forward width, and
    the SentencePiece vocabulary (pieces, ``<pad>`` excluded)."""

    layers: int
    d_model: int
    heads: int
    ffn: int
    pieces: int


SIZES = {
    "small": Size(layers=3, d_model=256, heads=4, ffn=1024, pieces=8000),  # the one `make marian` trains
    "tiny": Size(layers=2, d_model=32, heads=2, ffn=64, pieces=300),  # tests/test_hf_marian.py: seconds
}


def core_seconds() -> float:
    """User + system CPU time of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train_sentencepiece(sentences: list[str], pieces: int, folder: Path, threads: int) -> Path:
    """One unigram SentencePiece model of the sentences (deterministic: every sentence is
    read, in order), with Marian's ids: 0 ``</s>``, 1 ``<unk>``, no ``<s>`` nor pad."""
    import sentencepiece as spm

    path = folder / "spm.model"
    with open(path, "wb") as writer:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=writer,
            vocab_size=pieces,
            model_type="unigram",
            character_coverage=1.0,
            eos_id=0,
            unk_id=1,
            bos_id=-1,
            pad_id=-1,
            input_sentence_size=0,
            hard_vocab_limit=False,  # a small sample may not have `pieces` pieces
            num_threads=threads,
            minloglevel=2,
        )
    return path


def save_tokenizer(spm_model: Path, folder: Path):
    """A MarianTokenizer of one SentencePiece model for both sides, saved into ``folder``
    and loaded back from it the way ``attend probe-hf`` loads a model's (AutoTokenizer)."""
    import sentencepiece as spm
    from transformers import AutoTokenizer, MarianTokenizer

    processor = spm.SentencePieceProcessor(model_file=str(spm_model))
    vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    (folder / "spm-vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    tokenizer = MarianTokenizer(
        source_spm=str(spm_model),
        target_spm=str(spm_model),
        vocab=str(folder / "spm-vocab.json"),
        source_lang="en",
        target_lang="fr",
        model_max_length=128,
    )
    tokenizer.save_pretrained(folder)
    (folder / "spm-vocab.json").unlink()
    spm_model.unlink()
    loaded = AutoTokenizer.from_pretrained(folder)
    if not isinstance(loaded, MarianTokenizer):
        raise RuntimeError(f"{folder}: AutoTokenizer loaded a {type(loaded).__name__}, not a MarianTokenizer")
    return loaded


def build_model(size: Size, tokenizer, dropout: float, seed: int):
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    vocab = len(tokenizer.encoder)
    config = MarianConfig(
        vocab_size=vocab,
        decoder_vocab_size=vocab,
        d_model=size.d_model,
        encoder_layers=size.layers,
        decoder_layers=size.layers,
        encoder_attention_heads=size.heads,
        decoder_attention_heads=size.heads,
        encoder_ffn_dim=size.ffn,
        decoder_ffn_dim=size.ffn,
        max_position_embeddings=tokenizer.model_max_length,
        dropout=dropout,
        attention_dropout=0.0,
        activation_dropout=0.0,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        bad_words_ids=[[tokenizer.pad_token_id]],  # never write the start token (as opus-mt)
        num_beams=1,
        do_sample=False,
    )
    return model


def encode(tokenizer, pairs: list[tuple[str, str]]) -> tuple[list[list[int]], list[list[int]]]:
    """Source ids and target ids (labels), each ending with </s>, as ``attend probe-hf``
    encodes them (``attend.adapters.hf.tokenize``)."""
    from attend.adapters.hf import tokenize as hf_tokenize

    return hf_tokenize(tokenizer, pairs)


def batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator):
    """Endless batches of row indices: each epoch shuffled, then grouped in pools of 50
    batches sorted by length (less padding), the batches of a pool in random order."""
    while True:
        order = rng.permutation(len(lengths))
        pool = 50 * batch_size
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            group = [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
            for k in rng.permutation(len(group)):
                yield group[k]


def padded(rows: list[list[int]], pad: int):
    import torch

    out = torch.full((len(rows), max(map(len, rows))), pad, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.as_tensor(row)
    return out


def loss_of(model, src: list[list[int]], tgt: list[list[int]], smoothing: float):
    """Teacher-forced cross-entropy per target token (labels smoothed by ``smoothing``)."""
    import torch

    pad = model.config.pad_token_id
    input_ids = padded(src, pad)
    labels = padded(tgt, -100)
    decoder_input_ids = torch.full_like(labels, pad)
    decoder_input_ids[:, 1:] = labels[:, :-1].clamp(min=0)
    decoder_input_ids[:, 1:][labels[:, :-1] == -100] = pad
    logits = model(
        input_ids=input_ids,
        attention_mask=(input_ids != pad).long(),
        decoder_input_ids=decoder_input_ids,
        decoder_attention_mask=(labels != -100).long(),
        use_cache=False,
    ).logits
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100, label_smoothing=smoothing
    )


def train(model, src, tgt, valid, args, log) -> list[dict]:
    """A plain, seeded loop: AdamW, linear warm-up then linear decay to 0, clipping 1.0."""
    import torch

    rng = np.random.default_rng(args.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0)
    warmup = min(args.warmup, args.steps // 2)

    def rate(step: int) -> float:
        return step / max(1, warmup) if step < warmup else max(0.0, (args.steps - step) / max(1, args.steps - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    lengths = np.array([len(s) + len(t) for s, t in zip(src, tgt)])
    history, running, started = [], [], time.time()
    model.train()
    for step, rows in enumerate(batches(lengths, args.batch_size, rng), 1):
        loss = loss_of(model, [src[i] for i in rows], [tgt[i] for i in rows], args.label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        running.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            entry = {"step": step, "loss": round(float(np.mean(running)), 4), "core_s": round(core_seconds(), 1)}
            running = []
            if valid and (step % args.valid_every == 0 or step == args.steps):
                model.eval()
                with torch.no_grad():
                    entry["valid_loss"] = round(
                        float(
                            np.mean(
                                [
                                    loss_of(model, valid[0][i : i + 100], valid[1][i : i + 100], 0.0).item()
                                    for i in range(0, len(valid[0]), 100)
                                ]
                            )
                        ),
                        4,
                    )
                model.train()
            entry["wall_s"] = round(time.time() - started, 1)
            history.append(entry)
            log(json.dumps(entry))
        if step == args.steps:
            break
    model.eval()
    return history


def translate(model, tokenizer, sources: list[str], batch_size: int = 200) -> list[str]:
    """Greedy translations (one beam, as the pipeline decodes), in the order given."""
    import torch

    order = np.argsort([len(s) for s in sources], kind="stable")
    out: list[str] = [""] * len(sources)
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            inputs = tokenizer([sources[i] for i in rows], return_tensors="pt", padding=True)
            generated = model.generate(**inputs, num_beams=1, do_sample=False, max_new_tokens=64)
            for i, text in zip(rows, tokenizer.batch_decode(generated, skip_special_tokens=True)):
                out[i] = text
    return out


def score(hypotheses: list[str], references: list[str], written: list[str]) -> dict:
    """The pipeline's scores (attend.scoring.translation_scores) of written translations,
    tokenised by the project's tokeniser as the pipeline's hypotheses are; and sacreBLEU's
    13a BLEU of the translations as written, lower-cased, against the written French."""
    from sacrebleu.metrics import BLEU

    scores = translation_scores([tokenize(h) for h in hypotheses], [r.split() for r in references], written, UNK)
    raw = BLEU(lowercase=True)
    scores["bleu_written"] = round(raw.corpus_score(hypotheses, [written]).score, 4)
    scores["bleu_written_signature"] = str(raw.get_signature())
    return scores


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="outside/marian.py",
        description="Train a small MarianMTModel on the training split of the pipeline's translation "
        "dataset (its own SentencePiece vocabulary), save it with save_pretrained, and score it on the "
        "test split as the pipeline scores its models. Runs in .venv-hf.",
    )
    p.add_argument(
        "--dataset", required=True, help="the translation dataset, e.g. results/data/translation/seed0/dataset.npz"
    )
    p.add_argument("--vocab", help="its vocab.json (default: beside the dataset)")
    p.add_argument("--corpus", help="fra.txt (default: the corpus the dataset records)")
    p.add_argument("--out", required=True, help="the folder to write (model, tokenizer, training.json, scores.json)")
    p.add_argument("--size", choices=SIZES, default="small", help="the model's shape (default small)")
    p.add_argument("--steps", type=int, default=3000, help="training steps (default 3000)")
    p.add_argument("--batch-size", type=int, default=128, help="sentence pairs a step (default 128)")
    p.add_argument("--lr", type=float, default=7e-4, help="peak learning rate (default 7e-4)")
    p.add_argument("--warmup", type=int, default=400, help="warm-up steps (default 400)")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--train-limit", type=int, help="train on the first N training pairs only (tests)")
    p.add_argument("--test-limit", type=int, help="score the first N test pairs only (tests)")
    p.add_argument("--valid-limit", type=int, default=1000, help="validation pairs for the loss log (default 1000)")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--valid-every", type=int, default=500)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    import torch
    import transformers

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, flush=True)

    vocab_json = Path(args.vocab) if args.vocab else Path(args.dataset).with_name("vocab.json")
    try:
        corpus = args.corpus or recorded_corpus(args.dataset, vocab_json)
        pairs = dataset_pairs(args.dataset, vocab_json, corpus)
        arrays = load_npz(args.dataset, {"test_reference": 1, "test_written": 1}, "translation dataset")
    except DataError as err:
        print(f"outside/marian.py: error: {err}", file=sys.stderr)
        return 1
    train_pairs, test_pairs = pairs["train"][: args.train_limit], pairs["test"][: args.test_limit]
    references = [str(r) for r in arrays["test_reference"][: len(test_pairs)]]
    written = [str(w) for w in arrays["test_written"][: len(test_pairs)]]
    assert [french for _, french in test_pairs] == written, "the test pairs are not the dataset's test split"
    log(f"{len(train_pairs)} training pairs, {len(test_pairs)} test pairs ({core_seconds():.0f} core-s)")

    size = SIZES[args.size]
    spm_model = train_sentencepiece([s for pair in train_pairs for s in pair], size.pieces, out, args.threads)
    tokenizer = save_tokenizer(spm_model, out)
    src, tgt = encode(tokenizer, train_pairs)
    valid = encode(tokenizer, pairs["valid"][: args.valid_limit]) if args.valid_limit else None
    log(f"tokenizer: {len(tokenizer.encoder)} ids; encoded ({core_seconds():.0f} core-s)")

    model = build_model(size, tokenizer, args.dropout, args.seed)
    parameters = sum(p.numel() for p in model.parameters())
    log(f"MarianMTModel {asdict(size)}: {parameters:,} parameters")
    before = core_seconds()
    history = train(model, src, tgt, valid, args, log)
    trained = core_seconds()
    model.save_pretrained(out)

    hypotheses = translate(model, tokenizer, [english for english, _ in test_pairs])
    write_text(out / "test_hypotheses.txt", "".join(h + "\n" for h in hypotheses))
    scores = score(hypotheses, references, written)
    done = core_seconds()
    record = {
        "size": {**asdict(size), "vocab": len(tokenizer.encoder), "parameters": parameters, "name": args.size},
        "settings": {k: v for k, v in vars(args).items() if k not in ("dataset", "vocab", "corpus", "out")},
        "data": {"dataset": str(args.dataset), "train_pairs": len(train_pairs), "test_pairs": len(test_pairs)},
        "core_seconds": {
            "before_training": round(before, 1),
            "training": round(trained - before, 1),
            "decoding_and_scoring": round(done - trained, 1),
            "total": round(done, 1),
        },
        "history": history,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
    }
    write_text(out / "training.json", json.dumps(record, indent=1) + "\n")
    write_text(out / "scores.json", json.dumps({"decoding": "greedy", **scores}, indent=1) + "\n")
    log(
        f"test BLEU {scores['bleu']:.1f}, chrF {scores['chrf']:.1f} (project tokens); 13a BLEU {scores['bleu_detok']:.1f} "
        f"(detokenised), {scores['bleu_written']:.1f} (as written); {done:.0f} core-s in all; wrote {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
