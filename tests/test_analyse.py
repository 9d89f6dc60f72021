"""`attend analyse PROBE.npz --out DIR`: the tables, figures and summary of one probe of
any encoder-decoder model, with one clear line for a bad probe and no TensorFlow, Keras
or torch imported."""

import concurrent.futures
import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from gold_links import with_gold_links

from attend import cli, probe, probe_report, provenance
from attend.analysis.alignment import gold_alignment
from attend.analysis.measure import measure
from attend.artifacts import DataError, read_table
from attend.plotting import one_model
from attend.table_layout import GOLD_TABLE_COLUMNS, TABLE_COLUMNS

REPO = Path(__file__).resolve().parents[1]


def _written(out: Path) -> set[str]:
    return {p.name for p in out.iterdir()}


def test_analyse_writes_the_tables_figures_and_summary(tmp_path, make_probe):
    arrays = make_probe(n=32, arch="aed")
    probe.save(tmp_path / "p.npz", arrays)
    assert probe_report.main([str(tmp_path / "p.npz"), "--out", str(tmp_path / "out"), "--samples", "2"]) == 0
    out = tmp_path / "out"
    figures = {
        f"{f.name}.{suffix}"
        for f in one_model.FIGURES
        if f.name not in ("units", "gold_alignment")
        for suffix in ("png", "pdf")
    }
    tables = {f"{t}.csv" for t in (*TABLE_COLUMNS, *GOLD_TABLE_COLUMNS)}
    assert _written(out) == tables | {"analysis.npz", "summary.md"} | figures
    tables, _, skipped = measure(probe.load(tmp_path / "p.npz"), {}, 2)
    for name, table in tables.items():  # the pipeline's own measurements, to the digit
        written = read_table(out / f"{name}.csv")
        assert list(written.columns) == TABLE_COLUMNS[name]
        if len(table):
            numeric = table.select_dtypes("number").columns
            np.testing.assert_allclose(written[numeric].to_numpy(float), table[numeric].to_numpy(float), rtol=1e-6)
    summary = (out / "summary.md").read_text()
    assert "dictionary accuracy: no task dictionary" in summary
    assert "alignment_offsets: no alignment in the probe" in summary
    assert set(skipped) == {"alignment_offsets", "dictionary accuracy"}
    assert "- gold_alignment: no human word alignments in the probe" in summary
    assert read_table(out / "gold_alignment.csv").empty
    assert list(read_table(out / "gold_alignment.csv").columns) == GOLD_TABLE_COLUMNS["gold_alignment"]
    share = tables["term_shares"].query("step == -1 and term == 'mu·mu'")["share"].iloc[0]
    assert f"μ·μ {share:.3f}" in summary


def test_a_probe_without_attention_says_what_it_skipped(tmp_path, make_probe):
    probe.save(tmp_path / "p.npz", make_probe(n=24, arch="ved"))
    result = probe_report.analyse(tmp_path / "p.npz", tmp_path / "out", figures=False)
    summary = (tmp_path / "out" / "summary.md").read_text()
    for name in ("term_shares", "approximation", "dictionary", "word_attention"):
        assert f"- {name}: the model has no attention" in summary
    assert read_table(tmp_path / "out" / "term_shares.csv").empty
    assert not read_table(tmp_path / "out" / "variance.csv").empty
    assert "term_shares" in result["skipped"]


def test_a_dictionary_gives_the_dictionary_accuracy(tmp_path, make_probe):
    arrays = make_probe(n=24, arch="aed")
    probe.save(tmp_path / "p.npz", arrays)
    words = [str(w) for w in arrays["src_vocab"][3:]]
    (tmp_path / "dict.json").write_text(json.dumps({w: str(arrays["tgt_vocab"][3]) for w in words}))
    probe_report.main(
        [
            str(tmp_path / "p.npz"),
            "--out",
            str(tmp_path / "out"),
            "--dictionary",
            str(tmp_path / "dict.json"),
            "--no-figures",
        ]
    )
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "dictionary accuracy:" in summary and "no task dictionary" not in summary
    table = read_table(tmp_path / "out" / "dictionary.csv")
    assert set(table["translation"]) == {str(arrays["tgt_vocab"][3])}


