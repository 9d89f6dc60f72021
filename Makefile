# The two entry points of the README:
#   make replicate   set up the environment, then run the full replication
#   make test        set up the environment, then run the test suite
# and: make smoke (the tiny run), make test-quick (no Snakemake, no training), make docs,
# make marian (an outside model for attend probe-hf, not part of the replication), make
# marian-analysis (that model probed and analysed, the README's example figure).
VENV ?= .venv
# A second environment without TensorFlow, for the test that runs the smoke workflow on
# Keras's JAX backend (tests/test_jax_backend.py).
VENV_JAX ?= .venv-jax
# A third, with PyTorch and transformers and without TensorFlow, for the Hugging Face
# adapter's tests (tests/test_hf_environment.py runs tests/test_hf_adapter.py there).
VENV_HF ?= .venv-hf
CORES ?= all
# The tests run on every core, the longest first, each worker taking the next test when it is
# free (pytest-xdist); PYTEST_PARALLEL= runs them one at a time, in file order.
PYTEST_PARALLEL ?= -n auto --dist worksteal
SNAKEMAKE_ARGS ?=
# The local profile detects this machine's GPUs (none: training runs on the CPU).
SNAKEMAKE = $(VENV)/bin/snakemake --workflow-profile workflow/profiles/local --cores $(CORES)

.PHONY: replicate test test-quick smoke env docs marian marian-analysis

replicate: $(VENV)/.ready
	$(SNAKEMAKE) $(SNAKEMAKE_ARGS)

# ATTEND_REQUIRE_JAX, ATTEND_REQUIRE_HF: the JAX and Hugging Face tests fail (not skip)
# without the environments built here.
# The three environments are built side by side (pip spends much of its time unpacking).
test:
	$(MAKE) -j3 $(VENV)/.ready $(VENV_JAX)/.ready $(VENV_HF)/.ready
	ATTEND_REQUIRE_JAX=1 ATTEND_REQUIRE_HF=1 $(VENV)/bin/python -m pytest $(PYTEST_PARALLEL) --durations=20

# The quick tier: every test that neither launches Snakemake nor trains (about two minutes).
test-quick: $(VENV)/.ready
	$(VENV)/bin/python -m pytest $(PYTEST_PARALLEL) -m "not slow"

smoke: $(VENV)/.ready
	$(SNAKEMAKE) --configfile config/smoke.yaml $(SNAKEMAKE_ARGS)

# docs/results.md and docs/figures/ from the run (made first if it is not), then the README's
# claims table from docs/results.md.
docs: $(VENV)/.ready
	$(SNAKEMAKE) $(SNAKEMAKE_ARGS) -- docs
	$(VENV)/bin/python -m attend.results_doc readme

# An outside model to try `attend probe-hf` and `attend analyse` on (docs/analyse.md, "A Marian
# trained here"): a small MarianMTModel trained with Hugging Face in .venv-hf on the translation
# dataset's training split, with its own SentencePiece vocabulary, saved with save_pretrained in
# results/outside/marian and scored on the test split as the pipeline scores its models
# (about one core-hour on one thread). Nothing of the replication reads it.
# MARIAN_ARGS passes options to outside/marian.py (--steps, --threads, ...).
MARIAN_ARGS ?=
marian: $(VENV)/.ready $(VENV_HF)/.ready
	$(SNAKEMAKE) $(SNAKEMAKE_ARGS) results/data/translation/seed0/dataset.npz
	$(VENV_HF)/bin/python outside/marian.py --dataset results/data/translation/seed0/dataset.npz \
		--out results/outside/marian $(MARIAN_ARGS)

# That Marian analysed as a user would (docs/analyse.md, "A Marian trained here"), into
# results/outside/: `attend test-pairs` (the first analysis.n_sequences pairs of the test split,
# as many as the pipeline's probes hold), `attend probe-hf` on them and on the human word
# alignments (--gold), `attend analyse` of both; then the README's example figure,
# docs/figures/analyse_example.png, from the test split's MARIAN_FIGURE (256 colours, < 200 kB).
# About two core-minutes after `make marian`.
MARIAN_PROBED ?= $(shell $(VENV)/bin/python -c "from attend.config_schema import written_default as d; print(d('analysis.n_sequences'))")
MARIAN_FIGURE ?= mechanism
OUTSIDE = results/outside
marian-analysis: $(VENV)/.ready $(VENV_HF)/.ready
	@test -f $(OUTSIDE)/marian/config.json || { echo "no $(OUTSIDE)/marian: run make marian first"; exit 1; }
	$(SNAKEMAKE) $(SNAKEMAKE_ARGS) results/data/translation/seed0/dataset.npz results/data/gold_alignment/enfr.gold
	$(VENV_HF)/bin/attend test-pairs results/data/translation/seed0/dataset.npz --limit $(MARIAN_PROBED) \
		--out $(OUTSIDE)/test-pairs.tsv
	$(VENV_HF)/bin/attend probe-hf --model $(OUTSIDE)/marian --pairs $(OUTSIDE)/test-pairs.tsv --out $(OUTSIDE)/marian-test.npz
	$(VENV_HF)/bin/attend analyse $(OUTSIDE)/marian-test.npz --out $(OUTSIDE)/marian-test
	$(VENV_HF)/bin/attend probe-hf --model $(OUTSIDE)/marian --gold results/data/gold_alignment \
		--out $(OUTSIDE)/marian-gold.npz
	$(VENV_HF)/bin/attend analyse $(OUTSIDE)/marian-gold.npz --out $(OUTSIDE)/marian-gold
	$(VENV)/bin/python -c "from PIL import Image; Image.open('$(OUTSIDE)/marian-test/$(MARIAN_FIGURE).png')\
		.convert('RGB').quantize(256).save('docs/figures/analyse_example.png', optimize=True)"

env: $(VENV)/.ready

$(VENV)/.ready: envs/requirements.txt envs/constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --no-compile -r envs/requirements.txt -c envs/constraints.txt
	$(VENV)/bin/python -m pip install --quiet --no-compile --no-deps -e .
	touch $@

$(VENV_JAX)/.ready: envs/requirements-jax.txt envs/constraints.txt pyproject.toml
	python3 -m venv $(VENV_JAX)
	$(VENV_JAX)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_JAX)/bin/python -m pip install --quiet --no-compile -r envs/requirements-jax.txt -c envs/constraints.txt
	$(VENV_JAX)/bin/python -m pip install --quiet --no-compile --no-deps -e .
	touch $@

$(VENV_HF)/.ready: envs/requirements-hf.txt envs/constraints-hf.txt pyproject.toml
	python3 -m venv $(VENV_HF)
	$(VENV_HF)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_HF)/bin/python -m pip install --quiet --no-compile -r envs/requirements-hf.txt -c envs/constraints-hf.txt
	$(VENV_HF)/bin/python -m pip install --quiet --no-compile --no-deps -e .
	touch $@
