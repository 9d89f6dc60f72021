"""Artifacts that prove what they are: every consumer checks the identity a file records
against what it expects, and every unreadable file names itself and the command that
makes it again. Also the code versions that make results follow the code."""

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attend import probe, provenance, tables
from attend.artifacts import (
    DataError,
    check_model_file,
    file_digest,
    load_dataset,
    read_model_csv,
    save_analysis,
    save_dataset,
)
from attend.tasks import build_dataset

CFG = {
    "sizes": {"train": 20, "valid": 5, "test": 5},
    "one_to_one": {"vocab_size": 5, "min_len": 3, "max_len": 5},
    "sort": {"vocab_size": 8, "min_len": 3, "max_len": 5},
}


@pytest.fixture
def datasets(tmp_path):
    out = {}
    for task in ("one_to_one", "sort"):
        arrays, record = build_dataset(task, CFG, 0)
        folder = tmp_path / task
        save_dataset(folder / "dataset.npz", folder / "vocab.json", arrays, record)
        out[task] = folder
    return out


def test_a_dataset_checks_its_pair_and_its_task(datasets):
    o2o, sort = datasets["one_to_one"], datasets["sort"]
    load_dataset(o2o / "dataset.npz", o2o / "vocab.json", expect={"task": "one_to_one", "seed": 0})
    shutil.copy(sort / "dataset.npz", o2o / "dataset.npz")  # a dataset copied from another task
    with pytest.raises(DataError, match="is not the dataset .*vocab.json was written with"):
        load_dataset(o2o / "dataset.npz", o2o / "vocab.json")
    with pytest.raises(DataError, match=r"task is 'sort', expected 'one_to_one'.*--force"):
        load_dataset(sort / "dataset.npz", sort / "vocab.json", expect={"task": "one_to_one", "seed": 0})


def test_a_probe_of_another_model_is_refused(tmp_path, make_probe):
    arrays = make_probe(n=8, arch="ved")
    arrays["identity"] = np.array(json.dumps({"task": "one_to_one", "arch": "ved", "seed": 0}))
    probe.save(tmp_path / "probe.npz", arrays)
    probe.load(tmp_path / "probe.npz", expect={"task": "one_to_one", "arch": "ved", "seed": 0})
    with pytest.raises(DataError, match=r"probe.npz: this probe belongs elsewhere \(arch is 'ved', expected 'aed'\)"):
        probe.load(tmp_path / "probe.npz", expect={"task": "one_to_one", "arch": "aed", "seed": 0})


@pytest.mark.parametrize(
    "content, message",
    [
        ("{}", r"the metrics JSON lacks \['task', 'arch', 'seed'"),
        ('{"test_seq', "not a valid metrics JSON"),
        (
            json.dumps({"task": "sort", "arch": "aed", "seed": 0, "test_token_acc": 1, "test_seq_acc": 1, "steps": 5}),
            "task is 'sort', expected 'one_to_one'",
        ),
    ],
)
def test_bad_metrics_name_the_file(tmp_path, content, message):
    path = tmp_path / "metrics.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        tables.accuracy([{"task": "one_to_one", "arch": "aed", "seed": 0, "path": str(path)}])
    assert str(path) in str(err.value) and f"--force {path}" in str(err.value)


LOG = "epoch,loss,step,val_loss,val_seq_acc,val_token_acc\n0,1.5,50,1.4,0.1,0.5\n1,1.2,100,1.1,0.2,0.6\n"


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "not a readable table"),
        ("epoch,loss,step,val_seq_acc\n", "empty or lacks columns"),
        ("epoch,loss,step,val_seq_acc\n0,1.5,50,0.1\n", r"lacks columns \(needs rows with .*'val_loss'"),
        (LOG[:-4] + "\n", "row 2 has no value of 'val_token_acc'"),  # the last row lacks only its last column
        (LOG.replace(",1.4,", ",,"), "row 1 has no value of 'val_loss'"),
        (LOG.replace("0.6", ""), "row 2 has no value of 'val_token_acc'"),
    ],
)
def test_an_empty_or_cut_training_log_is_refused(tmp_path, content, message):
    path = tmp_path / "train_log.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        read_model_csv(path)
    assert str(path) in str(err.value) and f"--force {path}" in str(err.value)
    path.write_text(LOG)
    assert len(read_model_csv(path)) == 2


BASE = {"task": "one_to_one", "arch": "aed", "seed": 0, "variant": "base", "settings_digest": "b" * 16}
OTHER = dict(BASE, variant="multihead", settings_digest="m" * 16)


def _run(path, identity=BASE):
    return dict(
        {k: identity[k] for k in ("task", "arch", "seed")},
        path=str(path),
        identity={k: identity[k] for k in ("variant", "settings_digest")},
    )


