"""Figures 1-10 (PAPER.md §5). One module per figure, each with
``render(analysis, tables, pdf, png)``: ``analysis`` maps "task/arch" to that model's
``analysis.npz`` (its per-model CSVs lie beside it), ``tables`` maps a table name to its
aggregated CSV. Matplotlib, numpy and pandas only: figures never import TensorFlow."""
