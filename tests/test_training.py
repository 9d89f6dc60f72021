"""The training batches are a function of (seed, epoch, batch index) alone, on the
tf.data path and on the backend-neutral PyDataset path, from the first epoch and from the
epoch a resumed run starts at."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from attend import checkpoint, training  # noqa: E402
from attend.tokens import decoder_inputs  # noqa: E402

N_ROWS, LENGTH, BATCH, STEPS, SEED = 50, 4, 3, 4, 7


class Recorder(keras.Model):
    """A model whose training step only records the batch it was given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def call(self, inputs):
        return keras.ops.one_hot(inputs[1], 10)

    def train_step(self, data):
        (src, dec), tgt = data
        self.seen.append([keras.ops.convert_to_numpy(x) for x in (src, dec, tgt)])
        return {"rows": keras.ops.shape(tgt)[0]}


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    src = rng.integers(3, 10, (N_ROWS, LENGTH)).astype(np.int32)
    tgt = rng.integers(3, 10, (N_ROWS, LENGTH)).astype(np.int32)
    return src, tgt


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="records batches in a TensorFlow train_step")
@pytest.mark.parametrize("path", ["default", "pydataset"])
@pytest.mark.parametrize("initial_epoch", [0, 2])
def test_batches_are_a_function_of_seed_epoch_and_index(arrays, path, initial_epoch):
    src, tgt = arrays
    batches = training.RandomBatches(src, tgt, BATCH, STEPS, SEED)
    data = batches.data if path == "default" else training._PyBatches(batches)
    model = Recorder()
    model.compile(run_eagerly=True)
    epochs = 3
    model.fit(data, epochs=epochs, initial_epoch=initial_epoch, callbacks=[batches], shuffle=False, verbose=0)

    expected = [(e, i) for e in range(initial_epoch, epochs) for i in range(STEPS)]
    assert len(model.seen) == len(expected)
    dec = decoder_inputs(tgt)
    for (epoch, i), (got_src, got_dec, got_tgt) in zip(expected, model.seen):
        rows = training.batch_rows(SEED, epoch, i, N_ROWS, BATCH)
        np.testing.assert_array_equal(got_src, src[rows], err_msg=f"epoch {epoch} batch {i}")
        np.testing.assert_array_equal(got_dec, dec[rows])
        np.testing.assert_array_equal(got_tgt, tgt[rows])


def test_pydataset_serves_the_epoch_it_was_told(arrays):
    src, tgt = arrays
    batches = training.RandomBatches(src, tgt, BATCH, STEPS, SEED)
    view = training._PyBatches(batches)
    assert len(view) == STEPS
    for epoch in (0, 3):
        batches.on_epoch_begin(epoch)
        for i in range(STEPS):
            (got_src, _), got_tgt = view[i]
            rows = training.batch_rows(SEED, epoch, i, N_ROWS, BATCH)
            np.testing.assert_array_equal(got_src, src[rows])
            np.testing.assert_array_equal(got_tgt, tgt[rows])


def test_batch_rows_differ_by_seed_epoch_and_index():
    base = training.batch_rows(0, 0, 0, 1000, 16)
    np.testing.assert_array_equal(base, training.batch_rows(0, 0, 0, 1000, 16))
    for other in ((1, 0, 0), (0, 1, 0), (0, 0, 1)):
        assert not np.array_equal(base, training.batch_rows(*other, 1000, 16)), other
    assert base.min() >= 0 and base.max() < 1000


def test_resuming_drops_log_rows_beyond_the_checkpoint(tmp_path):
    # A kill between CSVLogger's row and BackupAndRestore's checkpoint leaves the log one
    # validation period ahead; the resumed run redoes that period and must not log it twice.
    path = tmp_path / "train_log.csv"
    path.write_text("epoch,loss,step\n0,2.0,10\n1,1.5,20\n2,1.0,30\n")
    checkpoint.keep_log_rows(path, 2)
    assert path.read_text() == "epoch,loss,step\n0,2.0,10\n1,1.5,20\n"
    checkpoint.keep_log_rows(tmp_path / "absent.csv", 2)  # no log yet: nothing to do
    assert not (tmp_path / "absent.csv").exists()


# ---------------------------------------------------------------------------- stopping


