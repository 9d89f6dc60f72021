"""A plain per-sequence, per-position loop over decomposition, score breakdown and
average-attention approximation: the obvious implementation, kept as the tests' reference
for the vectorised code in :mod:`attend.analysis.measure` and as the benchmark's baseline."""

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


def measure_loop(probe: dict) -> dict:
    """μ and χ of both sides, the overall term shares at the attended position and the
    argmax agreement with the mean attention, one sequence and position at a time."""
    enc_h, dec_h, attn = probe["enc_states"], probe["dec_states"], probe["attention"]
    enc_len, dec_len = probe["enc_len"], probe["dec_len"]
    w_q, w_k, scale = probe["W_q"], probe["W_k"], float(probe["scale"])
    mu_e, chi_e = _decompose(enc_h, probe["enc_tokens"], enc_len)
    mu_d, chi_d = _decompose(dec_h, probe["dec_inputs"], dec_len)

    share_sum, steps = np.zeros(9), 0
    mean_rows = _mean_by_key((t, attn[i, t]) for i in range(len(attn)) for t in range(dec_len[i]))
    agree = 0
    for i in range(len(attn)):
        for t in range(dec_len[i]):
            x = dec_h[i, t]
            dec_parts = {"mu": mu_d[t], "chi": chi_d[probe["dec_inputs"][i, t]]}
            dec_parts["delta"] = x - dec_parts["mu"] - dec_parts["chi"]
            s = int(np.argmax(attn[i, t]))
            y = enc_h[i, s]
            enc_parts = {"mu": mu_e[s], "chi": chi_e[probe["enc_tokens"][i, s]]}
            enc_parts["delta"] = y - enc_parts["mu"] - enc_parts["chi"]
            terms = np.array([(dec_parts[a] @ w_q) @ (enc_parts[b] @ w_k) * scale
                              for a in COMPONENTS for b in COMPONENTS])
            share_sum += np.abs(terms) / np.abs(terms).sum()
            steps += 1
            row = mean_rows[t][: enc_len[i]]
            agree += int(np.argmax(row) == s)
    return {"mu_enc": mu_e, "chi_enc": chi_e, "mu_dec": mu_d, "chi_dec": chi_d,
            "share": share_sum / steps, "argmax_agreement": agree / steps}
