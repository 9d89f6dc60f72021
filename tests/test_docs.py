"""The repository stands on its own: every link resolves inside it, nothing cites a document
it does not hold, the README stays short and maps every module, the generated parts of the
docs are current, the citation file is well formed, and the results document holds the
numbers of the tables it was made from."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from attend import results_doc
from attend.architectures import ARCHITECTURES
from attend.plotting import captions, figures

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [
    REPO / "README.md",
    REPO / "CHANGELOG.md",
    REPO / "config" / "README.md",
    REPO / "bench" / "RESULTS.md",
    *sorted((REPO / "docs").glob("*.md")),
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub makes of a document's headings."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
            out.add(text.replace(" ", "-"))
    return out


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves_inside_the_repository(document):
    text = document.read_text()
    for target in LINK.findall(text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        assert resolved.is_relative_to(REPO), f"{document.name} links outside the repository: {target}"
        assert resolved.exists(), f"{document.name}: {target} does not exist"
        if anchor:
            assert anchor in anchors(resolved.read_text()), f"{document.name}: no heading makes #{anchor} in {path}"


def test_nothing_cites_a_document_the_repository_does_not_hold():
    """The science is docs/science.md: no reference to the steering folder's PAPER.md, or
    to anything else beside the checkout."""
    offenders = []
    for root in ("src", "workflow", "docs", "config", "tests", "bench"):
        for path in (REPO / root).rglob("*"):
            if (
                path.is_file()
                and path.suffix in (".py", ".smk", ".md", ".yaml", ".rst", ".txt")
                and path != Path(__file__)
            ):
                text = path.read_text(errors="replace")
                if "PAPER.md" in text:
                    offenders.append(str(path.relative_to(REPO)))
    for name in ("README.md", "Snakefile", "CHANGELOG.md"):
        if "PAPER.md" in (REPO / name).read_text():
            offenders.append(name)
    assert not offenders, offenders


def test_the_readme_is_short_and_maps_every_module():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    package = REPO / "src" / "attend"
    modules = {p.name for p in package.glob("*.py") if p.name != "__init__.py"}
    modules |= {"config.schema.yaml"} | {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()}
    mapped = set(re.findall(r"`([\w.]+/?)`", readme.split("## Module map", 1)[1].split("\n## ", 1)[0]))
    assert modules <= mapped, f"modules missing from the README's module map: {sorted(modules - mapped)}"


def test_the_readme_claims_are_those_of_the_results_document():
    readme = (REPO / "README.md").read_text()
    block = readme.split(results_doc.README_BEGIN, 1)[1].split(results_doc.README_END, 1)[0].strip()
    assert block == results_doc.claims_block((REPO / "docs" / "results.md").read_text()).strip(), (
        "run `make docs` (or `python -m attend.results_doc readme`) to copy docs/results.md's claims into the README"
    )


def test_the_figure_list_of_science_md_is_current():
    science = (REPO / "docs" / "science.md").read_text()
    assert science.count(captions.BEGIN) == 1 and science.count(captions.END) == 1
    block = science.split(captions.BEGIN, 1)[1].split(captions.END, 1)[0].strip()
    assert block == captions.figure_list(), (
        "run `python -m attend.plotting.captions` to write the figures' declarations into docs/science.md"
    )


def test_the_figure_list_has_a_row_per_declared_figure(tmp_path):
    """One row per figure, in order, each cell from its declaration (a `|` in a caption
    escaped); and rewriting a document keeps what lies around the markers."""
    declared = dict(figures())
    declared["fig13_pipes"] = dataclasses.replace(declared["fig12_transformer"], caption="a | b", paper="")
    rows = [row.strip("|").split(" | ") for row in captions.figure_list(declared).splitlines()[2:]]
    assert [row[1].strip() for row in rows] == [f"`{name}`" for name in declared]
    assert [int(row[0]) for row in rows] == [captions.number(name) for name in declared]
    assert rows[-1][-1].strip() == "a \\| b" and rows[-1][2] == "–"
    document = tmp_path / "science.md"
    document.write_text(f"before\n{captions.BEGIN}\nstale\n{captions.END}\nafter\n")
    captions.update(document)
    assert document.read_text() == f"before\n{captions.BEGIN}\n{captions.figure_list()}\n{captions.END}\nafter\n"


def test_the_citation_file_is_cff_and_agrees_with_pyproject():
    """CITATION.cff has the keys CFF 1.2.0 requires (of the file and of the reference it
    prefers), the package's version and license, and cites the paper replicated."""
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert citation["cff-version"] == "1.2.0"
    assert {"cff-version", "message", "title", "authors"} <= set(citation)
    assert citation["message"].strip() and citation["title"].strip()
    for person in citation["authors"] + citation["preferred-citation"]["authors"]:
        assert person.get("name") or person.get("family-names"), person  # an entity, or a person
    assert citation["version"] == project["version"], "CITATION.cff's version is not pyproject.toml's"
    assert citation["license"] == project["license"], "CITATION.cff's license is not pyproject.toml's"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(citation["date-released"]))
    paper = citation["preferred-citation"]
    assert {"type", "title", "authors"} <= set(paper)
    assert paper["title"] == "Understanding How Encoder-Decoder Architectures Attend" and paper["year"] == 2021
    assert [a["family-names"] for a in paper["authors"]] == ["Aitken", "Ramasesh", "Cao", "Maheswaranathan"]
    assert "2110.15253" in paper["url"]


