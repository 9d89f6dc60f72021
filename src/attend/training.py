"""Training with teacher forcing, periodic validation and an early stop (docs/science.md §3,
Training): at the accuracy target, or once the validation loss has plateaued
(:func:`plateaued`), or at the step cap, whichever comes first; the metrics say which.

Read top to bottom: the batches (:class:`RandomBatches`, a function of the seed alone),
the stopping rule (:func:`plateaued`, :func:`stop_reason`, the :class:`Validation`
callback), then the loop (:func:`train`).

One Keras "epoch" here is one validation period (``eval_every`` steps of randomly drawn
batches), so callbacks do the bookkeeping: Keras's ``CSVLogger`` writes one log row per
validation, and ``attend.checkpoint.TrainingCheckpoint`` checkpoints at each, so a killed
job resumes from its last validation and removes its checkpoint when it finishes. The
test scores come from ``attend.decoding`` (greedy decoding) and ``attend.scoring``
(accuracy, BLEU and chrF).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from pathlib import Path

import keras
import numpy as np

from . import finished
from .artifacts import file_digest, write_text
from .checkpoint import TrainingCheckpoint, keep_log_rows, logged_column
from .config_schema import written_block_defaults
from .decoding import greedy_decode, teacher_forced_accuracy
from .model_files import save_model
from .models import EncoderDecoder, build_model
from .scoring import accuracy, text_scores
from .tokens import PAD, decoder_inputs

log = logging.getLogger(__name__)


def set_determinism(seed: int, threads: int | None = None) -> None:
    """Seed every generator and ask the backend for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
            except RuntimeError:  # TensorFlow already started in this process (tests): keep its threads
                log.debug("TensorFlow's thread counts are already fixed in this process")


def batch_rows(seed: int, epoch: int, index: int, n_rows: int, batch_size: int) -> np.ndarray:
    """The training rows of batch ``index`` of epoch ``epoch``, drawn with replacement: a
    function of (seed, epoch, index) alone, so a resumed run sees the same batches."""
    return np.random.default_rng([seed, epoch, index]).integers(0, n_rows, batch_size)


class RandomBatches(keras.callbacks.Callback):
    """The training batches: pass ``.data`` to ``fit`` and the object itself as a callback.

    Each Keras epoch (one validation period) has ``steps`` batches. At the start of epoch e
    (also the first epoch after a resume), the callback draws epoch e's
    rows with :func:`batch_rows`. On the TensorFlow backend the batches are then gathered
    by a ``tf.data`` pipeline reading those rows from a variable, so no Python runs per
    batch (this is what makes it as fast as ``fit`` on arrays); other backends get the
    same batches from a ``PyDataset``. Keras makes a new iterator over the finite
    ``.data`` at each epoch, after ``on_epoch_begin``, so nothing is drawn ahead.
    """

    def __init__(self, src, tgt, batch_size: int, steps: int, seed: int):
        super().__init__()
        self.src, self.tgt, self.dec = src, tgt, decoder_inputs(tgt)
        self.batch_size, self.steps, self.seed = batch_size, steps, seed
        self.rows = self.epoch_rows(0)
        self._table = None  # the rows as a tf.Variable, on the TensorFlow backend
        self.data = self._tf_dataset() if keras.backend.backend() == "tensorflow" else _PyBatches(self)

    def epoch_rows(self, epoch: int) -> np.ndarray:
        """(steps, batch_size) training rows of each batch of ``epoch``."""
        return np.stack(
            [batch_rows(self.seed, epoch, i, len(self.src), self.batch_size) for i in range(self.steps)]
        ).astype(np.int32)

    def batch(self, i: int):
        """Batch ``i`` of the current epoch as arrays: ((source, decoder input), target)."""
        rows = self.rows[i]
        return (self.src[rows], self.dec[rows]), self.tgt[rows]

    def on_epoch_begin(self, epoch, logs=None):
        self.rows = self.epoch_rows(epoch)
        if self._table is not None:
            self._table.assign(self.rows)

    def _tf_dataset(self):
        import tensorflow as tf

        self._table = tf.Variable(self.rows, trainable=False, name="batch_rows")
        src, dec, tgt = (tf.constant(a) for a in (self.src, self.dec, self.tgt))

        def gather(i):
            rows = self._table[i]
            return (tf.gather(src, rows), tf.gather(dec, rows)), tf.gather(tgt, rows)

        return tf.data.Dataset.range(self.steps).map(gather).prefetch(tf.data.AUTOTUNE)