def _analysis(folder, identity, share=0.5):
    tables = {"variance": pd.DataFrame({"side": ["encoder"], "component": ["mu"], "fraction": [share]})}
    save_analysis(
        tables,
        {"identity": np.array(json.dumps(identity))},
        folder / "analysis.npz",
        {"variance": folder / "variance.csv"},
    )
    return folder / "variance.csv"


def test_a_measurement_table_checks_its_analysis(tmp_path):
    """A per-model CSV is read only beside the analysis.npz it was written with, and that
    one must be the expected model's: of its task, architecture, seed and variant."""
    base, other = tmp_path / "base", tmp_path / "other"
    path = _analysis(base, BASE)
    assert len(tables.stack([_run(path)])) == 1
    _analysis(other, OTHER, share=0.25)
    with pytest.raises(DataError, match="variant is 'base', expected 'multihead'"):
        tables.stack([_run(path, OTHER)])
    shutil.copy(other / "analysis.npz", base / "analysis.npz")  # the variant's analysis copied into base
    with pytest.raises(DataError, match=r"variant is 'multihead', expected 'base'.*--force"):
        tables.stack([_run(path)])
    _analysis(base, BASE)
    shutil.copy(other / "variance.csv", base / "variance.csv")  # only the CSV copied
    with pytest.raises(DataError, match=r"variance.csv is not the file .*analysis.npz was written with"):
        tables.stack([_run(path)])
    assert check_model_file(other / "analysis.npz", OTHER) is None
    with pytest.raises(DataError, match="settings_digest is 'mmmmmmmmmmmmmmmm', expected 'bbbbbbbbbbbbbbbb'"):
        check_model_file(other / "analysis.npz", dict(OTHER, settings_digest="b" * 16))  # same variant, other settings


def test_metrics_and_logs_check_their_model(tmp_path):
    """metrics.json records its model's identity and its log's checksum: a metrics file or a
    log from another variant, or a log copied alone, is refused."""

    def model(folder, identity, loss):
        folder.mkdir()
        (folder / "train_log.csv").write_text(LOG.replace("1.5", loss))
        (folder / "metrics.json").write_text(
            json.dumps(
                dict(
                    identity,
                    test_token_acc=1,
                    test_seq_acc=1,
                    steps=100,
                    train_log_sha256=file_digest(folder / "train_log.csv"),
                )
            )
        )

    model(tmp_path / "base", BASE, "1.5")
    model(tmp_path / "other", OTHER, "1.7")
    assert len(tables.stack([_run(tmp_path / "base" / "train_log.csv")])) == 2
    assert tables.accuracy([_run(tmp_path / "base" / "metrics.json")])["variant"].tolist() == ["base"]
    shutil.copy(tmp_path / "other" / "metrics.json", tmp_path / "base" / "metrics.json")
    with pytest.raises(DataError, match="metrics.json: this metrics file belongs elsewhere .*variant is 'multihead'"):
        tables.accuracy([_run(tmp_path / "base" / "metrics.json")])
    with pytest.raises(DataError, match="variant is 'multihead', expected 'base'"):
        tables.stack([_run(tmp_path / "base" / "train_log.csv")])
    shutil.rmtree(tmp_path / "base")
    model(tmp_path / "base", BASE, "1.5")
    shutil.copy(tmp_path / "other" / "train_log.csv", tmp_path / "base" / "train_log.csv")  # only the log copied
    with pytest.raises(DataError, match="train_log.csv is not the file .*metrics.json was written with"):
        tables.stack([_run(tmp_path / "base" / "train_log.csv")])


def test_an_aggregated_table_of_another_variant_is_refused(tmp_path):
    """The claims and figures check that every row of a table they read comes from the
    models of their variant (tables record each row's variant and settings digest)."""
    path = _analysis(tmp_path, BASE)
    table = tables.stack([_run(path)])
    assert list(table.columns[:5]) == ["task", "arch", "seed", "variant", "settings_digest"]
    expected = {"one_to_one/aed": {"variant": "base", "settings_digest": "b" * 16}}
    tables.check_rows(table, expected, "term_shares.csv")
    with pytest.raises(
        DataError,
        match=r"term_shares.csv: its rows of one_to_one/aed come from models whose variant "
        r"is 'base', expected 'multihead'",
    ):
        tables.check_rows(table, {"one_to_one/aed": {"variant": "multihead"}}, "term_shares.csv")
    with pytest.raises(DataError, match="holds rows of one_to_one/aed, which this run does not make"):
        tables.check_rows(table, {"sort/aed": expected["one_to_one/aed"]}, "term_shares.csv")
    with pytest.raises(DataError, match="lacks the columns"):
        tables.check_rows(table.drop(columns=["variant"]), expected, "term_shares.csv")