@pytest.mark.parametrize(
    "losses, patience, min_delta, expected",
    [
        ([3.0, 2.0, 1.0, 0.5], 2, 0.01, False),  # still falling fast
        ([3.0, 2.0, 1.0, 1.0, 1.0], 2, 0.01, True),  # flat for two checks
        ([3.0, 2.0, 1.0, 0.995, 0.992], 2, 0.01, True),  # falling by less than 1% of the best
        ([3.0, 2.0, 1.0, 0.995, 0.985], 2, 0.01, False),  # 1.5% below the best: progress
        ([3.0, 1.0, 1.2, 1.1, 1.05], 3, 0.01, True),  # noisy, never back below the best
        ([3.0, 1.0, 1.2, 1.1, 0.9], 3, 0.01, False),  # ...until it is
        ([1.0, 1.0], 2, 0.01, False),  # too short to judge
        ([2.0, 1.0, 1.0], 1, 0.0, True),  # min_delta 0: any improvement counts
    ],
)
def test_plateau_on_constructed_validation_curves(losses, patience, min_delta, expected):
    assert training.plateaued(losses, patience, min_delta) is expected


def test_stop_reason_reads_the_log():
    cfg = {"target_accuracy": 0.99, "plateau_patience": 2, "plateau_min_delta": 0.01}
    assert training.stop_reason([0.5, 0.995], [2.0, 1.0], cfg) == "target"
    assert training.stop_reason([0.5, 0.6, 0.6], [2.0, 1.0, 1.0, 1.0][:3], {**cfg, "plateau_patience": 1}) == "plateau"
    assert training.stop_reason([0.5, 0.6, 0.7], [2.0, 1.5, 1.0], cfg) == "budget"
    assert training.stop_reason([0.5, 0.6, 0.6], [2.0, 1.0, 1.0], {**cfg, "plateau_patience": None}) == "budget"


@pytest.mark.slow
def test_a_model_that_stops_learning_stops_on_the_plateau(tmp_path):
    from attend.config import defaults
    from attend.tasks import build_dataset

    cfg = {"sizes": {"train": 64, "valid": 16, "test": 16}, "one_to_one": {"vocab_size": 5, "min_len": 3, "max_len": 5}}
    arrays, vocab = build_dataset("one_to_one", cfg, 0)
    # A learning rate too small to move the loss: it is flat from the first validation.
    train_cfg = {
        **defaults("train"),
        "batch_size": 8,
        "learning_rate": 1e-12,
        "eval_every": 5,
        "n_eval": 16,
        "max_steps": 100,
        "plateau_patience": 3,
        "plateau_min_delta": 0.01,
    }
    metrics = training.train(
        "ved",
        arrays,
        vocab,
        {**defaults("model"), "units": 4},
        train_cfg,
        {**defaults("execution"), "steps_per_execution": 5},
        0,
        model_path=tmp_path / "m.keras",
        log_path=tmp_path / "log.csv",
        metrics_path=tmp_path / "metrics.json",
        checkpoint_dir=tmp_path / "ckpt",
        fingerprint="x",
    )
    assert metrics["stop_reason"] == "plateau" and not metrics["hit_step_cap"]
    assert metrics["steps"] == (3 + 1) * 5  # the first validation, then three without progress
    log = np.genfromtxt(tmp_path / "log.csv", delimiter=",", names=True)
    assert len(log) == 4 and "val_loss" in log.dtype.names


def test_a_model_no_better_than_chance_is_warned_about(caplog):
    """Chance is always writing the training split's most frequent target token (here 'a': 3
    of the 5 valid tokens); a diverged model's accuracy at or below it gets a warning that
    names the learning rate, a better one none."""
    train_tgt = np.array([[3, 3, 1, 0], [3, 4, 0, 0]])  # pad 0; tokens 3, 3, 1, 3, 4
    vocab = ["<pad>", "</s>", "<s>", "a", "b"]
    cfg = {"learning_rate": 0.3, "clipnorm": 1.0}
    with caplog.at_level("WARNING", logger="attend.training"):
        assert training.warn_if_below_chance(0.55, train_tgt, vocab, cfg)
        assert training.warn_if_below_chance(0.6, train_tgt, vocab, cfg)
    assert "at or below the 0.6000 of always writing 'a'" in caplog.text and "learning_rate 0.3" in caplog.text
    assert not training.warn_if_below_chance(0.61, train_tgt, vocab, cfg)
