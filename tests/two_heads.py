"""A constructed multihead probe with known components: one head purely temporal, the
other purely input-driven (shared by the analysis and probe tests)."""

from __future__ import annotations

import numpy as np

from attend.tokens import SPECIALS

# Copies of the Latin square's 2V sequences (copies change no mean, so the decomposition stays
# exact): 24 sequences, above the measurements' minimum of 20.
COPIES = 3
N_WORDS = 4


def _softmax(scores):
    z = np.exp(scores - scores.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def two_head_probe(length: int = 5, seed: int = 0) -> tuple[dict, dict]:
    """(probe, known) of an AED model with n = 6 units and two heads of d_h = 3.

    Every state is [P_t ; X(w) ; s_n E_t] (2 + 2 + 2 dimensions): a function of the
    position, a function of the token (centred over the words), and a residual. Tokens
    form a Latin square (sequence n holds word (n + t) mod V at position t, over 2V
    sequences of full length) and s_n = +1 for the first V sequences, −1 for the rest, so
    every position holds every word equally often and the residual cancels at every
    position and for every word: μ_t = [P_t; 0; 0], χ(w) = [0; X(w); 0] and
    Δ = [0; 0; s_n E_t] exactly.

    Head 0's query and key matrices read the position dimensions only: its score is
    μ·μ alone. Head 1's read the token dimensions only: its score is χ·χ alone. The
    residual dimensions are read by neither."""
    rng = np.random.default_rng(seed)
    v, units, d_h = N_WORDS, 6, 3
    n = 2 * v * COPIES  # the 2V sequences, copied: as many as the measurements ask for
    n_vocab = len(SPECIALS) + v
    sign = np.where(np.arange(n) % (2 * v) < v, 1.0, -1.0)

    def side(shift):
        tokens = len(SPECIALS) + (np.arange(n)[:, None] + shift * np.arange(length)[None]) % v
        pos, word, resid = rng.normal(size=(length, 2)), rng.normal(size=(n_vocab, 2)), rng.normal(size=(length, 2))
        word[: len(SPECIALS)] = 0
        word[len(SPECIALS) :] -= word[len(SPECIALS) :].mean(0)
        mu = np.concatenate([pos, np.zeros((length, 4))], 1)
        chi = np.concatenate([np.zeros((n_vocab, 2)), word, np.zeros((n_vocab, 2))], 1)
        delta = np.concatenate([np.zeros((n, length, 4)), sign[:, None, None] * resid[None]], 2)
        states = mu[None] + chi[tokens] + delta
        return tokens.astype(np.int32), states.astype(np.float32), {"mu": mu, "chi": chi, "delta": delta}

    enc_tokens, enc_h, enc_known = side(1)
    dec_inputs, dec_h, dec_known = side(2)

    def head_matrix(rows):
        w = np.zeros((units, d_h))
        w[rows] = rng.normal(size=(len(rows), d_h))
        return w

    head_w_q = np.stack([head_matrix([0, 1]), head_matrix([2, 3])]).astype(np.float32)
    head_w_k = np.stack([head_matrix([0, 1]), head_matrix([2, 3])]).astype(np.float32)
    head_w_v = rng.normal(size=(2, units, d_h)).astype(np.float32)
    w_o = rng.normal(size=(2 * d_h, units)).astype(np.float32)
    scale = np.float32(1 / np.sqrt(d_h))
    scores = np.einsum("ntm,hmd,nsk,hkd->nhts", dec_h, head_w_q, enc_h, head_w_k) * scale
    head_attention = _softmax(scores).astype(np.float32)
    concat = lambda w: w.transpose(1, 0, 2).reshape(units, -1)  # noqa: E731  heads side by side
    lengths = np.full(n, length, dtype=np.int32)
    probe = {
        "enc_states": enc_h,
        "dec_states": dec_h,
        "enc_tokens": enc_tokens,
        "dec_inputs": dec_inputs,
        "targets": dec_inputs,
        "predictions": dec_inputs,
        "enc_len": lengths,
        "dec_len": lengths,
        "arch": np.array("aed"),
        "src_vocab": np.array(SPECIALS + [f"I_{i}" for i in range(v)]),
        "tgt_vocab": np.array(SPECIALS + [f"O_{i}" for i in range(v)]),
        "W_c": rng.normal(size=(units, n_vocab)).astype(np.float32),
        "format_version": np.array(1, dtype=np.int32),
        "attention": head_attention.mean(1),
        "head_attention": head_attention,
        "W_q": concat(head_w_q),
        "W_k": concat(head_w_k),
        "W_v": concat(head_w_v) @ w_o,
        "head_W_q": head_w_q,
        "head_W_k": head_w_k,
        "scale": scale,
        "heads": np.array(2, dtype=np.int32),
        "attention_kind": np.array("multihead"),
    }
    known = {"enc": enc_known, "dec": dec_known, "scores": scores}
    return probe, known


def two_layer_probe(length: int = 5, seed: int = 0) -> tuple[dict, dict]:
    """(probe, known) of a two-layer model in the probe's ``layers`` form, built from
    :func:`two_head_probe`: layer 0's queries read the decoder states, layer 1's read them
    scaled by 2 (a different state with the same components, doubled). Layer 0 has the
    temporal head first and the input head second; layer 1 the other way round. So the
    units (0, 0) and (1, 1) are μ·μ alone, (0, 1) and (1, 0) χ·χ alone.
    ``known["scores"]`` is (N, L, H, T, S)."""
    base, known = two_head_probe(length, seed)
    swap = [1, 0]
    layer_w_q = np.stack([base["head_W_q"], base["head_W_q"][swap]])
    layer_w_k = np.stack([base["head_W_k"], base["head_W_k"][swap]])
    layer_states = np.stack([base["dec_states"], 2 * base["dec_states"]], 1)
    scores = (
        np.einsum("nltm,lhmd,nsk,lhkd->nlhts", layer_states, layer_w_q, base["enc_states"], layer_w_k) * base["scale"]
    )
    layer_attention = _softmax(scores).astype(np.float32)
    probe = {k: v for k, v in base.items() if not k.startswith("head_") and k not in ("W_q", "W_k", "heads")}
    probe.update(
        layer_states=layer_states.astype(np.float32),
        layer_W_q=layer_w_q,
        layer_W_k=layer_w_k,
        layer_attention=layer_attention,
        attention=layer_attention.mean((1, 2)),
        layers=np.array(2, dtype=np.int32),
        heads=np.array(2, dtype=np.int32),
        arch=np.array("tfm"),
    )
    return probe, {**known, "scores": scores}
