"""Adapters that write a probe (docs/probe-format.md) from a model trained anywhere:

* :mod:`attend.adapters.keras`: a seq2seq Keras 3 model whose encoder states, decoder
  states and attention projections the caller names;
* :mod:`attend.adapters.hf`: a Hugging Face encoder-decoder, a Marian, BART or T5 model
  (``pip install 'attend[hf]'``; ``attend probe-hf``);
* :mod:`attend.adapters.pairs`: the written sentence pairs of this project's translation
  test split, to probe an outside translation model on them (``attend test-pairs``).

Each imports its framework only when called, so importing this package costs nothing.
"""
