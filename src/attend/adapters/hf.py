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
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import probe as probe_format
from ..artifacts import DataError
from ..tokens import EOS, PAD, SOS, SPECIALS

EXTRA = "pip install 'attend[hf]'"


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


def record(
    model,
    src_ids: list[list[int]],
    tgt_ids: list[list[int]],
    tokenizer=None,
    batch_size: int = 16,
    name: str | None = None,
) -> dict[str, np.ndarray]:
    """The probe (layers form) of ``model`` teacher-forced on the references: ``src_ids``
    and ``tgt_ids`` are the model's own token ids, each sequence as its tokenizer writes
    it (``tokenizer(source)["input_ids"]``, ``tokenizer(text_target=target)["input_ids"]``:
    ending with the eos). ``tokenizer`` (optional) names the tokens. The model is put in
    eval mode and on eager attention (which returns the weights)."""
    import torch

    layout = layout_of(model)
    config = model.config
    pad, eos, start = config.pad_token_id, config.eos_token_id, config.decoder_start_token_id
    bos = getattr(config, "bos_token_id", None)
    src, enc_len = _padded(src_ids, pad)
    tgt, dec_len = _padded(tgt_ids, pad)
    dec_in = np.full_like(tgt, pad)
    dec_in[:, 0] = start
    dec_in[:, 1:] = tgt[:, :-1]
    enc_mask = probe_format.valid_positions(enc_len, src.shape[1])
    dec_mask = probe_format.valid_positions(dec_len, tgt.shape[1])
    dec_in[~dec_mask] = pad

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


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Write the probe of a Hugging Face encoder-decoder (Marian, "
        "BART, T5) teacher-forced on sentence pairs, for `attend analyse`. "
        f"Needs the hf extra: {EXTRA}.",
    )
    p.add_argument("--model", required=True, help="a model name on the Hub or a local folder (from_pretrained)")
    p.add_argument(
        "--pairs",
        required=True,
        help="tab-separated source<TAB>target sentences, one pair a line "
        "(fra.txt's layout; `attend test-pairs` writes this project's translation test split)",
    )
    p.add_argument("--out", required=True, help="the probe to write (.npz)")
    p.add_argument("--limit", type=int, help="probe the first N pairs only")
    p.add_argument("--swap", action="store_true", help="the file is target<TAB>source")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    return p


def main(argv: list[str] | None = None, prog: str = "attend probe-hf") -> int:
    args = parser(prog).parse_args(argv)
    try:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as err:
        print(f"{prog}: error: needs PyTorch and transformers ({err}): {EXTRA}", file=sys.stderr)
        return 1
    try:
        pairs = read_pairs(args.pairs, args.swap, args.limit)
        try:
            tokenizer = AutoTokenizer.from_pretrained(args.model)
            model = AutoModelForSeq2SeqLM.from_pretrained(args.model, attn_implementation="eager").to(args.device)
        except (OSError, ValueError) as err:
            raise DataError(f"could not load {args.model!r}: {str(err).splitlines()[0]}") from None
        src_ids, tgt_ids = tokenize(tokenizer, pairs)
        arrays = record(model, src_ids, tgt_ids, tokenizer, args.batch_size, name=args.model)
        probe_format.save(args.out, arrays)
    except DataError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    print(
        f"wrote {args.out}: {len(pairs)} pairs, {int(arrays['layers'])} layers × {int(arrays['heads'])} heads; "
        f"next: attend analyse {args.out} --out DIR"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m attend.adapters.hf"))
