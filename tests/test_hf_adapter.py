"""The Hugging Face adapter (attend.adapters.hf) on tiny randomly initialised Marian, BART
and T5 models built from configs: no download, no network.

These tests need PyTorch and transformers, which the main environment does not have:
`make test` builds `.venv-hf` (envs/requirements-hf.txt) and tests/test_hf_environment.py
runs this file there. In an environment without torch they skip."""

import json
import os
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
    model, src, tgt = tiny(name)
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


def _local_model(folder: Path) -> None:
    """A tiny Marian and a word-level tokenizer that appends </s>, saved as a Hub folder is."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    model, _, _ = tiny("marian")
    words = ["<pad>", "</s>", "<unk>"] + [f"w{i}" for i in range(VOCAB - 3)]
    vocab = {w: i for i, w in enumerate(words)}
    model.config.pad_token_id, model.config.eos_token_id, model.config.decoder_start_token_id = 0, 1, 0
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    model.save_pretrained(folder)
    fast.save_pretrained(folder)


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


@pytest.mark.parametrize(
    "problem, expect",
    [
        ("no pairs file", "the pairs file is missing"),
        ("a line without a tab", "line 2: expected source<TAB>target"),
        ("no such model", "could not load"),
    ],
)
def test_bad_input_fails_in_one_line(tmp_path, problem, expect, capsys, monkeypatch):
    (tmp_path / "pairs.tsv").write_text("a b\tc d\nno tab here\n" if problem == "a line without a tab" else "a\tb\n")
    pairs = tmp_path / ("missing.tsv" if problem == "no pairs file" else "pairs.tsv")
    if problem != "no such model":
        _local_model(tmp_path / "model")
        capsys.readouterr()  # saving it draws a progress bar
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = hf.main(["--model", str(tmp_path / "model"), "--pairs", str(pairs), "--out", str(tmp_path / "p.npz")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert expect in lines[0] and lines[0].startswith("attend probe-hf: error:"), lines
