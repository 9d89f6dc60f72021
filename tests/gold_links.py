"""Human word alignments for a constructed probe: ``with_gold_links(probe)`` is the probe in
format 2 with gold links near its diagonal (each target word one sure link, and sometimes a
possible one), as a probe of the gold pairs carries them."""

from __future__ import annotations

import numpy as np


def with_gold_links(probe: dict, seed: int = 0) -> dict:
    """``probe`` with ``gold_links`` and ``gold_sure``: target word j of each sequence surely
    linked to a source word within one of the length-scaled diagonal, and possibly to a
    random other source word on every third word."""
    rng = np.random.default_rng(seed)
    links, sure = [], []
    for n, (s_len, t_len) in enumerate(zip(probe["enc_len"] - 1, probe["dec_len"] - 1)):
        for j in range(t_len):
            near = round(j * (s_len - 1) / max(t_len - 1, 1)) + int(rng.integers(-1, 2))
            source = int(np.clip(near, 0, s_len - 1))
            links.append((n, j, source))
            sure.append(1)
            other = int(rng.integers(0, s_len))
            if j % 3 == 0 and other != source:
                links.append((n, j, other))
                sure.append(0)
    return {
        **probe,
        "format_version": np.array(2, np.int32),
        "gold_links": np.array(links, np.int32).reshape(-1, 3),
        "gold_sure": np.array(sure, np.int32),
    }