# ---------------------------------------------------------------------------- the results document


def parse_tables(markdown: str) -> dict[str, pd.DataFrame]:
    """Every markdown table of a document, by the section heading above it."""
    tables, section, rows = {}, None, []
    for line in markdown.splitlines() + [""]:
        if line.startswith("## "):
            section = line[3:]
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
        elif rows:
            tables[section] = pd.DataFrame(rows[2:], columns=rows[0])
            rows = []
    return tables


def assert_document_holds(document: str, tables: dict[str, str], benchmarks: list[dict]) -> None:
    """The claims, accuracy and cost tables of docs/results.md hold the run's numbers, each
    recomputed here from the CSVs it was made from."""
    parsed = parse_tables(document)
    claims = pd.read_csv(tables["claims"])
    # a claim is asked once per scope (the paper's models, the Transformer) where there are several
    key = [c for c in ("claim", "scope") if c in claims.columns]
    shown = parsed["Claims"].set_index(key)
    claims = claims.set_index(key)
    assert list(shown.index) == list(claims.index)
    for at, row in claims.iterrows():
        assert shown.loc[at, "status"] == row["status"], at
        assert shown.loc[at, "pooled"] == ("–" if pd.isna(row["value"]) else f"{row['value']:.3f}"), at
        assert shown.loc[at, "seeds passing"] == row["seeds_passing"], at
    accuracy = pd.read_csv(tables["accuracy"])
    table = parsed["Accuracy"].set_index("task")
    for (task, arch), group in accuracy.groupby(["task", "arch"]):
        cell = table.loc[task, ARCHITECTURES[arch].label]
        seq = group["test_seq_acc"]
        expected = f"{seq.mean():.3f}" + (f" ± {seq.std():.3f}" if len(seq) > 1 else "")
        assert cell.startswith(expected), (task, arch, cell, expected)
        assert int(table.loc[task, "seeds"]) == accuracy[accuracy["task"] == task]["seed"].nunique()
    if benchmarks:
        total = sum(float(pd.read_csv(b["path"], sep="\t")["cpu_time"].iloc[-1]) for b in benchmarks)
        cost = parsed["Cost"].set_index("task")
        assert float(cost.loc["all", "all"]) == pytest.approx(total, abs=0.5)


def test_the_results_document_holds_its_tables(tmp_path):
    """On constructed tables: every number of the document is the tables'."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "task": t,
            "arch": a,
            "seed": s,
            "test_seq_acc": rng.uniform(),
            "test_token_acc": rng.uniform(),
            "test_teacher_forced_token_acc": rng.uniform(),
            "steps": int(rng.integers(1, 60)) * 100,
            "stop_reason": rng.choice(["target", "plateau", "budget"]),
            "test_bleu": rng.uniform(0, 40) if t == "translation" else np.nan,
            "test_chrf": 50.0 if t == "translation" else np.nan,
            "test_bleu_detok": 30.0 if t == "translation" else np.nan,
        }
        for t in ("one_to_one", "sort", "translation")
        for a in ("ved", "aed", "ao")
        for s in ((0,) if t == "translation" else (0, 1, 2))
    ]
    paths = {name: tmp_path / f"{name}.csv" for name in ("accuracy", "approximation", "claims")}
    pd.DataFrame(rows).to_csv(paths["accuracy"], index=False)
    pd.DataFrame(
        {
            "task": "translation",
            "arch": "aed",
            "seed": 0,
            "layer": -1,
            "head": -1,
            "metric": ["max_attention", "near_diagonal"],
            "value": [0.61, 0.83],
        }
    ).to_csv(paths["approximation"], index=False)
    # F1 asked twice, of the paper's models and of the Transformer: the claims are keyed by (claim, scope)
    pd.DataFrame(
        {
            "scope": ["paper", "paper", "tfm"],
            "claim": ["F1", "F2", "F1"],
            "statement": ["a", "b", "a"],
            "value": [0.91234, np.nan, 0.41],
            "criterion": ["x", "y", "x"],
            "status": ["pass", "not checked", "fail"],
            "pooled": "3 seeds",
            "seeds_passing": ["3/3", "0/0", "0/3"],
            "per_seed": ["0: 0.9 pass", "", "0: 0.4 fail"],
            "spread": "",
            "detail": ["d|e", "", ""],
        }
    ).to_csv(paths["claims"], index=False)
    benchmarks = []
    for i, (t, a) in enumerate([("one_to_one", "aed"), ("sort", "ao")]):
        benchmarks.append({"task": t, "arch": a, "seed": 0, "path": str(tmp_path / f"b{i}.tsv")})
        pd.DataFrame({"s": [10.0], "cpu_time": [100.0 + i]}).to_csv(benchmarks[-1]["path"], sep="\t", index=False)
    about = {
        "tasks": ["one_to_one", "sort", "translation"],
        "architectures": ["ved", "aed", "ao"],
        "seeds": [0, 1, 2],
        "backend": "tensorflow",
    }
    document = results_doc.results_markdown(
        {k: str(v) for k, v in paths.items()}, benchmarks, {"fig06_summary": "figures/fig06_summary.png"}, about
    )
    assert_document_holds(document, {k: str(v) for k, v in paths.items()}, benchmarks)
    translation = parse_tables(document)["Translation"]
    assert list(translation["model"]) == ["VED", "AED", "AO"] and translation["near diagonal"].tolist()[1] == "0.83"
    assert "![fig06_summary](figures/fig06_summary.png)" in document
    block = results_doc.claims_block(document).splitlines()
    assert block[2].startswith("| F1 | paper | 0.912 | pass | 3/3") and block[4].startswith("| F1 | tfm | 0.410 | fail")


def test_the_layer_by_layer_table_holds_the_layers_rows():
    """A model of several layers gets a row whose per-layer numbers are its (layer, -1) rows'."""
    from two_heads import two_layer_probe

    from attend.analysis.measure import measure

    frames = {"term_shares": [], "approximation": []}
    for seed in (0, 1):
        tables, _, _ = measure(two_layer_probe(seed=seed)[0], {}, n_samples=2)
        for name in frames:
            frames[name].append(tables[name].assign(task="one_to_one", arch="tfm", seed=seed))
    shares, approx = (pd.concat(frames[name], ignore_index=True) for name in ("term_shares", "approximation"))
    table = results_doc.layers_table(shares, approx).set_index("task")
    overall = shares[(shares["step"] == -1) & (shares["term"] == "mu·mu")]
    for layer, name in ((-1, "whole"), (0, "layer 0"), (1, "layer 1")):
        expected = overall[(overall["layer"] == layer) & (overall["head"] == -1)]["share"].mean()
        assert table.loc["one_to_one", f"μ·μ share, {name}"] == f"{expected:.2f}"
        agreement = approx[
            (approx["layer"] == layer) & (approx["head"] == -1) & (approx["metric"] == "temporal_argmax_agreement")
        ]["value"].mean()
        assert table.loc["one_to_one", f"temporal-only agreement, {name}"] == f"{agreement:.2f}"
    single = shares[shares["layer"] == -1]
    assert results_doc.layers_table(single, approx).empty, "a model of one layer has no such row"