def test_a_model_of_several_layers_gets_its_units_figure(tmp_path):
    from two_heads import two_layer_probe

    probe.save(tmp_path / "p.npz", two_layer_probe()[0])
    probe_report.analyse(tmp_path / "p.npz", tmp_path / "out")
    assert {"units.png", "units.pdf", "mechanism.png"} <= _written(tmp_path / "out")
    shares = read_table(tmp_path / "out" / "term_shares.csv")
    assert {(layer, head) for layer, head in zip(shares["layer"], shares["head"])} == {
        (-1, -1),
        (0, -1),
        (1, -1),
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    }
    assert "2 layers × 2 heads" in (tmp_path / "out" / "summary.md").read_text()


def test_a_probe_with_human_word_alignments_gets_its_aer(tmp_path):
    """A probe of two layers of two heads with gold links: the alignment table (the
    pipeline's own, at the trained length given), figure 13's row for it, and the AER of
    the model and of each head in the summary."""
    from two_heads import two_layer_probe

    arrays = with_gold_links(two_layer_probe()[0])
    probe.save(tmp_path / "p.npz", arrays)
    assert probe_report.main([str(tmp_path / "p.npz"), "--out", str(tmp_path / "out"), "--max-len", "3"]) == 0
    out = tmp_path / "out"
    assert {"gold_alignment.csv", "gold_alignment.png", "gold_alignment.pdf", "units.png"} <= _written(out)
    expected, _arrays = gold_alignment(probe.load(tmp_path / "p.npz"), max_len=3)
    written = read_table(out / "gold_alignment.csv")
    numeric = expected.select_dtypes("number").columns
    np.testing.assert_allclose(written[numeric].to_numpy(float), expected[numeric].to_numpy(float), rtol=1e-6)
    summary = (out / "summary.md").read_text()
    assert "## Attention against human word alignments" in summary and "gold_alignment:" not in summary
    read = expected[(expected["convention"] == "predicts") & (expected["length_bin"] == "all")]
    whole = read[read["layer"] == -1].set_index("reading")["aer"]
    assert f"the model as a whole: attention {whole['attention']:.3f}" in summary
    assert f"the length-scaled diagonal {whole['diagonal']:.3f}" in summary
    for (layer, head), unit in read[read["head"] >= 0].groupby(["layer", "head"]):
        aer = unit.set_index("reading")["aer"]
        assert f"| {layer} | {head} | {unit['mu_mu_share'].iloc[0]:.3f} | {aer['attention']:.3f} |" in summary
    assert probe_report.main([str(tmp_path / "p.npz"), "--out", str(out), "--max-len", "0"]) == 2


def test_a_model_without_attention_has_no_aer_to_give(tmp_path, make_probe):
    probe.save(tmp_path / "p.npz", with_gold_links(make_probe(n=24, arch="ved")))
    probe_report.analyse(tmp_path / "p.npz", tmp_path / "out", figures=False)
    assert "- gold_alignment: the model has no attention" in (tmp_path / "out" / "summary.md").read_text()


def _bad_probes(tmp_path, make_probe) -> dict[str, tuple[Path, str]]:
    """name -> (a bad probe file, what its one-line error must say)."""
    good = make_probe(n=24, arch="aed")
    cases = {}

    def write(name, arrays, expect):
        path = tmp_path / f"{name}.npz"
        np.savez(path, **arrays)
        cases[name] = (path, expect)

    write("missing key", {k: v for k, v in good.items() if k != "enc_len"}, "lacks ['enc_len']")
    write("future version", {**good, "format_version": np.array(99, np.int32)}, "format_version 99 is newer")
    write("NaN states", {**good, "dec_states": good["dec_states"] * np.nan}, "'dec_states' holds NaN")
    write("one sequence", make_probe(n=1, arch="aed"), "holds 1 sequence; the decomposition needs at least 20")
    cases["no such file"] = (tmp_path / "nope.npz", "probe file is missing")
    (tmp_path / "text.npz").write_text("not a zip")
    cases["not an npz"] = (tmp_path / "text.npz", "not a readable probe")
    return cases


