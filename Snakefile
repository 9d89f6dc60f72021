# attend: replication of Aitken et al. (NeurIPS 2021),
# "Understanding How Encoder-Decoder Architectures Attend".
#
#   snakemake --cores all                                  full replication (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml      tiny end-to-end run
#   snakemake --cores 1 figures/fig02_one_to_one_aed.pdf   one figure and what it needs


from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/docs.smk"


# Every rule that runs a script: its code version as a param, from the script's imports.
add_code_params()


rule all:
    default_target: True
    input:
        all_targets(),