def test_a_truncated_model_names_the_file(tmp_path):
    pytest.importorskip("keras")
    from attend.model_files import load_model

    path = tmp_path / "model.keras"
    path.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(DataError, match=f"{path}: not a readable Keras model.*--force {path}"):
        load_model(path)


def test_code_versions_follow_imports_and_bytes(tmp_path, monkeypatch):
    files = {p.name for p in provenance.source_files("attend.training")}
    assert {"training.py", "architectures.py", "scoring.py", "checkpoint.py", "base.py"} <= files
    # the model modules (and the layers they share) are imported by name, from their architectures' declarations: each job's
    # code version counts its own (workflow/rules/common.smk, run_time_modules)
    assert not {"seq2seq.py", "transformer.py"} & files
    assert "plotting" not in " ".join(str(p) for p in provenance.source_files("attend.training"))
    figure = {p.name for p in provenance.source_files("attend.plotting.fig06_summary")}
    assert {"fig06_summary.py", "claims.py", "style.py"} <= figure
    # A module of the user's own (a task module) is found where Python would import it.
    (tmp_path / "my_task.py").write_text("from attend.tasks.base import PAD\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = provenance.code_version.__wrapped__("my_task")
    assert "base.py" in {p.name for p in provenance.source_files.__wrapped__("my_task")}
    (tmp_path / "my_task.py").write_text('"""A docstring."""\n\nfrom attend.tasks.base import PAD  # a comment\n')
    assert provenance.code_version.__wrapped__("my_task") == before, "comments and docstrings change no result"
    (tmp_path / "my_task.py").write_text("from attend.tasks.base import PAD, EOS\n")
    assert provenance.code_version.__wrapped__("my_task") != before
    with pytest.raises(ValueError, match="neither a module of the attend package"):
        provenance.source_files.__wrapped__("no_such_module_here")


# ---------------------------------------------------------------------------- the rules' scripts

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "workflow" / "scripts").glob("*.py"))


def imported_directly(script: Path) -> set[str]:
    """The files of the attend modules a script names in its own import statements."""
    names = set()
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attend"):
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("attend")}
    root = provenance.ROOT
    files = set()
    for name in names:
        base = root.joinpath(*name.split(".")[1:])
        files |= {p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()}
    return files


@pytest.fixture
def scratch_package(tmp_path, monkeypatch):
    """A copy of the attend package that provenance reads instead of the real one, so that
    a test may edit its modules; the code-version caches are emptied before and after."""
    root = tmp_path / "attend"
    shutil.copytree(provenance.ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "ROOT", root)
    provenance.source_files.cache_clear()
    provenance.code_version.cache_clear()
    yield root
    provenance.source_files.cache_clear()
    provenance.code_version.cache_clear()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_a_rules_code_version_follows_every_module_its_script_imports(script, scratch_package, tmp_path):
    """Every rule's `code` param is the code version of its script (workflow/rules/common.smk,
    add_code_params): editing the script, any attend module it imports, or any module one of
    those imports, changes it; a comment or a docstring changes nothing."""
    copy = tmp_path / "scripts" / script.name
    copy.parent.mkdir()
    shutil.copy(script, copy)

    def version():
        provenance.source_files.cache_clear()
        provenance.code_version.cache_clear()
        return provenance.code_version(copy)

    files = set(provenance.source_files(copy))
    direct = imported_directly(copy)
    assert direct and direct <= files, f"{script.name} imports {sorted(map(str, direct - files))}, not counted"
    assert files - direct - {copy}, f"{script.name}: no module reached through another module"
    before = version()
    for path in sorted(files):
        text = path.read_text()
        doc = ast.get_docstring(ast.parse(text), clean=False)
        commented = text.replace(doc, f"{doc} More words.", 1) if doc and doc in text else text
        path.write_text(f"# a comment\n{commented}\n# another comment\n")
        assert version() == before, f"a comment or docstring in {path} changed {script.name}'s code version"
        path.write_text(text + "\n_EDITED = True\n")
        assert version() != before, f"editing {path} left {script.name}'s code version as it was"
        path.write_text(text)
    assert version() == before


def test_the_scripts_count_what_they_import():
    """The modules the rules once listed by hand and missed: the measure script imports
    attend.probe; the figure, claims and variants scripts attend.tables; docs its own module."""
    names = {path.stem: {p.name for p in provenance.source_files(path)} for path in SCRIPTS}
    assert "probe.py" in names["measure"] and "results_doc.py" in names["docs"]
    assert all("tables.py" in names[s] for s in ("figure", "claims", "variants"))
    with pytest.raises(ValueError, match="not a Python script file"):
        provenance.source_files.__wrapped__(SCRIPTS[0].with_suffix(".txt"))
