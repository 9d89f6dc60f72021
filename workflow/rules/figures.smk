# One rule per figure (named after it: `snakemake fig02_one_to_one_aed`). Figures read
# saved arrays and tables only; they never import TensorFlow. Each rule lists its own
# plotting module as an input, so editing that module reruns that figure alone.

PLOTTING = "src/attend/plotting"

# figure -> (the (task, arch) pairs whose analysis it draws, the aggregated tables it reads).
# A figure reads a model's analysis.npz and the per-model CSVs beside it, so a figure of
# one model waits for that model alone.
FIGURES = {
    "fig01_overview": ([("one_to_one", "aed")], []),
    "fig02_one_to_one_aed": ([("one_to_one", "aed")], []),
    "fig03_one_to_one_ao": ([("one_to_one", "ao")], []),
    "fig04_ved": ([(t, "ved") for t in TASKS], []),
    "fig05_synthetic_tasks": ([(t, a) for t in ("one_to_one", "reverse", "sort") for a in ("aed", "ao")], []),
    "fig06_summary": ([], ["approximation", "term_shares"]),
    "fig07_escan_translation": ([(t, a) for t in ("escan", "translation") for a in ("aed", "ao")], []),
    "fig08_escan_mechanism": ([("escan", "aed"), ("escan", "ao")], []),
    "fig09_architectures": ([], []),
    "fig10_training": ([], ["training_log", "accuracy"]),
}


def figure_models(figure):
    """The configured (task, arch) pairs a figure draws, as {"task/arch": analysis.npz}."""
    pairs, _ = FIGURES[figure]
    return {
        f"{t}/{a}": ANALYSIS.format(task=t, arch=a, seed=FIRST_SEED) + "/analysis.npz"
        for t, a in pairs
        if t in TASKS and a in ARCHS
    }


def figure_tables(figure):
    return {name: f"results/tables/{name}.csv" for name in FIGURES[figure][1]}


for figure in FIGURES:

    rule:
        name:
            figure
        input:
            analysis=list(figure_models(figure).values()),
            tables=list(figure_tables(figure).values()),
            code=[f"{PLOTTING}/{figure}.py", f"{PLOTTING}/style.py", f"{PLOTTING}/panels.py"],
        output:
            pdf=f"figures/{figure}.pdf",
            png=report(
                f"figures/{figure}.png",
                caption=f"../report/{figure}.rst",
                category="Figures",
            ),
        params:
            module=f"attend.plotting.{figure}",
            analysis=figure_models(figure),
            tables=figure_tables(figure),
        log:
            f"logs/figures/{figure}.log",
        benchmark:
            f"benchmarks/figures/{figure}.tsv"
        script:
            "../scripts/figure.py"
