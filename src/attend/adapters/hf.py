"""The probe of a Hugging Face encoder-decoder (PyTorch): a Marian, BART or T5 model,
teacher-forced on reference translations (``pip install 'attend[hf]'``).

    attend probe-hf --model Helsinki-NLP/opus-mt-en-fr --pairs pairs.tsv --out probe.npz

The probe is in the ``layers`` form (docs/probe-format.md): for every decoder layer's
cross-attention it records what enters the query projection (``layer_states``, after that
layer's LayerNorm where the model has one), each head's query and key matrices
(``layer_W_q``, ``layer_W_k``) and the model's own weights (``layer_attention``, its
``cross_attentions``). The key side of every layer is the encoder's output
(``enc_states``; the adapter checks that every layer's key projection reads exactly it).

Biases are folded in exactly: where the projections have biases (Marian, BART), the
states get a constant 1 appended at their valid positions and each head's matrix the
bias as its last row, so ``(x W_q + b_q)·(e W_k + b_k)`` is ``[x, 1] W_q' · [e, 1] W_k'``.
The constant is the same at every position, so it lands in μ: the biases add to the
terms with a μ only. The scale is the model's own (``scaling``: 1/sqrt(d_h) for Marian and
BART; T5 does not scale its scores, so 1). The decoder states are what the LM head reads.

Token ids are renumbered into the probe's convention, one vocabulary per side: the model's
pad, eos and (BART) bos become ``<pad>``, ``</s>``, ``<s>``, the decoder's start token
(whatever the model uses: pad for Marian and T5, eos for BART) is ``<s>`` at step 0, and
every other id seen gets the next id, in the model's order, named by its token (or
``[id]`` without a tokenizer).

No value path is recorded (a Transformer's context reaches the logits through the later
layers, not by one linear map), so the dictionary measurements are skipped.

The command refuses, in one line, what it cannot probe before it loads any weights (a
decoder-only model, a model_type without a :data:`LAYOUTS` entry, a folder without a
tokenizer) and pairs it should not probe: a pair longer than the model's positions, and
pairs in the wrong column order (:func:`check_direction`: a sample teacher-forced both
ways). ``--gold`` probes the pairs of human word alignments (the Hansards format of
``attend.gold_alignment``) and writes their links and the gold word of every subword
position (:func:`gold_encoding`).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import probe as probe_format
from ..artifacts import DataError
from ..gold_alignment import LINKS, PAIRS, Gold, parse_links, parse_pairs
from ..tokens import EOS, PAD, SOS, SPECIALS

EXTRA = "pip install 'attend[hf]'"
# Files of which one at least is beside a model whose tokenizer can be loaded
# (save_pretrained writes tokenizer_config.json; older folders may hold only the vocabulary).
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "source.spm", "spiece.model", "sentencepiece.bpe.model")
# The column-order check (check_direction): the first pairs teacher-forced both ways; the
# file is refused when the swapped direction's token accuracy is higher by more than the
# margin (the trained Marian: 0.768 as given, 0.198 swapped; a random model: both near 0).
DIRECTION_SAMPLE = 32
DIRECTION_MARGIN = 0.2


@dataclass(frozen=True)
class Layout:
    """Where a kind of model (its ``config.model_type``) keeps its cross-attention: the
    name of each decoder layer's cross-attention module, of its query and key projections
    (``torch.nn.Linear``) and of its head count and head width; and the scale of its
    scores where the module has no ``scaling`` attribute (older transformers): ``None``
    for 1/sqrt(d_h)."""

    cross: str
    query: str
    key: str
    heads: str
    head_dim: str
    scale: float | None


LAYOUTS = {  # config.model_type -> its layout
    "marian": Layout("encoder_attn", "q_proj", "k_proj", "num_heads", "head_dim", None),
    "bart": Layout("encoder_attn", "q_proj", "k_proj", "num_heads", "head_dim", None),
    "t5": Layout("EncDecAttention", "q", "k", "n_heads", "key_value_proj_dim", 1.0),
}


def layout_of(model) -> Layout:
    """Where this model keeps its cross-attention (:data:`LAYOUTS`, by its model_type)."""
    kind = getattr(model.config, "model_type", None)
    if kind not in LAYOUTS:
        raise DataError(
            f"model_type {kind!r} is not one this adapter knows ({', '.join(LAYOUTS)}): "
            "write its probe with attend.api.make_probe"
        )
    return LAYOUTS[kind]


def cross_attentions(model, layout: Layout) -> list:
    """Each decoder layer's cross-attention module, in layer order."""
    modules = [m for name, m in model.get_decoder().named_modules() if name.rsplit(".", 1)[-1] == layout.cross]
    if not modules:
        raise DataError(f"no '{layout.cross}' modules in the decoder of this {model.config.model_type} model")
    return modules