class _PyBatches(keras.utils.PyDataset):
    """The backend-neutral view of :class:`RandomBatches`."""

    def __init__(self, batches: RandomBatches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return self.batches.steps

    def __getitem__(self, i):
        return self.batches.batch(i)


def plateaued(losses, patience: int, min_delta: float) -> bool:
    """Whether a validation-loss curve has plateaued: none of its last ``patience`` values
    went below ``(1 - min_delta)`` times the best value before them, i.e.
    ``min(losses[-patience:]) >= (1 - min_delta) * min(losses[:-patience])``."""
    losses = [float(x) for x in losses]
    if len(losses) <= patience:
        return False
    return min(losses[-patience:]) >= (1.0 - min_delta) * min(losses[:-patience])


class Validation(keras.callbacks.Callback):
    """At the end of each validation period: record validation loss and accuracy in the
    logs (for CSVLogger), and stop at the accuracy target or on a plateau of the
    validation loss. ``history`` holds the losses of the periods already logged (a resumed
    run passes those of its log), so the plateau is judged on the whole run."""

    def __init__(self, src, tgt, train_cfg: dict, history=()):
        super().__init__()
        self.src, self.tgt, self.train_cfg = src, tgt, train_cfg
        self.losses = list(history)
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        acc = teacher_forced_accuracy(self.model, self.src, self.tgt)
        logs["step"] = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        logs["val_token_acc"], logs["val_seq_acc"], logs["val_loss"] = acc["token_acc"], acc["seq_acc"], acc["loss"]
        self.losses.append(acc["loss"])
        log.info(
            "step %d  loss %.4f  val loss %.4f  val token %.4f  val seq %.4f  (%.0f s)",
            logs["step"],
            logs.get("loss", float("nan")),
            acc["loss"],
            acc["token_acc"],
            acc["seq_acc"],
            time.perf_counter() - self.start,
        )
        # The same rule the metrics report afterwards (stop_reason), so the two never disagree.
        reason = stop_reason([acc["seq_acc"]], self.losses, self.train_cfg)
        if reason != "budget":
            log.info(
                "stopping: %s",
                "reached the target sequence accuracy" if reason == "target" else "the validation loss has plateaued",
            )
            self.model.stop_training = True


def compile_for_training(model, train_cfg: dict, execution: dict) -> None:
    """Adam with gradient-norm clipping; cross-entropy that ignores padding. ``execution``
    (steps per compiled call, XLA) changes the speed, never the weights."""
    model.compile(
        # Named, so that a model built twice in one process (after a discarded checkpoint)
        # saves the same bytes as one built once.
        optimizer=keras.optimizers.Adam(train_cfg["learning_rate"], clipnorm=train_cfg["clipnorm"], name="adam"),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD),
        # Keras's JAX backend runs op by op unless jitted (a recurrent smoke model then takes
        # 15 minutes instead of seconds), so there XLA is always on; the setting is TensorFlow's.
        jit_compile=execution["jit_compile"] or keras.backend.backend() == "jax",
        steps_per_execution=execution["steps_per_execution"],
    )


def model_for(arch: str, arrays: dict, vocab: dict, model_cfg: dict) -> EncoderDecoder:
    """The model for a loaded dataset: vocabulary sizes from its record, padded lengths
    from its training arrays. Settings the architecture never reads may be left out of
    ``model_cfg`` (the workflow's jobs get only what they read): they take the schema's
    defaults, which the model ignores."""
    return build_model(
        arch,
        len(vocab["src_vocab"]),
        len(vocab["tgt_vocab"]),
        arrays["train_src"].shape[1],
        arrays["train_tgt"].shape[1],
        {**written_block_defaults("model"), **model_cfg},
    )


