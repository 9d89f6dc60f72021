"""The Hugging Face adapter (attend.adapters.hf) on tiny randomly initialised Marian, BART
and T5 models built from configs: no download, no network.

These tests need PyTorch and transformers, which the main environment does not have:
`make test` builds `.venv-hf` (envs/requirements-hf.txt) and tests/test_hf_environment.py
runs this file there. In an environment without torch they skip."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the hf environment (.venv-hf) runs these: tests/test_hf_environment.py")
transformers = pytest.importorskip("transformers")

from attend import probe, probe_report  # noqa: E402
from attend.adapters import hf  # noqa: E402
from attend.analysis.attention import score_terms  # noqa: E402
from attend.analysis.decompose import decompose  # noqa: E402
from attend.analysis.measure import MIN_SEQUENCES  # noqa: E402
from attend.artifacts import DataError  # noqa: E402
from attend.tokens import EOS, SOS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VOCAB, WORDS = 40, range(4, 39)  # the model's ids; ids 0-3 and 39 hold each model's specials
SMALL = {"d_model": 16, "vocab_size": VOCAB}


def marian():
    config = transformers.MarianConfig(
        **SMALL,
        encoder_layers=2,
        decoder_layers=3,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=39,
        eos_token_id=0,
        decoder_start_token_id=39,
    )
    return transformers.MarianMTModel(config), (), ()


def bart():
    config = transformers.BartConfig(
        **SMALL,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
    )
    return transformers.BartForConditionalGeneration(config), (0,), (0,)  # BART's sequences start with <s>


def t5():
    config = transformers.T5Config(
        **SMALL,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return transformers.T5ForConditionalGeneration(config), (), ()


MODELS = {"marian": marian, "bart": bart, "t5": t5}


def tiny(name: str, n: int = 10, seed: int = 0):
    """A tiny random model of one kind, with random query and key biases where it has
    biases (initialisation leaves them 0, which would hide a folding error), and n
    (source, target) id sequences of varied lengths, eos-terminated."""
    torch.manual_seed(seed)
    model, src_prefix, tgt_prefix = MODELS[name]()
    layout = hf.layout_of(model)
    for module in hf.cross_attentions(model, layout):
        for linear in (getattr(module, layout.query), getattr(module, layout.key)):
            if linear.bias is not None:
                torch.nn.init.normal_(linear.bias, std=0.5)
    rng = np.random.default_rng(seed)
    eos = model.config.eos_token_id

    def sequence(prefix):
        return [*prefix, *map(int, rng.choice(WORDS, size=rng.integers(2, 8))), eos]

    return model.eval(), [sequence(src_prefix) for _ in range(n)], [sequence(tgt_prefix) for _ in range(n)]


def own_run(model, arrays, src, tgt):
    """The model run on its own (no adapter): its cross_attentions (N, L, H, T, S) and
    its pre-softmax cross-attention scores, from its own projections' outputs."""
    layout = hf.layout_of(model)
    modules = hf.cross_attentions(model, layout)
    outputs = {}
    hooks = [
        getattr(m, part).register_forward_hook(
            lambda mod, args, out, key=(i, part): outputs.__setitem__(key, out.detach())
        )
        for i, m in enumerate(modules)
        for part in (layout.query, layout.key)
    ]
    src_ids, _ = hf._padded(src, model.config.pad_token_id)
    tgt_ids, _ = hf._padded(tgt, model.config.pad_token_id)
    enc_mask = np.arange(src_ids.shape[1])[None] < arrays["enc_len"][:, None]
    dec_mask = np.arange(tgt_ids.shape[1])[None] < arrays["dec_len"][:, None]
    dec_in = np.where(
        dec_mask,
        np.concatenate([np.full((len(tgt), 1), model.config.decoder_start_token_id), tgt_ids[:, :-1]], 1),
        model.config.pad_token_id,
    )
    with torch.no_grad():
        out = model(
            input_ids=torch.as_tensor(src_ids),
            attention_mask=torch.as_tensor(enc_mask.astype(np.int64)),
            decoder_input_ids=torch.as_tensor(dec_in),
            decoder_attention_mask=torch.as_tensor(dec_mask.astype(np.int64)),
            output_attentions=True,
            use_cache=False,
        )
    for hook in hooks:
        hook.remove()
    n, heads = len(src), int(arrays["heads"])
    scores = []
    for i, module in enumerate(modules):
        q = outputs[i, layout.query].reshape(n, -1, heads, outputs[i, layout.query].shape[-1] // heads)
        k = outputs[i, layout.key].reshape(n, -1, heads, outputs[i, layout.key].shape[-1] // heads)
        scores.append(torch.einsum("nthd,nshd->nhts", q, k) * hf.scale_of(module, layout))
    weights = torch.stack(out.cross_attentions, 1).numpy()
    return weights * dec_mask[:, None, None, :, None], torch.stack(scores, 1).double().numpy(), enc_mask, dec_mask


@pytest.mark.parametrize("name", MODELS)
def test_the_recorded_weights_reproduce_the_models_cross_attention(name):
    model, src, tgt = tiny(name)
    arrays = hf.record(model, src, tgt, batch_size=4)
    weights, _, enc_mask, dec_mask = own_run(model, arrays, src, tgt)
    np.testing.assert_allclose(arrays["layer_attention"], weights, atol=1e-6)
    # softmax over the valid source positions of the recorded states and matrices
    q = np.einsum("nltm,lhmd->nlhtd", arrays["layer_states"].astype(np.float64), arrays["layer_W_q"])
    k = np.einsum("nsm,lhmd->nlhsd", arrays["enc_states"].astype(np.float64), arrays["layer_W_k"])
    scores = np.einsum("nlhtd,nlhsd->nlhts", q, k) * float(arrays["scale"])
    scores = np.where(enc_mask[:, None, None, None, :], scores, -np.inf)
    recomputed = np.exp(scores - scores.max(-1, keepdims=True))
    recomputed = recomputed / recomputed.sum(-1, keepdims=True) * dec_mask[:, None, None, :, None]
    assert np.abs(recomputed - weights).max() < 1e-5
    assert arrays["layer_attention"].shape[1:3] == (
        len(hf.cross_attentions(model, hf.layout_of(model))),
        int(arrays["heads"]),
    )
    folded = name != "t5"  # T5's projections have no biases, and its scores no scale
    assert arrays["enc_states"].shape[-1] == model.config.d_model + folded
    assert float(arrays["scale"]) == (
        1.0 if name == "t5" else pytest.approx(int(arrays["layer_W_q"].shape[-1]) ** -0.5)
    )


@pytest.mark.parametrize("name", MODELS)
def test_the_nine_terms_of_every_layer_and_head_sum_to_the_models_scores(name):
    model, src, tgt = tiny(name)
    arrays = hf.record(model, src, tgt)
    _, model_scores, enc_mask, dec_mask = own_run(model, arrays, src, tgt)
    encoder = decompose(arrays["enc_states"], arrays["enc_tokens"], arrays["enc_len"], len(arrays["src_vocab"]))
    valid = dec_mask[:, :, None] & enc_mask[:, None, :]
    for layer in range(int(arrays["layers"])):
        queries = decompose(
            arrays["layer_states"][:, layer], arrays["dec_inputs"], arrays["dec_len"], len(arrays["tgt_vocab"])
        )
        terms = score_terms(
            queries.parts(queries.states),
            encoder.parts(encoder.states),
            arrays["layer_W_q"][layer],
            arrays["layer_W_k"][layer],
            float(arrays["scale"]),
        )  # (H, 9, N, T, S)
        total = terms.sum(1)
        for head in range(int(arrays["heads"])):
            expected = model_scores[:, layer, head][valid]
            np.testing.assert_allclose(total[head][valid], expected, atol=1e-4 * max(1.0, np.abs(expected).max()))
            assert np.abs(terms[head]).sum(0)[valid].min() > 0


@pytest.mark.parametrize("name", MODELS)
def test_the_probe_speaks_the_probe_format_and_analyses(name, tmp_path):
    model, src, tgt = tiny(name, n=MIN_SEQUENCES)  # as few as attend analyse takes
    arrays = hf.record(model, src, tgt)
    probe.save(tmp_path / "p.npz", arrays)
    loaded = probe.load(tmp_path / "p.npz")
    assert probe.form(loaded) == "layers"
    n = len(src)
    ends = np.arange(n), loaded["enc_len"] - 1
    assert (loaded["enc_tokens"][ends] == EOS).all() and (
        loaded["targets"][np.arange(n), loaded["dec_len"] - 1] == EOS
    ).all()
    assert (loaded["dec_inputs"][:, 0] == SOS).all()
    np.testing.assert_array_equal(
        loaded["dec_inputs"][:, 1:][loaded["dec_inputs"][:, 1:] > 0],
        loaded["targets"][:, :-1][loaded["dec_inputs"][:, 1:] > 0],
    )
    # without a tokenizer each word is named by the model's id: the renumbering is one-to-one
    config = model.config
    special = {config.pad_token_id: "<pad>", config.eos_token_id: "</s>", getattr(config, "bos_token_id", None): "<s>"}
    for i in range(n):
        named = [str(loaded["src_vocab"][w]) for w in loaded["enc_tokens"][i, : loaded["enc_len"][i]]]
        assert named == [special.get(w, f"[{w}]") for w in src[i]]
        named = [str(loaded["tgt_vocab"][w]) for w in loaded["targets"][i, : loaded["dec_len"][i]]]
        assert named == [special.get(w, f"[{w}]") for w in tgt[i]]
    identity = json.loads(str(loaded["identity"]))
    assert identity["model_type"] == name and identity["sequences"] == n
    result = probe_report.analyse(tmp_path / "p.npz", tmp_path / "out", figures=False)
    shares = result["tables"]["term_shares"]
    layers, heads = int(loaded["layers"]), int(loaded["heads"])
    assert len(set(zip(shares["layer"], shares["head"]))) == 1 + layers + layers * heads
    assert "dictionary" in result["skipped"]


def _word_tokenizer(vocab: dict[str, int], split: bool = True):
    """A fast word-level tokenizer that appends </s> (id 1): words split at spaces and
    punctuation (``split``), else the whole text one word."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    if split:
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()  # w2-w3 -> w2, -, w3
    tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


WORD_VOCAB = {w: i for i, w in enumerate(["<pad>", "</s>", "<unk>"] + [f"w{i}" for i in range(VOCAB - 3)])}


def _local_model(folder: Path, tokenizer: bool = True, always_eos: bool = False) -> None:
    """A tiny Marian and a word-level tokenizer that appends </s>, saved as a Hub folder is
    (without the tokenizer unless ``tokenizer``); ``always_eos``: the model predicts </s>
    at every step (a logit bias of 100), so its teacher-forced token accuracy is the share
    of </s> among the targets: high on short targets, low on long ones."""
    model, _, _ = tiny("marian")
    model.config.pad_token_id, model.config.eos_token_id, model.config.decoder_start_token_id = 0, 1, 0
    if always_eos:
        model.final_logits_bias[0, 1] = 100.0
    model.save_pretrained(folder)
    if tokenizer:
        _word_tokenizer(WORD_VOCAB).save_pretrained(folder)


def test_the_command_probes_a_local_model_on_a_pairs_file(tmp_path):
    _local_model(tmp_path / "model")
    lines = ["w1 w2 w3\tw4 w5\tattribution", "w6 w7\tw8 w9 w10 w11", "", "w12\tw13"]
    (tmp_path / "pairs.tsv").write_text("\n".join(lines) + "\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    command = [
        sys.executable,
        "-m",
        "attend.cli",
        "probe-hf",
        "--model",
        str(tmp_path / "model"),
        "--pairs",
        str(tmp_path / "pairs.tsv"),
        "--out",
        str(tmp_path / "p.npz"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    arrays = probe.load(tmp_path / "p.npz")
    assert len(arrays["enc_len"]) == 3
    assert [str(arrays["src_vocab"][i]) for i in arrays["enc_tokens"][0, :4]] == ["w1", "w2", "w3", "</s>"]
    assert [str(arrays["tgt_vocab"][i]) for i in arrays["targets"][1, :5]] == ["w8", "w9", "w10", "w11", "</s>"]
    limited = subprocess.run(
        command[:-1] + [str(tmp_path / "two.npz"), "--limit", "2", "--swap"], capture_output=True, text=True, env=env
    )
    assert limited.returncode == 0, limited.stderr[-3000:]
    swapped = probe.load(tmp_path / "two.npz")
    assert len(swapped["enc_len"]) == 2 and [str(swapped["src_vocab"][i]) for i in swapped["enc_tokens"][0, :3]] == [
        "w4",
        "w5",
        "</s>",
    ]


LONG, SHORT = " ".join(f"w{i}" for i in range(1, 9)), "w9"  # 9 target tokens against 2


@pytest.mark.parametrize(
    "problem, expect",
    [
        ("no pairs file", "the pairs file is missing"),
        ("a line without a tab", "line 2: expected source<TAB>target"),
        ("no such model", "could not load"),
        ("a model without a tokenizer", "no tokenizer beside the model"),
        (
            "a decoder-only model",
            "decoder-only (model_type gpt2): probe-hf needs an encoder-decoder with cross-attention",
        ),
        ("a model_type probe-hf does not know", "model_type 'mbart' is not one probe-hf knows (marian, bart, t5)"),
        ("a pair longer than the model's positions", "pair 2: its source is 71 tokens, more than the model's 64"),
        ("pairs in the wrong column order", "the pairs look swapped: teacher-forced token accuracy 0.111 as probed"),
    ],
)
def test_bad_input_fails_in_one_line(tmp_path, problem, expect, capsys, monkeypatch):
    pairs = {
        "a line without a tab": "a b\tc d\nno tab here\n",
        "a pair longer than the model's positions": "w1\tw2\n" + " ".join(["w3"] * 70) + "\tw4\n",
        "pairs in the wrong column order": f"{SHORT}\t{LONG}\n" * 3,
    }.get(problem, "a\tb\n")
    (tmp_path / "pairs.tsv").write_text(pairs)
    pairs = tmp_path / ("missing.tsv" if problem == "no pairs file" else "pairs.tsv")
    folder = tmp_path / "model"
    if problem == "a decoder-only model":  # a config alone: refused before any weight is looked for
        transformers.GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=VOCAB).save_pretrained(folder)
    elif problem == "a model_type probe-hf does not know":
        transformers.MBartConfig(d_model=16, vocab_size=VOCAB).save_pretrained(folder)
    elif problem != "no such model":
        _local_model(
            folder,
            tokenizer=problem != "a model without a tokenizer",
            always_eos=problem == "pairs in the wrong column order",
        )
    capsys.readouterr()  # saving a model draws a progress bar
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = hf.main(["--model", str(folder), "--pairs", str(pairs), "--out", str(tmp_path / "p.npz")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert expect in lines[0] and lines[0].startswith("attend probe-hf: error:"), lines
    assert not (tmp_path / "p.npz").exists()
    if problem == "a model without a tokenizer":
        assert f"tokenizer.save_pretrained('{folder}')" in lines[0]
    if problem == "pairs in the wrong column order":  # the option it names fixes it
        assert "0.500 with source and target exchanged" in lines[0] and "add --swap" in lines[0]
        out = str(tmp_path / "p.npz")
        assert hf.main(["--model", str(folder), "--pairs", str(pairs), "--out", out, "--swap"]) == 0
        assert [str(t) for t in probe.load(out)["src_vocab"][3:]] == LONG.split()
        (tmp_path / "swapped.tsv").write_text(f"{LONG}\t{SHORT}\n" * 3)
        args = ["--model", str(folder), "--pairs", str(tmp_path / "swapped.tsv"), "--out", out, "--swap"]
        assert hf.main(args) == 1
        assert "drop --swap" in capsys.readouterr().err
        args = ["--model", str(folder), "--pairs", str(pairs), "--out", out, "--no-direction-check"]
        assert hf.main(args) == 0


# ---------------------------------------------------------------------------- --gold


def _gold(folder: Path, n: int = 24, seed: int = 0) -> tuple[list, list, list]:
    """Gold files of n pairs of w-words (some hyphenated: one gold token, three pieces),
    with random sure and possible links; the pairs and links as written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def sentence():
        words = [f"w{i}" for i in rng.integers(1, 30, size=rng.integers(2, 7))]
        if rng.random() < 0.5:
            k = int(rng.integers(len(words)))
            words[k] = f"{words[k]}-w{int(rng.integers(1, 30))}"
        return words

    pairs, links = [(sentence(), sentence()) for _ in range(n)], []
    for src, tgt in pairs:
        chosen = {(int(rng.integers(len(src))) + 1, int(rng.integers(len(tgt))) + 1) for _ in range(4)}
        links.append([f"{i}{'-' if rng.random() < 0.7 else 'p'}{j}" for i, j in sorted(chosen)])
    (folder / "enfr.src-tgt").write_text("".join(f"{' '.join(s)} ||| {' '.join(t)}\n" for s, t in pairs))
    (folder / "enfr.gold").write_text("".join(" ".join(row) + "\n" for row in links))
    return [s for s, _ in pairs], [t for _, t in pairs], links


def test_probe_hf_gold_writes_the_links_and_each_positions_word(tmp_path, capsys, monkeypatch):
    _local_model(tmp_path / "model")
    src, tgt, links = _gold(tmp_path / "gold")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = ["--model", str(tmp_path / "model"), "--gold", str(tmp_path / "gold"), "--out", str(tmp_path / "g.npz")]
    assert hf.main(args) == 0, capsys.readouterr().err
    arrays = probe.load(tmp_path / "g.npz")
    expected = [
        (n, int(j) - 1, int(i) - 1) for n, row in enumerate(links) for i, j in (re.split("[-p]", x) for x in row)
    ]
    assert sorted(map(tuple, arrays["gold_links"].tolist())) == sorted(expected)
    assert arrays["gold_sure"].sum() == sum("-" in x for row in links for x in row)
    # every position's word is the gold token whose text holds its piece; </s> none
    for side, tokens, ids, words, vocab, lengths in (
        ("source", src, arrays["enc_tokens"], arrays["enc_word"], arrays["src_vocab"], arrays["enc_len"]),
        ("target", tgt, arrays["targets"], arrays["dec_word"], arrays["tgt_vocab"], arrays["dec_len"]),
    ):
        for n in range(len(tokens)):
            pieces = [str(vocab[i]) for i in ids[n, : lengths[n] - 1]]
            word = words[n, : lengths[n] - 1]
            assert words[n, lengths[n] - 1] == -1 and (words[n, lengths[n] :] == -1).all(), side
            assert sorted(set(word)) == list(range(len(tokens[n]))), (side, n)  # every token, in order
            for piece, w in zip(pieces, word):
                assert piece == "<unk>" or piece in tokens[n][w].split("-"), (side, n, piece, tokens[n][w])
            hyphenated = [w for w, token in enumerate(tokens[n]) if "-" in token]
            for w in hyphenated:  # one gold token, three positions: w, -, w
                assert list(word).count(w) == 3 and "<unk>" in [p for p, x in zip(pieces, word) if x == w]
    # swapped: the French is the source and each link's words trade places
    swapped = ["--model", str(tmp_path / "model"), "--gold", str(tmp_path / "gold" / "enfr.src-tgt")]
    swapped += ["--out", str(tmp_path / "s.npz"), "--swap", "--limit", "5"]
    assert hf.main(swapped) == 0, capsys.readouterr().err
    again = probe.load(tmp_path / "s.npz")
    assert len(again["enc_len"]) == 5 and (again["enc_len"] == arrays["dec_len"][:5]).all()
    kept = arrays["gold_links"][:, 0] < 5
    assert sorted(map(tuple, again["gold_links"].tolist())) == sorted(
        map(tuple, arrays["gold_links"][kept][:, [0, 2, 1]].tolist())
    )
    # attend analyse reads the links at the word level and says so
    result = probe_report.analyse(tmp_path / "g.npz", tmp_path / "out", figures=False)
    table = result["tables"]["gold_alignment"]
    whole = table[(table["layer"] == -1) & (table["head"] == -1) & (table["length_bin"] == "all")]
    assert set(whole["reading"]) == {"attention", "temporal_only", "without_mu_mu", "mean_attention", "diagonal"}
    assert (whole["sure"] == arrays["gold_sure"].sum()).all()
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert probe_report.WORD_CONVENTION[True] in summary and probe_report.WORD_CONVENTION[False] not in summary


@pytest.mark.parametrize(
    "problem, expect",
    [
        ("no links file", "enfr.gold: missing, the links"),
        ("a link past the sentence", "line 1: '9-1' is not a link"),
    ],
)
def test_bad_gold_input_fails_in_one_line(tmp_path, problem, expect, capsys, monkeypatch):
    _local_model(tmp_path / "model")
    _gold(tmp_path / "gold")
    if problem == "no links file":
        (tmp_path / "gold" / "enfr.gold").unlink()
    else:
        lines = (tmp_path / "gold" / "enfr.gold").read_text().splitlines()
        (tmp_path / "gold" / "enfr.gold").write_text("\n".join(["9-1", *lines[1:]]) + "\n")
    capsys.readouterr()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = hf.main(["--model", str(tmp_path / "model"), "--gold", str(tmp_path / "gold"), "--out", str(tmp_path / "g")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and expect in lines[0], lines


def test_the_word_rule_on_character_spans():
    """A piece goes with the gold token its characters overlap (the first of two), a piece
    of spaces only with the next piece's token, a special token with none."""
    text, spans = hf.token_spans(["ab", "c'", "est"])
    assert text == "ab c' est" and spans == [(0, 2), (3, 5), (6, 9)]
    offsets = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 7), (7, 9), None]  # (2, 3) is a space, (4, 7) "' e"
    assert hf._words_of(offsets, text, spans) == [0, 0, 1, 1, 1, 2, -1]
    assert hf._words_of([(0, 2), (2, 3), (3, 4), None, (8, 9)], text, spans) == [0, 1, 1, -1, 2]


def test_a_tokenizer_that_joins_gold_tokens_is_refused():
    vocab = {**WORD_VOCAB, "w1 w2": len(WORD_VOCAB)}
    joined = _word_tokenizer(vocab, split=False)
    with pytest.raises(DataError, match=r"gold pair 1: the tokenizer's source pieces do not follow its gold tokens"):
        hf.gold_encoding(joined, [["w1", "w2"]], target=False)
    ids, words = hf.gold_encoding(_word_tokenizer(vocab), [["w1", "w2"]], target=False)
    assert words == [[0, 1, -1]] and ids == [[4, 5, 1]]