def scale_of(module, layout: Layout) -> float:
    if hasattr(module, "scaling"):
        return float(module.scaling)
    return layout.scale if layout.scale is not None else float(getattr(module, layout.head_dim)) ** -0.5


def eager_attention(model) -> None:
    """Put every module of ``model`` on eager attention, the implementation that returns
    the weights. Each config a module holds is set, since some models (T5) give their
    encoder and decoder copies of the model's config."""
    from transformers import PretrainedConfig

    for module in model.modules():
        config = getattr(module, "config", None)
        if isinstance(config, PretrainedConfig):
            config._attn_implementation = "eager"


def head_matrices(linear, heads: int, head_dim: int, fold: bool) -> np.ndarray:
    """(H, n [+ 1], d_h): head h's columns of a ``torch.nn.Linear`` in kernel orientation
    (x @ W), with the bias as the last row when ``fold`` (a zero row where it has none)."""
    weight = linear.weight.detach().double().cpu().numpy().T  # (n, H d_h)
    n = weight.shape[0]
    per_head = weight.reshape(n, heads, head_dim).transpose(1, 0, 2)  # output h d_h + j is head h's j
    if not fold:
        return per_head
    bias = np.zeros(heads * head_dim) if linear.bias is None else linear.bias.detach().double().cpu().numpy()
    return np.concatenate([per_head, bias.reshape(heads, 1, head_dim)], 1)


class Renumbering:
    """One side's model ids -> probe ids: the specials first, then every other id seen, in
    the model's order (module docstring)."""

    def __init__(self, seen: np.ndarray, specials: dict[int, int], name_of):
        others = sorted({int(i) for i in np.unique(seen)} - set(specials))
        self.ids = {**specials, **{hf: len(SPECIALS) + k for k, hf in enumerate(others)}}
        self.tokens = list(SPECIALS) + [name_of(hf) for hf in others]
        self.lookup = np.zeros(max(self.ids) + 1, dtype=np.int32)
        self.lookup[list(self.ids)] = list(self.ids.values())

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        return self.lookup[ids]


def _namer(tokenizer):
    def name(hf_id: int) -> str:
        token = tokenizer.convert_ids_to_tokens(hf_id) if tokenizer is not None else None
        if not token or token in SPECIALS:
            return f"{token or ''}[{hf_id}]"
        return str(token)

    return name