def train(
    arch: str,
    arrays: dict,
    vocab: dict,
    model_cfg: dict,
    train_cfg: dict,
    execution: dict,
    seed: int,
    *,
    model_path: Path,
    log_path: Path,
    metrics_path: Path,
    checkpoint_dir: Path,
    fingerprint: str,
    identity: dict | None = None,
    timing_path: Path | None = None,
    extra_callbacks: list | None = None,
    restore: bool = True,
) -> dict:
    """Train one model on a loaded dataset (``arrays``, ``vocab``) and write its .keras
    file, CSV log and metrics JSON (and, if asked, how the job ran: ``timing_path``).

    A killed job resumes from ``checkpoint_dir`` (attend.checkpoint) when the checkpoint
    there was made from the same ``fingerprint`` (settings, inputs and code), and ends
    exactly where an uninterrupted run ends: the same weights, log and metrics. A finished
    job keeps its model, log and metrics in ``checkpoint_dir/finished`` (attend.finished),
    and a job of the same fingerprint restores them from there instead of training. ``identity``
    (task, seed, dataset checksum...) is saved with the model and in its metrics. A caller that
    has just tried the kept copy itself (the workflow's script, before importing Keras) passes
    ``restore=False``.
    A dataset with test references (translation) is also scored with BLEU and chrF
    (:func:`text_scores`)."""
    start = time.perf_counter()
    every = train_cfg["eval_every"]

    # What the model records of itself; a kept copy is restored only if it records the same.
    model_identity = {**(identity or {}), "arch": arch, "seed": seed, "fingerprint": fingerprint}

    def fresh_model():
        keras.utils.set_random_seed(seed)  # the same initial weights however often it is built
        model = model_for(arch, arrays, vocab, model_cfg)
        model.identity = dict(model_identity)
        compile_for_training(model, train_cfg, execution)
        model.build()
        return model

    outputs = {"model.keras": model_path, "train_log.csv": log_path, "metrics.json": metrics_path}
    batches = RandomBatches(arrays["train_src"], arrays["train_tgt"], train_cfg["batch_size"], every, seed)
    n_val = min(train_cfg["n_eval"], len(arrays["valid_src"]))
    # The log so far lives in the checkpoint folder, not at log_path: Snakemake deletes a
    # killed job's outputs, and a resumed run must keep the whole history.
    checkpoint = TrainingCheckpoint(checkpoint_dir, fingerprint)
    partial_log = Path(checkpoint_dir) / "train_log.csv"
    with checkpoint.held():
        # A model already trained from this fingerprint (kept when its job finished) is
        # restored, not trained again: Snakemake deleted the outputs, not the model.
        if restore and finished.restore(checkpoint_dir, fingerprint, outputs, timing_path, model_identity):
            return json.loads(Path(metrics_path).read_text())
        model = fresh_model()
        state = checkpoint.restore(model)
        if state is None:  # nothing to resume: start from untouched initial weights
            if checkpoint.discarded:
                model = fresh_model()
            partial_log.unlink(missing_ok=True)
        done = state["epoch"] if state else 0
        keep_log_rows(partial_log, done)
        validation = Validation(
            arrays["valid_src"][:n_val],
            arrays["valid_tgt"][:n_val],
            train_cfg,
            history=logged_column(partial_log, "val_loss"),
        )
        callbacks = [
            batches,  # draws each epoch's rows as it begins
            validation,  # must precede CSVLogger so its numbers reach the log
            keras.callbacks.CSVLogger(str(partial_log), append=done > 0),
            # Last, so that a checkpoint is never ahead of the log; a row logged for a
            # period whose checkpoint a kill prevented is dropped on resuming (keep_log_rows).
            checkpoint,
            *(extra_callbacks or []),
        ]
        if not (state and state["stopped"]):  # a run that stopped early stays stopped
            # shuffle=False: the batch order is already random, and must not depend on
            # Python's global random state, which a resumed process does not share.
            model.fit(
                batches.data,
                initial_epoch=done,
                epochs=math.ceil(train_cfg["max_steps"] / every),
                callbacks=callbacks,
                shuffle=False,
                verbose=0,
            )

        test_predictions = greedy_decode(model, arrays["test_src"], arrays["test_tgt"].shape[1])
        test = accuracy(test_predictions, arrays["test_tgt"])
        forced = teacher_forced_accuracy(model, arrays["test_src"], arrays["test_tgt"])
        shutil.copyfile(partial_log, log_path)
        history = np.genfromtxt(log_path, delimiter=",", names=True)
        steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        # Only what the weights decide: a resumed run writes the same bytes as a straight one.
        metrics = {
            **model.identity,
            "test_token_acc": test["token_acc"],
            "test_seq_acc": test["seq_acc"],
            "test_teacher_forced_token_acc": forced["token_acc"],
            **text_scores(test_predictions, arrays, vocab),
            "steps": steps,
            "reached_target": bool(np.atleast_1d(history["val_seq_acc"])[-1] >= train_cfg["target_accuracy"]),
            "stop_reason": stop_reason(
                np.atleast_1d(history["val_seq_acc"]), np.atleast_1d(history["val_loss"]), train_cfg
            ),
            "hit_step_cap": steps >= train_cfg["max_steps"],
            "n_params": int(model.count_params()),
            "backend": keras.backend.backend(),
            # the log written with these metrics: a table that reads it checks it is this one
            "train_log_sha256": file_digest(log_path),
        }
        save_model(model, model_path)
        # the model saved with these metrics: a kept copy and the probe job check it is this one
        metrics["model_sha256"] = file_digest(model_path)
        write_text(metrics_path, json.dumps(metrics, indent=1) + "\n")
        if timing_path is not None:
            write_text(
                timing_path,
                json.dumps(
                    {"wall_s": round(time.perf_counter() - start, 3), "resumed_after_periods": done, "restored": False},
                    indent=1,
                )
                + "\n",
            )
        # Keep the finished model where Snakemake never deletes it, then drop the
        # resumable state (a kill in between resumes or restores: the same bytes either way).
        finished.keep(checkpoint_dir, fingerprint, outputs)
        checkpoint.clear()
    log.info(
        "test greedy token acc %.4f, sequence acc %.4f after %d steps",
        metrics["test_token_acc"],
        metrics["test_seq_acc"],
        metrics["steps"],
    )
    warn_if_below_chance(metrics["test_token_acc"], arrays["train_tgt"], vocab["tgt_vocab"], train_cfg)
    return metrics


