# One rule per figure module of attend.plotting, named after it (`snakemake
# fig02_one_to_one_aed`). Figures read saved arrays and tables only; they never import
# TensorFlow. Each rule's code version covers its module and what it imports, so editing
# one figure's module reruns that figure alone. Every figure's report caption is the one
# template report/figure.rst, which renders the rule's `caption` param: the caption made from
# the figure's declaration (attend.plotting.captions), written nowhere else.

from attend.plotting.captions import report_caption

for figure in FIGURES:

    rule:
        name:
            figure
        input:
            analysis=list(figure_models(figure).values()),
            tables=figure_table_files(figure),
        output:
            pdf=f"figures/{figure}.pdf",
            png=report(
                f"figures/{figure}.png",
                caption="../report/figure.rst",
                category="Figures",
            ),
        log:
            f"logs/figures/{figure}.log",
        benchmark:
            f"benchmarks/figures/{figure}.tsv"
        conda:
            "../../envs/attend.yaml"
        params:
            module=f"attend.plotting.{figure}",
            analysis=figure_models(figure),
            tables=figure_tables(figure),
            settings=figure_settings(figure),
            # the models every per-model file and aggregated table must come from
            expect=figure_expect(figure),
            identities=variant_identities("base") if FIGURES[figure].tables else {},
            task_modules=config["task_modules"],
            caption=report_caption(figure, FIGURES[figure]),
        script:
            "../scripts/figure.py"
