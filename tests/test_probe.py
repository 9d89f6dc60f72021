"""The probe file, the interface between training and analysis, is checked on load."""

import numpy as np
import pytest

from attend import probe
from attend.artifacts import DataError


def test_probe_round_trips(tmp_path, make_probe):
    arrays = make_probe(n=8, arch="aed")
    probe.save(tmp_path / "probe.npz", arrays)
    back = probe.load(tmp_path / "probe.npz")
    assert set(back) == set(arrays)
    np.testing.assert_array_equal(back["attention"], arrays["attention"])
    assert str(back["arch"]) == "aed"


def test_attention_model_probe_without_attention_is_refused(tmp_path, make_probe):
    arrays = make_probe(n=8, arch="ao")
    del arrays["attention"]
    probe.save(tmp_path / "p.npz", arrays)
    with pytest.raises(DataError, match=r"p.npz.*ao model lacks \['attention'\]"):
        probe.load(tmp_path / "p.npz")


def test_mis_shaped_probe_is_refused(tmp_path, make_probe):
    arrays = make_probe(n=8, arch="aed")
    arrays["enc_tokens"] = arrays["enc_tokens"][:, :-1]
    probe.save(tmp_path / "p.npz", arrays)
    with pytest.raises(DataError, match="enc_tokens.*expected"):
        probe.load(tmp_path / "p.npz")


def test_truncated_probe_names_the_file(tmp_path, make_probe):
    probe.save(tmp_path / "p.npz", make_probe(n=8, arch="ved"))
    data = (tmp_path / "p.npz").read_bytes()
    (tmp_path / "p.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="p.npz.*truncated or foreign"):
        probe.load(tmp_path / "p.npz")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_probe_of_a_diverged_model_is_refused(tmp_path, bad, make_probe):
    arrays = make_probe()
    arrays["dec_states"][3, 2, 1] = bad
    probe.save(tmp_path / "p.npz", arrays)
    with pytest.raises(DataError, match="p.npz.*'dec_states' holds NaN or infinite.*diverged"):
        probe.load(tmp_path / "p.npz")


def test_multihead_probe_round_trips(tmp_path):
    from two_heads import two_head_probe

    arrays, _ = two_head_probe()
    probe.save(tmp_path / "p.npz", arrays)
    back = probe.load(tmp_path / "p.npz")
    assert set(back) == set(arrays)
    assert back["head_attention"].shape == (8, 2, 5, 5) and back["head_W_q"].shape == (2, 6, 3)
    np.testing.assert_allclose(back["attention"], back["head_attention"].mean(1))


@pytest.mark.parametrize("key", ["head_attention", "head_W_k", "heads"])
def test_multihead_probe_without_its_heads_is_refused(tmp_path, key):
    from two_heads import two_head_probe

    arrays, _ = two_head_probe()
    del arrays[key]
    probe.save(tmp_path / "p.npz", arrays)
    with pytest.raises(DataError, match=rf"p.npz.*multihead aed model lacks \['{key}'\]"):
        probe.load(tmp_path / "p.npz")


def test_multihead_probe_with_the_wrong_number_of_heads_is_refused(tmp_path):
    from two_heads import two_head_probe

    arrays, _ = two_head_probe()
    arrays["heads"] = np.array(3, dtype=np.int32)
    probe.save(tmp_path / "p.npz", arrays)
    with pytest.raises(DataError, match=r"head_attention.*\(8, 2, 5, 5\), expected \(8, 3, 5, 5\)"):
        probe.load(tmp_path / "p.npz")