def test_the_gold_alignment_table_pools_each_models_counts(tmp_path):
    """Each model's AERs in the document are those of its whole-model rows' counts summed over
    its seeds (AED's attention: 100 links at AER 0.55 and 300 at 0.65 pool to 0.625), its
    other readings and conventions alike, and its unknown-word rates the seeds' mean."""
    from test_claims import gold_rows

    gold = pd.DataFrame(
        gold_rows("translation", "aed", 0)
        + gold_rows("translation", "aed", 1, {"attention": 0.65}, links=300)
        + gold_rows("translation", "ao", 0, {"diagonal": 0.6})
    ).assign(source_oov_rate=lambda d: 0.1 + 0.1 * d["seed"], target_oov_rate=0.3)
    table = results_doc.gold_alignment_table(gold).set_index("model")
    assert list(table.index) == ["AED", "AO"] and list(table["seeds"]) == [2, 1]
    assert table.loc["AED", "attention"] == "0.625" and table.loc["AED", "diagonal"] == "0.700"
    assert table.loc["AO", "attention"] == "0.550" and table.loc["AO", "diagonal"] == "0.600"
    assert table.loc["AED", "attention, read at the next step"] == "0.900"  # gold_rows' other rows
    assert table.loc["AED", "unknown words, English / French"] == "15.0% / 30.0%"
    paths = {"accuracy": tmp_path / "accuracy.csv", "approximation": tmp_path / "approximation.csv"}
    pd.DataFrame({"task": ["translation"], "arch": ["aed"], "seed": [0], "test_seq_acc": [0.1]}).assign(
        test_token_acc=0.2, steps=100, stop_reason="budget"
    ).to_csv(paths["accuracy"], index=False)
    pd.DataFrame(columns=["task", "arch", "seed", "layer", "head", "metric", "value"]).to_csv(
        paths["approximation"], index=False
    )
    paths["claims"] = tmp_path / "claims.csv"
    pd.DataFrame({"claim": ["F6"], "value": [0.1], "status": ["pass"], "seeds_passing": ["1/1"]}).to_csv(
        paths["claims"], index=False
    )
    paths["gold_alignment"] = tmp_path / "gold.csv"
    gold.to_csv(paths["gold_alignment"], index=False)
    about = {"tasks": ["translation"], "architectures": ["aed", "ao"], "seeds": [0, 1], "backend": "jax"}
    document = results_doc.results_markdown({k: str(v) for k, v in paths.items()}, [], {}, about)
    shown = parse_tables(document)["Attention against human word alignments"].set_index("model")
    assert shown.loc["AED", "attention"] == "0.625" and shown.loc["AO", "temporal-only"] == "0.720"
