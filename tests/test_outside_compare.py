"""outside/compare.py: models' `attend analyse` folders side by side, on constructed
probes whose heads are known (tests/two_heads.py: each unit's score is μ·μ alone or χ·χ
alone) with gold links (tests/gold_links.py)."""

import numpy as np
import pandas as pd
import pytest
from gold_links import with_gold_links
from outside_programs import outside_program
from two_heads import two_head_probe, two_layer_probe

from attend import probe
from attend.probe_report import analyse


def program():
    return outside_program("compare")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Two models, each analysed on its probe (the test folder) and on that probe with gold
    links (the gold folder), and a third folder analysed without links."""
    root = tmp_path_factory.mktemp("compare")
    out = {}
    for name, make in (("layers", two_layer_probe), ("heads", two_head_probe)):
        arrays, _ = make()
        probe.save(root / f"{name}.npz", arrays)
        probe.save(root / f"{name}-gold.npz", with_gold_links(arrays))
        analyse(root / f"{name}.npz", root / name, figures=False)
        analyse(root / f"{name}-gold.npz", root / f"{name}-gold", figures=False)
        out[name] = (root / name, root / f"{name}-gold")
    return root, out


def test_the_comparison_holds_each_folders_numbers(folders):
    root, models = folders
    args = []
    for name, (test, gold) in models.items():
        args += ["--model", name, str(test), str(gold)]
    assert program().main([*args, "--out", str(root / "out")]) == 0
    table = pd.read_csv(root / "out" / "comparison.csv")
    value = table.set_index(["model", "layer", "head", "measure"])["value"]
    # the units built of μ·μ alone have all of their score there; those of χ·χ none
    for unit, share in (((0, 0), 1.0), ((0, 1), 0.0), ((1, 0), 0.0), ((1, 1), 1.0)):
        assert value["layers", *unit, "mu_mu_share"] == pytest.approx(share, abs=1e-6), unit
    assert value["heads", 0, 0, "mu_mu_share"] == pytest.approx(1.0) and value["heads", 0, 1, "mu_mu_share"] < 1e-6
    for name, (test, gold) in models.items():
        shares = pd.read_csv(test / "term_shares.csv")
        shares = shares[shares["step"] == -1]
        with_mu = shares[shares["term"].str.contains("mu")].groupby(["layer", "head"])["share"].sum()
        for (layer, head), total in with_mu.items():
            assert value[name, layer, head, "mu_terms_share"] == pytest.approx(total)
        approx = pd.read_csv(test / "approximation.csv")
        for row in approx[approx["metric"] == "temporal_argmax_agreement"].itertuples():
            assert value[name, row.layer, row.head, "temporal_argmax_agreement"] == pytest.approx(row.value)
        aer = pd.read_csv(gold / "gold_alignment.csv").query("convention == 'predicts' and length_bin == 'all'")
        assert len(aer) == len(table[(table["model"] == name) & table["measure"].str.startswith("aer_")])
        for row in aer.itertuples():
            assert value[name, row.layer, row.head, f"aer_{row.reading}"] == pytest.approx(row.aer)
    text = (root / "out" / "comparison.md").read_text(encoding="utf-8")
    assert "| measure | layers | heads |" in text and "| layers | 1 | 1 |" in text and "| heads | 0 | 1 |" in text
    assert (root / "out" / "comparison.png").stat().st_size > 0


def test_without_gold_folders_there_is_no_aer(folders):
    root, models = folders
    args = ["--model", "a", str(models["layers"][0]), "--model", "b", str(models["heads"][0])]
    assert program().main([*args, "--out", str(root / "plain")]) == 0
    table = pd.read_csv(root / "plain" / "comparison.csv")
    assert not table["measure"].str.startswith("aer_").any() and np.isfinite(table["value"]).all()
    assert not (root / "plain" / "comparison.png").exists()


@pytest.mark.parametrize(
    "problem, expect",
    [
        ("a gold folder without links", "gold_alignment.csv: has no rows; analyse a probe made on the gold pairs"),
        ("no such folder", "nowhere: no such folder"),
        ("one name twice", "two models are named alike"),
    ],
)
def test_bad_folders_fail_in_one_line(folders, problem, expect, capsys):
    root, models = folders
    test, gold = models["layers"]
    second = {
        "a gold folder without links": ["b", str(test), str(test)],
        "no such folder": ["b", str(root / "nowhere")],
        "one name twice": ["a", str(test)],
    }[problem]
    code = program().main(["--model", "a", str(test), str(gold), "--model", *second, "--out", str(root / "bad")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("outside/compare.py: error:") and expect in lines[0]