def _padded(rows: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(r) for r in rows], dtype=np.int32)
    if lengths.size == 0 or lengths.min() < 1:
        raise DataError("every source and target needs at least one token (its </s>)")
    out = np.full((len(rows), lengths.max()), pad, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out, lengths


def _decoder_inputs(tgt: np.ndarray, dec_mask: np.ndarray, start: int, pad: int) -> np.ndarray:
    """(N, T): the decoder's inputs under teacher forcing: the start token, then the target
    shifted right; ``pad`` past each sequence's length."""
    dec_in = np.full_like(tgt, pad)
    dec_in[:, 0] = start
    dec_in[:, 1:] = tgt[:, :-1]
    dec_in[~dec_mask] = pad
    return dec_in


def record(
    model,
    src_ids: list[list[int]],
    tgt_ids: list[list[int]],
    tokenizer=None,
    batch_size: int = 16,
    name: str | None = None,
    gold: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The probe (layers form) of ``model`` teacher-forced on the references: ``src_ids``
    and ``tgt_ids`` are the model's own token ids, each sequence as its tokenizer writes
    it (``tokenizer(source)["input_ids"]``, ``tokenizer(text_target=target)["input_ids"]``:
    ending with the eos). ``tokenizer`` (optional) names the tokens. ``gold`` (optional)
    adds the probe's gold and words groups (``gold_links``, ``gold_sure``, ``enc_word``,
    ``dec_word``: :func:`gold_encoding`). The model is put in eval mode and on eager
    attention (which returns the weights)."""
    import torch

    layout = layout_of(model)
    config = model.config
    pad, eos, start = config.pad_token_id, config.eos_token_id, config.decoder_start_token_id
    bos = getattr(config, "bos_token_id", None)
    src, enc_len = _padded(src_ids, pad)
    tgt, dec_len = _padded(tgt_ids, pad)
    enc_mask = probe_format.valid_positions(enc_len, src.shape[1])
    dec_mask = probe_format.valid_positions(dec_len, tgt.shape[1])
    dec_in = _decoder_inputs(tgt, dec_mask, start, pad)

    model.eval()
    eager_attention(model)
    modules = cross_attentions(model, layout)
    queries = [getattr(m, layout.query) for m in modules]
    keys = [getattr(m, layout.key) for m in modules]
    captured: dict[str, list] = {"queries": [None] * len(modules), "keys": [None] * len(modules), "readout": [None]}

    def keep(slot, index):
        def hook(module, args):
            captured[slot][index] = args[0].detach()

        return hook

    handles = [q.register_forward_pre_hook(keep("queries", i)) for i, q in enumerate(queries)]
    handles += [k.register_forward_pre_hook(keep("keys", i)) for i, k in enumerate(keys)]
    handles.append(model.get_output_embeddings().register_forward_pre_hook(keep("readout", 0)))
    parts: dict[str, list] = {
        key: [] for key in ("enc_states", "dec_states", "layer_states", "layer_attention", "predictions")
    }
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            for i in range(0, len(src), batch_size):
                rows = slice(i, i + batch_size)
                tensor = lambda a, rows=rows: torch.as_tensor(a[rows], device=device)  # noqa: E731
                out = model(
                    input_ids=tensor(src),
                    attention_mask=tensor(enc_mask.astype(np.int64)),
                    decoder_input_ids=tensor(dec_in),
                    decoder_attention_mask=tensor(dec_mask.astype(np.int64)),
                    output_attentions=True,
                    use_cache=False,
                    return_dict=True,
                )
                encoded = out.encoder_last_hidden_state
                for layer, key_input in enumerate(captured["keys"]):
                    if key_input is None or key_input.shape != encoded.shape or not torch.equal(key_input, encoded):
                        raise DataError(
                            f"the key projection of decoder layer {layer}'s cross-attention does not read "
                            "the encoder's output: this model does not fit the probe's layers form"
                        )
                numpy = lambda t: t.float().cpu().numpy()  # noqa: E731
                parts["enc_states"].append(numpy(encoded))
                parts["dec_states"].append(numpy(captured["readout"][0]))
                parts["layer_states"].append(numpy(torch.stack(captured["queries"], 1)))
                parts["layer_attention"].append(numpy(torch.stack(out.cross_attentions, 1)))
                parts["predictions"].append(out.logits.argmax(-1).cpu().numpy())
    finally:
        for handle in handles:
            handle.remove()
    arrays = {key: np.concatenate(value) for key, value in parts.items()}

    heads, head_dim = int(getattr(modules[0], layout.heads)), int(getattr(modules[0], layout.head_dim))
    fold = any(p.bias is not None for p in queries + keys)
    layer_w_q = np.stack([head_matrices(q, heads, head_dim, fold) for q in queries])
    layer_w_k = np.stack([head_matrices(k, heads, head_dim, fold) for k in keys])
    scales = {scale_of(m, layout) for m in modules}
    if len(scales) > 1:
        raise DataError(f"the cross-attention layers scale their scores differently ({sorted(scales)})")
    if fold:  # the constant 1 that carries the biases, at valid positions only
        arrays["enc_states"] = np.concatenate([arrays["enc_states"], enc_mask[..., None]], -1)
        ones = np.broadcast_to(dec_mask[:, None, :, None], arrays["layer_states"].shape[:-1] + (1,))
        arrays["layer_states"] = np.concatenate([arrays["layer_states"], ones], -1)

    specials = {pad: PAD, eos: EOS, **({bos: SOS} if bos is not None and bos not in (pad, eos) else {})}
    name_of = _namer(tokenizer)
    source = Renumbering(src[enc_mask], specials, name_of)
    predictions = np.where(dec_mask, arrays.pop("predictions"), pad)
    target = Renumbering(
        np.concatenate([tgt[dec_mask], predictions[dec_mask], dec_in[:, 1:][dec_mask[:, 1:]]]), specials, name_of
    )
    dec_inputs = target(np.where(np.arange(dec_in.shape[1]) == 0, pad, dec_in))
    dec_inputs[:, 0] = SOS  # the decoder's start token, whatever the model's id for it
    import transformers

    identity = {
        "model": name or getattr(config, "name_or_path", "") or config.model_type,
        "model_type": config.model_type,
        "sequences": len(src),
        "biases_folded": bool(fold),
        "transformers": transformers.__version__,
        "torch": torch.__version__,
    }
    return probe_format.assemble(
        {
            **arrays,  # enc_states, dec_states, layer_states, layer_attention
            "enc_tokens": source(src),
            "dec_inputs": dec_inputs,
            "targets": target(tgt),
            "predictions": target(predictions),
            "enc_len": enc_len,
            "dec_len": dec_len,
            "src_vocab": source.tokens,
            "tgt_vocab": target.tokens,
            "layer_W_q": layer_w_q,
            "layer_W_k": layer_w_k,
            "scale": scales.pop(),
            "layers": len(modules),
            "heads": heads,
            "arch": identity["model"],
            "attention_kind": "multihead",
            "identity": identity,
            **(gold or {}),
        },
        identity["model"],
    )


# ---------------------------------------------------------------------------- sentence pairs


def read_pairs(path: str | Path, swap: bool = False, limit: int | None = None) -> list[tuple[str, str]]:
    """(source, target) sentences of a tab-separated file, one pair a line (further
    columns, such as fra.txt's attribution, are ignored); ``swap`` reads target<TAB>source."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: the pairs file is missing") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err})") from None
    pairs = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(f"{path}, line {n}: expected source<TAB>target, got {line[:60]!r}")
        pair = (fields[0].strip(), fields[1].strip())
        pairs.append(pair[::-1] if swap else pair)
        if limit is not None and len(pairs) == limit:
            break
    if not pairs:
        raise DataError(f"{path}: no sentence pairs in it")
    return pairs


def tokenize(tokenizer, pairs: list[tuple[str, str]]) -> tuple[list[list[int]], list[list[int]]]:
    """The model's ids of the sources and of the targets (as labels: ending with the eos)."""
    sources = tokenizer([s for s, _ in pairs])["input_ids"]
    targets = tokenizer(text_target=[t for _, t in pairs])["input_ids"]
    return [list(r) for r in sources], [list(r) for r in targets]


# ---------------------------------------------------------------------------- refusals


def check_model(name: str):
    """The model's config, read before any weight is loaded, or a one-line refusal: a
    decoder-only model, a model_type this adapter has no :data:`LAYOUTS` entry for, a
    model without a tokenizer beside it. A local folder and a Hub name take the same path
    (``AutoConfig``, ``has_file``)."""
    from transformers import AutoConfig
    from transformers.utils.hub import has_file

    try:
        config = AutoConfig.from_pretrained(name)
    except (OSError, ValueError) as err:
        raise DataError(f"could not load {name!r}: {str(err).splitlines()[0]}") from None
    kind = getattr(config, "model_type", None)
    if not getattr(config, "is_encoder_decoder", False):
        raise DataError(
            f"{name}: decoder-only (model_type {kind}): probe-hf needs an encoder-decoder with cross-attention"
        )
    if kind not in LAYOUTS:
        raise DataError(
            f"{name}: model_type {kind!r} is not one probe-hf knows ({', '.join(LAYOUTS)}): add its Layout to "
            "attend.adapters.hf.LAYOUTS, or write its probe with attend.api.make_probe"
        )
    try:
        found = any(has_file(name, file) for file in TOKENIZER_FILES)
    except (OSError, ValueError) as err:
        raise DataError(f"could not look for {name!r}'s tokenizer: {str(err).splitlines()[0]}") from None
    if not found:
        raise DataError(
            f"{name}: no tokenizer beside the model (none of {', '.join(TOKENIZER_FILES)}): save the model's "
            f"tokenizer into it, tokenizer.save_pretrained({str(name)!r})"
        )
    return config


def check_lengths(config, src_ids: list[list[int]], tgt_ids: list[list[int]], where: str) -> None:
    """Refuse a pair with more tokens than the model has positions (``max_position_embeddings``;
    T5's relative positions have no limit)."""
    limit = getattr(config, "max_position_embeddings", None)
    if not limit:
        return
    for side, rows in (("source", src_ids), ("target", tgt_ids)):
        for n, row in enumerate(rows):
            if len(row) > limit:
                raise DataError(
                    f"{where}, pair {n + 1}: its {side} is {len(row)} tokens, more than the model's {limit} "
                    "positions (max_position_embeddings): shorten or remove it"
                )


def token_accuracy(model, src_ids: list[list[int]], tgt_ids: list[list[int]], batch_size: int = 16) -> float:
    """The teacher-forced token accuracy of ``model`` on id sequences (as :func:`record`
    takes them): the share of target tokens, eos included, that are the argmax of the
    logits at their step."""
    import torch

    config = model.config
    pad = config.pad_token_id
    src, enc_len = _padded(src_ids, pad)
    tgt, dec_len = _padded(tgt_ids, pad)
    enc_mask = probe_format.valid_positions(enc_len, src.shape[1])
    dec_mask = probe_format.valid_positions(dec_len, tgt.shape[1])
    dec_in = _decoder_inputs(tgt, dec_mask, config.decoder_start_token_id, pad)
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(src), batch_size):
            rows = slice(i, i + batch_size)
            logits = model(
                input_ids=torch.as_tensor(src[rows], device=device),
                attention_mask=torch.as_tensor(enc_mask[rows].astype(np.int64), device=device),
                decoder_input_ids=torch.as_tensor(dec_in[rows], device=device),
                decoder_attention_mask=torch.as_tensor(dec_mask[rows].astype(np.int64), device=device),
                use_cache=False,
            ).logits
            correct += int(((logits.argmax(-1).cpu().numpy() == tgt[rows]) & dec_mask[rows]).sum())
    return correct / int(dec_mask.sum())


def check_direction(model, tokenizer, pairs: list[tuple[str, str]], swapped: bool, where: str, batch_size: int = 16):
    """The teacher-forced token accuracy of the first :data:`DIRECTION_SAMPLE` pairs as they
    will be probed and with source and target exchanged; a one-line refusal when the
    exchanged direction is better by more than :data:`DIRECTION_MARGIN` (the columns are in
    the wrong order), naming the option that fixes it (``swapped``: whether --swap was given)."""
    sample = pairs[:DIRECTION_SAMPLE]
    given = token_accuracy(model, *tokenize(tokenizer, sample), batch_size)
    exchanged = token_accuracy(model, *tokenize(tokenizer, [(t, s) for s, t in sample]), batch_size)
    if exchanged - given > DIRECTION_MARGIN:
        fix = "drop --swap" if swapped else "add --swap"
        raise DataError(
            f"{where}: the pairs look swapped: teacher-forced token accuracy {given:.3f} as probed, "
            f"{exchanged:.3f} with source and target exchanged (first {len(sample)} pairs): the model translates "
            f"the other column: {fix} (or --no-direction-check to probe them as they are)"
        )
    return given, exchanged


# ---------------------------------------------------------------------------- human word alignments


def gold_files(path: str | Path) -> tuple[Path, Path]:
    """The pairs and links files of ``--gold``: a folder holding ``enfr.src-tgt`` and
    ``enfr.gold`` (the Hansards files), or a ``NAME.src-tgt`` file with ``NAME.gold``
    beside it."""
    path = Path(path)
    pairs, links = (path / PAIRS, path / LINKS) if path.is_dir() else (path, path.with_suffix(".gold"))
    for file, what in ((pairs, "the pairs, 'English ||| French' a line"), (links, "the links, 'i-j ipj ...' a line")):
        if not file.is_file():
            raise DataError(
                f"{file}: missing, {what}; --gold takes a folder holding {PAIRS} and {LINKS}, or a NAME.src-tgt "
                "file with NAME.gold beside it"
            )
    return pairs, links


def read_gold_pairs(path: str | Path, swap: bool = False, limit: int | None = None) -> Gold:
    """The gold pairs and links of ``--gold`` (``attend.gold_alignment``'s parser, no
    checksum: any file of the format), the first ``limit`` only; ``swap``: the model
    translates French into English, so its source is the second side and each link's words
    trade places."""
    pairs, links = gold_files(path)
    src, tgt = parse_pairs(pairs)
    links, sure = parse_links(links, src, tgt)
    if limit is not None:
        keep = links[:, 0] < limit
        src, tgt, links, sure = src[:limit], tgt[:limit], links[keep], sure[keep]
    if swap:
        src, tgt, links = tgt, src, links[:, [0, 2, 1]]
    return Gold(src=src, tgt=tgt, links=links, sure=sure)


def token_spans(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The text the model reads for a gold sentence, its tokens joined by single spaces,
    and each token's character span in it."""
    spans, start = [], 0
    for token in tokens:
        spans.append((start, start + len(token)))
        start += len(token) + 1
    return " ".join(tokens), spans


def _piece_offsets(tokenizer, ids: list[int], text: str, special: set[int]) -> list[tuple[int, int] | None]:
    """Each position's character span in ``text`` for a tokenizer without offsets (a slow,
    SentencePiece one): piece k covers what decoding pieces 1..k adds to decoding pieces
    1..k-1, mapped back onto ``text`` where the tokenizer's normalisation changed it
    (through the blocks the two texts share, difflib: a piece in a stretch that differs,
    such as ``<unk>``, covers that whole stretch of ``text``). None at special tokens."""
    pieces = tokenizer.convert_ids_to_tokens(ids)
    kept = [k for k, i in enumerate(ids) if i not in special]
    ends = [len(tokenizer.convert_tokens_to_string([pieces[k] for k in kept[:j]])) for j in range(len(kept) + 1)]
    decoded = tokenizer.convert_tokens_to_string([pieces[k] for k in kept])
    if decoded == text:
        start_at = end_at = np.arange(len(text) + 1)
    else:
        matched = np.full(len(decoded) + 1, -1)
        for a, b, size in difflib.SequenceMatcher(None, decoded, text, autojunk=False).get_matching_blocks():
            matched[a : a + size + 1] = np.arange(b, b + size + 1)
        matched[0] = max(matched[0], 0)
        start_at, end_at = matched.copy(), matched.copy()
        for k in range(1, len(matched)):  # a start in a differing stretch: the stretch's start
            start_at[k] = start_at[k] if start_at[k] >= 0 else start_at[k - 1]
        for k in range(len(matched) - 2, -1, -1):  # an end: the stretch's end
            end_at[k] = end_at[k] if end_at[k] >= 0 else end_at[k + 1]
    out: list[tuple[int, int] | None] = [None] * len(ids)
    for j, k in enumerate(kept):
        start, end = int(start_at[min(ends[j], len(decoded))]), int(end_at[min(ends[j + 1], len(decoded))])
        out[k] = (start, max(start, end))
    return out


def _words_of(offsets: list[tuple[int, int] | None], text: str, spans: list[tuple[int, int]]) -> list[int]:
    """The gold token of each position (the word-map rule, docs/analyse.md): the token whose
    character span the position's span overlaps (the first, if several); a position that
    covers only spaces (SentencePiece's lone "▁") goes with the next position's token (the
    last token at the end); -1 at special tokens (None offsets)."""
    words: list[int | None] = []
    for span in offsets:
        if span is None:
            words.append(-1)
            continue
        a, b = span
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        overlapping = [k for k, (start, end) in enumerate(spans) if start < b and a < end]
        words.append(overlapping[0] if overlapping else None)
    following = len(spans) - 1
    for k in range(len(words) - 1, -1, -1):
        if words[k] is None:
            words[k] = following
        elif words[k] >= 0:
            following = words[k]
    return words


def gold_encoding(tokenizer, sentences: list[list[str]], target: bool) -> tuple[list[list[int]], list[list[int]]]:
    """The model's ids of gold sentences (their tokens joined by spaces, :func:`token_spans`)
    and the gold token of each position, -1 at special tokens. ``target``: encoded as
    targets (``text_target``). Offsets from a fast tokenizer's ``offset_mapping``, else by
    decoding (:func:`_piece_offsets`). Every gold token must get a position of its own."""
    texts, spans = zip(*map(token_spans, sentences)) if sentences else ((), ())
    call = {"text_target" if target else "text": list(texts)}
    special = set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}  # <unk> stands for text
    if getattr(tokenizer, "is_fast", False):
        encoded = tokenizer(**call, return_offsets_mapping=True)
        ids = [list(row) for row in encoded["input_ids"]]
        offsets = [
            [None if i in special else tuple(span) for i, span in zip(row, spans_row)]
            for row, spans_row in zip(ids, encoded["offset_mapping"])
        ]
    else:
        ids = [list(row) for row in tokenizer(**call)["input_ids"]]
        offsets = [_piece_offsets(tokenizer, row, text, special) for row, text in zip(ids, texts)]
    words = []
    for n, (row, text, token_span) in enumerate(zip(offsets, texts, spans)):
        mapped = _words_of(row, text, token_span)
        numbered = [w for w in mapped if w >= 0]
        if numbered != sorted(numbered) or set(numbered) != set(range(len(token_span))):
            side = "target" if target else "source"
            lost = sorted(set(range(len(token_span))) - set(numbered))
            raise DataError(
                f"gold pair {n + 1}: the tokenizer's {side} pieces do not follow its gold tokens one by one "
                f"(tokens {lost[:5]} get no piece of their own, or pieces run out of order): such a tokenizer "
                "cannot carry these word alignments"
            )
        words.append(mapped)
    return ids, words


def _word_array(words: list[list[int]]) -> np.ndarray:
    out = np.full((len(words), max(map(len, words))), -1, dtype=np.int32)
    for n, row in enumerate(words):
        out[n, : len(row)] = row
    return out


def gold_arrays(tokenizer, gold: Gold) -> tuple[list[list[int]], list[list[int]], dict[str, np.ndarray]]:
    """The source and target ids of the gold pairs and the probe's gold and words groups:
    ``gold_links``, ``gold_sure``, ``enc_word``, ``dec_word`` (docs/probe-format.md)."""
    src_ids, enc_word = gold_encoding(tokenizer, gold.src, target=False)
    tgt_ids, dec_word = gold_encoding(tokenizer, gold.tgt, target=True)
    arrays = {
        "gold_links": gold.links.astype(np.int32).reshape(-1, 3),
        "gold_sure": gold.sure.astype(np.int32),
        "enc_word": _word_array(enc_word),
        "dec_word": _word_array(dec_word),
    }
    return src_ids, tgt_ids, arrays


# ---------------------------------------------------------------------------- the command


def quiet_loading() -> None:
    """No progress bar while weights load from disk (a download's bars stay), and not
    MarianTokenizer's advice to install sacremoses (an optional punctuation normaliser:
    without it the text is read as written), so that a refusal is the command's one line
    on stderr."""
    import warnings

    from huggingface_hub.utils import enable_progress_bars
    from transformers.utils import logging

    logging.disable_progress_bar()
    enable_progress_bars()
    warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Write the probe of a Hugging Face encoder-decoder (Marian, "
        "BART, T5) teacher-forced on sentence pairs, for `attend analyse`. "
        f"Needs the hf extra: {EXTRA}.",
    )
    p.add_argument("--model", required=True, help="a model name on the Hub or a local folder (from_pretrained)")
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument(
        "--pairs",
        help="tab-separated source<TAB>target sentences, one pair a line "
        "(fra.txt's layout; `attend test-pairs` writes this project's translation test split)",
    )
    data.add_argument(
        "--gold",
        help=f"human word alignments instead of --pairs: a folder holding {PAIRS} ('English ||| French' tokens) "
        f"and {LINKS} (links i-j sure, ipj possible), or NAME.src-tgt with NAME.gold beside it; the probe gets "
        "the links and each position's gold word, for the alignment error rates of attend analyse",
    )
    p.add_argument("--out", required=True, help="the probe to write (.npz)")
    p.add_argument("--limit", type=int, help="probe the first N pairs only")
    p.add_argument("--swap", action="store_true", help="the second column (French of --gold) is the model's source")
    p.add_argument(
        "--no-direction-check",
        action="store_true",
        help=f"probe the pairs even when the model translates the first {DIRECTION_SAMPLE} of them clearly better "
        "with source and target exchanged",
    )
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    return p


def main(argv: list[str] | None = None, prog: str = "attend probe-hf") -> int:
    args = parser(prog).parse_args(argv)
    if args.limit is not None and args.limit < 1:
        print(f"{prog}: error: --limit must be at least 1, got {args.limit}", file=sys.stderr)
        return 2
    try:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as err:
        print(f"{prog}: error: needs PyTorch and transformers ({err}): {EXTRA}", file=sys.stderr)
        return 1
    quiet_loading()
    try:
        where = args.gold or args.pairs
        if args.gold:
            gold = read_gold_pairs(args.gold, args.swap, args.limit)
            pairs = [(" ".join(s), " ".join(t)) for s, t in zip(gold.src, gold.tgt)]
        else:
            pairs = read_pairs(args.pairs, args.swap, args.limit)
        config = check_model(args.model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(args.model)
            model = AutoModelForSeq2SeqLM.from_pretrained(args.model, attn_implementation="eager").to(args.device)
        except (OSError, ValueError, TypeError) as err:
            raise DataError(f"could not load {args.model!r}: {str(err).splitlines()[0]}") from None
        if args.gold:
            src_ids, tgt_ids, extra = gold_arrays(tokenizer, gold)
        else:
            (src_ids, tgt_ids), extra = tokenize(tokenizer, pairs), None
        check_lengths(config, src_ids, tgt_ids, where)
        if not args.no_direction_check:
            check_direction(model, tokenizer, pairs, args.swap, where, args.batch_size)
        arrays = record(model, src_ids, tgt_ids, tokenizer, args.batch_size, name=args.model, gold=extra)
        probe_format.save(args.out, arrays)
    except DataError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    links = f", {len(extra['gold_links'])} gold links" if extra else ""
    print(
        f"wrote {args.out}: {len(pairs)} pairs{links}, {int(arrays['layers'])} layers × {int(arrays['heads'])} heads; "
        f"next: attend analyse {args.out} --out DIR"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m attend.adapters.hf"))
