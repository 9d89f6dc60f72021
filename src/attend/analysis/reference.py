"""A plain per-sequence, per-position loop over decomposition, score breakdown and the
average- and temporal-only-attention approximations: the obvious implementation of the
same outputs as :func:`attend.analysis.attention.unit_breakdown` of a one-head model, kept as the tests' reference
for the vectorised code and as the benchmark's baseline."""

from __future__ import annotations

import numpy as np

from .decompose import COMPONENTS


def _mean_by_key(pairs):
    sums, counts = {}, {}
    for key, value in pairs:
        sums[key] = sums.get(key, 0.0) + value
        counts[key] = counts.get(key, 0) + 1
    return {k: sums[k] / counts[k] for k in sums}


def _decompose(states, tokens, lengths):
    mu = _mean_by_key((t, states[i, t].astype(np.float64)) for i in range(len(states)) for t in range(lengths[i]))
    chi = _mean_by_key((tokens[i, t], states[i, t] - mu[t]) for i in range(len(states)) for t in range(lengths[i]))
    return mu, chi


def _softmax(x):
    z = np.exp(x - x.max())
    return z / z.sum()


def measure_loop(probe: dict) -> dict:
    """μ and χ of both sides; each term's share and signed value at the attended position,
    per decoder step and overall; and the approximation metrics of
    :func:`attend.analysis.attention.approximation`, one sequence and position at a time."""
    enc_h, dec_h, attn = probe["enc_states"], probe["dec_states"], probe["attention"]
    enc_len, dec_len = probe["enc_len"], probe["dec_len"]
    w_q, w_k, scale = probe["W_q"], probe["W_k"], float(probe["scale"])
    align = probe.get("align")
    mu_e, chi_e = _decompose(enc_h, probe["enc_tokens"], enc_len)
    mu_d, chi_d = _decompose(dec_h, probe["dec_inputs"], dec_len)
    mean_rows = _mean_by_key((t, attn[i, t]) for i in range(len(attn)) for t in range(dec_len[i]))
    mu_scores = {t: np.array([(mu_d[t] @ w_q) @ (mu_e[s] @ w_k) * scale for s in sorted(mu_e)]) for t in mu_d}

    shares, signed, steps = {}, {}, {}
    counts = {
        "argmax": 0,
        "tv": 0.0,
        "temporal_argmax": 0,
        "temporal_tv": 0.0,
        "temporal_example": 0,
        "aligned": 0,
        "known": 0,
    }
    for i in range(len(attn)):
        length = enc_len[i]
        for t in range(dec_len[i]):
            x = dec_h[i, t]
            dec_parts = {"mu": mu_d[t], "chi": chi_d[probe["dec_inputs"][i, t]]}
            dec_parts["delta"] = x - dec_parts["mu"] - dec_parts["chi"]
            s = int(np.argmax(attn[i, t]))
            y = enc_h[i, s]
            enc_parts = {"mu": mu_e[s], "chi": chi_e[probe["enc_tokens"][i, s]]}
            enc_parts["delta"] = y - enc_parts["mu"] - enc_parts["chi"]
            q = {a: dec_parts[a] @ w_q for a in COMPONENTS}
            k = {b: enc_parts[b] @ w_k for b in COMPONENTS}
            terms = np.array([q[a] @ k[b] * scale for a in COMPONENTS for b in COMPONENTS])
            shares[t] = shares.get(t, 0.0) + np.abs(terms) / np.abs(terms).sum()
            signed[t] = signed.get(t, 0.0) + terms
            steps[t] = steps.get(t, 0) + 1

            # Ā and the temporal-only attention over this example's encoder positions
            a_bar = np.zeros(attn.shape[-1])
            a_bar[:length] = mean_rows[t][:length] / mean_rows[t][:length].sum()
            temporal = np.zeros(attn.shape[-1])
            temporal[:length] = _softmax(mu_scores[t][:length])
            counts["argmax"] += int(np.argmax(a_bar) == s)
            counts["tv"] += 0.5 * np.abs(attn[i, t] - a_bar).sum()
            counts["temporal_argmax"] += int(np.argmax(temporal) == np.argmax(a_bar))
            counts["temporal_tv"] += 0.5 * np.abs(temporal - a_bar).sum()
            counts["temporal_example"] += int(np.argmax(temporal) == s)
            if align is not None and align[i, t] >= 0:
                counts["aligned"] += int(align[i, t] == s)
                counts["known"] += 1

    total = sum(steps.values())
    metrics = {
        "argmax_agreement": counts["argmax"] / total,
        "tv_distance": counts["tv"] / total,
        "temporal_argmax_agreement": counts["temporal_argmax"] / total,
        "temporal_tv_distance": counts["temporal_tv"] / total,
        "temporal_example_agreement": counts["temporal_example"] / total,
    }
    if align is not None:
        metrics["alignment_agreement"] = counts["aligned"] / counts["known"]
    return {
        "mu_enc": mu_e,
        "chi_enc": chi_e,
        "mu_dec": mu_d,
        "chi_dec": chi_d,
        "share": sum(shares.values()) / total,
        "signed": sum(signed.values()) / total,
        "share_by_step": {t: shares[t] / steps[t] for t in steps},
        "signed_by_step": {t: signed[t] / steps[t] for t in steps},
        "metrics": metrics,
    }
