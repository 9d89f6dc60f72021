"""The token conventions every artifact shares: id 0 is padding, 1 is end-of-sequence
(``</s>``), 2 is start-of-sequence (``<s>``), then the words in vocabulary order.

Every source and target sequence ends with ``</s>`` (the source's end-of-sequence position
is its last valid position and may be attended); the decoder's input at step t is the
target at t - 1, with ``<s>`` at t = 0. ``attend.tasks.base`` encodes word sequences with
these ids; datasets, probes and the analysis read them.
"""

PAD, EOS, SOS = 0, 1, 2
SPECIALS = ["<pad>", "</s>", "<s>"]
UNK = "<unk>"  # the out-of-vocabulary word of tasks that have one (translation)
