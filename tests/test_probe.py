"""The probe file, the interface between training and analysis, is checked on load."""

import numpy as np
import pytest

from attend import probe
from attend.tasks.base import DataError


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