def test_bad_probes_fail_in_one_line_without_a_traceback(tmp_path, make_probe):
    for name, (path, expect) in _bad_probes(tmp_path, make_probe).items():
        run = subprocess.run(
            [sys.executable, "-m", "attend.probe_report", str(path), "--out", str(tmp_path / "out")],
            capture_output=True,
            text=True,
        )
        assert run.returncode != 0, name
        assert "Traceback" not in run.stderr, (name, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and expect in lines[0], (name, run.stderr)
        assert str(path) in lines[0] or name == "one sequence", (name, run.stderr)
        assert "snakemake" not in lines[0], ("advice for the workflow, outside it", name, lines[0])


def test_analyse_never_imports_tensorflow_keras_or_torch(tmp_path, make_probe):
    probe.save(tmp_path / "p.npz", make_probe(n=24, arch="aed"))
    code = (
        "import sys\nfrom attend import cli, api\nimport attend.plotting.one_model\n"
        f"assert cli.main(['analyse', {str(tmp_path / 'p.npz')!r}, '--out', {str(tmp_path / 'out')!r}, "
        "'--no-figures']) == 0\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'torch', 'jax', 'transformers')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert (tmp_path / "out" / "summary.md").is_file()


def test_analyse_imports_nothing_of_the_workflows_config():
    """`attend analyse` takes its default number of samples from the schema file alone."""
    files = {path.relative_to(provenance.ROOT).as_posix() for path in provenance.source_files("attend.probe_report")}
    assert "config_schema.py" in files and not {"config.py", "variants.py"} & files, sorted(files)


def test_the_attend_command(capsys):
    """`attend` is pyproject's console script; each subcommand has its own --help."""
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"attend": "attend.cli:main"}
    assert cli.main([]) == 2 and "analyse" in capsys.readouterr().out
    assert cli.main(["nonsense"]) == 2 and "unknown command 'nonsense'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        cli.main(["analyse", "--help"])
    assert done.value.code == 0 and "--dictionary" in capsys.readouterr().out


def probes_to_analyse(results: Path) -> list[Path]:
    """The probes of a workflow's results that cover every query-key form (none, one head,
    several heads, several layers) and every task's vocabulary: the first probe of each
    form, then the first of each task not yet covered (sorted by path). The smoke run has
    18 probes; these 5 or 6 take the command through every branch it has (the other forms'
    and probes' measurements are the workflow's own, checked by its tables and figures). Then
    the first gold probe (human word alignments), if the run made any."""
    chosen, forms, tasks = [], set(), set()
    for path in sorted(results.rglob("probe.npz")):
        with np.load(path) as arrays:
            kind = probe.form(dict.fromkeys(arrays.files))
        task = path.relative_to(results).parts[-4]
        if kind not in forms or task not in tasks:
            chosen.append(path)
            forms.add(kind)
            tasks.add(task)
    return chosen + sorted(results.rglob("gold_probe.npz"))[:1]


def check_every_probe_analyses(results: Path, out: Path) -> int:
    """`attend analyse` on a probe of every form and every task under a workflow's results
    (:func:`probes_to_analyse`) writes every table, every figure that applies and the
    summary (tests/test_workflow.py's smoke test calls this on the smoke run's probes);
    returns how many probes it analysed."""
    probes = probes_to_analyse(results)
    assert probes, f"no probe under {results}"
    dests = [out / path.relative_to(results).with_suffix("") for path in probes]
    # One process per core (each probe's figures take seconds of matplotlib).
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        codes = list(pool.map(probe_report.main, [[str(p), "--out", str(d)] for p, d in zip(probes, dests)]))
    tables = {f"{t}.csv" for t in (*TABLE_COLUMNS, *GOLD_TABLE_COLUMNS)}
    for path, dest, code in zip(probes, dests, codes):
        assert code == 0, path
        arrays = np.load(dest / "analysis.npz")
        applies = {"units": "unit_layer" in arrays, "gold_alignment": "gold_sentence_links" in arrays}
        assert applies["gold_alignment"] == (path.name == "gold_probe.npz"), path
        figures = {f"{f.name}.{s}" for f in one_model.FIGURES if applies.get(f.name, True) for s in ("png", "pdf")}
        assert _written(dest) == tables | {"analysis.npz", "summary.md"} | figures, path
        summary = (dest / "summary.md").read_text()
        assert "## Skipped" in summary
        assert ("## Attention against human word alignments" in summary) == applies["gold_alignment"], path
    return len(probes)


# ---------------------------------------------------------------------------- the output folder


@pytest.fixture
def victim(tmp_path):
    """A file only its owner may write, outside the output folder."""
    path = tmp_path / "private" / "notes.txt"
    path.parent.mkdir()
    path.write_text("mine\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def never_measured(monkeypatch):
    """The folder is checked before the work: measuring would fail the test."""
    monkeypatch.setattr(probe_report, "measure", lambda *a, **k: pytest.fail("measured before the folder was checked"))


@pytest.fixture
def good_probe(tmp_path, make_probe):
    probe.save(tmp_path / "p.npz", make_probe(n=24, arch="aed"))
    return tmp_path / "p.npz"


def test_a_new_output_folder_is_private(tmp_path, good_probe):
    probe_report.analyse(good_probe, tmp_path / "new" / "out", figures=False)
    assert stat.S_IMODE((tmp_path / "new" / "out").stat().st_mode) == 0o700


def test_another_users_folder_with_planted_links_is_refused(tmp_path, good_probe, victim, never_measured):
    """The issue's case: another user made DIR and planted links under the outputs' names
    (and the old temporary names): refused, naming the owner; the victim's file untouched."""
    out = tmp_path / "theirs"
    out.mkdir(mode=0o755)
    for name in ("summary.md", f".summary.md.tmp{os.getpid()}", "variance.csv"):
        (out / name).symlink_to(victim)
    os.chown(out, 54321, 54321)  # tests run as root here: as if another user had made it
    with pytest.raises(DataError, match="belongs to uid 54321, not to you"):
        probe_report.analyse(good_probe, out, figures=False)
    assert victim.read_text() == "mine\n"


def test_links_planted_in_an_own_folder_are_replaced_not_followed(tmp_path, good_probe, victim):
    out = tmp_path / "mine"
    out.mkdir(mode=0o700)
    for name in ("summary.md", "variance.csv", "analysis.npz"):
        (out / name).symlink_to(victim)
    probe_report.analyse(good_probe, out, figures=False)
    assert victim.read_text() == "mine\n"
    assert not any((out / name).is_symlink() for name in ("summary.md", "variance.csv", "analysis.npz"))


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda out: (out.mkdir(), out.chmod(0o777)), r"can be written by group or others \(mode 0777\)"),
        (lambda out: out.write_text("a file"), "must be a folder, and this is a file"),
        (lambda out: (out.mkdir(mode=0o700), (out / "variance.csv").mkdir()), "a folder stands where the output"),
    ],
    ids=["writable by others", "a file", "a folder under a table's name"],
)
def test_an_output_folder_that_cannot_take_the_outputs_is_refused_first(
    tmp_path, good_probe, never_measured, make, why
):
    out = tmp_path / "out"
    make(out)
    with pytest.raises(DataError, match=why):
        probe_report.analyse(good_probe, out, figures=False)


def test_a_read_only_disk_is_named_in_one_line(tmp_path, good_probe, never_measured, monkeypatch, capsys):
    import errno

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    (tmp_path / "out").mkdir(mode=0o700)
    assert probe_report.main([str(good_probe), "--out", str(tmp_path / "out"), "--no-figures"]) == 1
    said = capsys.readouterr().err.strip().splitlines()
    assert said == [
        f"attend analyse: error: {tmp_path / 'out'}: the output folder cannot be written (Read-only file system); name another"
    ]