def warn_if_below_chance(token_acc: float, train_tgt: np.ndarray, tgt_vocab: list[str], train_cfg: dict) -> bool:
    """Warn (and return True) when a model's greedy test token accuracy is at or below chance:
    no better than always writing the training split's most frequent target token. A model that diverged (a
    learning rate too large) ends there, and its measurements describe no trained network."""
    tokens = train_tgt[train_tgt != PAD]
    counts = np.bincount(tokens, minlength=len(tgt_vocab))
    chance = counts.max() / max(len(tokens), 1)
    if token_acc > chance:
        return False
    log.warning(
        "BELOW CHANCE: test token accuracy %.4f is at or below the %.4f of always writing %r, the most frequent "
        "target token: training diverged or did not learn (learning_rate %s, clipnorm %s). Lower "
        "train.learning_rate or raise train.max_steps; docs/troubleshooting.md, 'A model below chance'",
        token_acc,
        chance,
        tgt_vocab[int(counts.argmax())],
        train_cfg.get("learning_rate"),
        train_cfg.get("clipnorm"),
    )
    return True


def stop_reason(val_seq_acc, val_loss, train_cfg: dict) -> str:
    """Why a run stopped, from its validation history: "target", "plateau" or "budget"
    (the step cap). A function of the log alone, so a resumed run reports the same."""
    if val_seq_acc[-1] >= train_cfg["target_accuracy"]:
        return "target"
    patience = train_cfg["plateau_patience"]
    if patience and plateaued(val_loss, patience, train_cfg["plateau_min_delta"]):
        return "plateau"
    return "budget"
