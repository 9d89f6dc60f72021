"""The file layer's writes cannot be redirected: temporary files have random names, are
created exclusively and written through their descriptor, and the rename into place
replaces a link, never what it points to."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from attend import artifacts


@pytest.fixture
def victim(tmp_path):
    """A file only its owner may write, somewhere else."""
    path = tmp_path / "elsewhere" / "private.txt"
    path.parent.mkdir()
    path.write_text("mine\n")
    path.chmod(0o600)
    return path


WRITERS = {
    "write_text": lambda path: artifacts.write_text(path, "summary\n"),
    "write_bytes": lambda path: artifacts.write_bytes(path, b"bytes"),
    "save_npz": lambda path: artifacts.save_npz(path, {"a": np.arange(3)}),
    "write_table": lambda path: artifacts.write_table(path, pd.DataFrame({"a": [1, 2]})),
    "atomic_write_path": lambda path: artifacts.atomic_write_path(path, lambda tmp: tmp.write_text("x")),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_planted_links_never_redirect_a_write(tmp_path, victim, writer):
    """Links planted under every name the old writer used (`.NAME.tmp<pid>`, which made a run
    overwrite another user's file) and under the output's own name: the victim's file is
    untouched and the output is a plain file of its own."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / "summary.md"
    for name in (f".{target.name}.tmp{os.getpid()}", f".{target.stem}.raw{os.getpid()}.keras", target.name):
        (out / name).symlink_to(victim)
    WRITERS[writer](target)
    assert victim.read_text() == "mine\n"
    assert stat.S_ISREG(os.lstat(target).st_mode)
    assert sorted(p.name for p in out.iterdir() if not p.is_symlink()) == ["summary.md"]  # no temporary left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "t.txt"
    artifacts.write_text(target, "old\n")

    def fail(fh):
        fh.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        artifacts.atomic_write(target, fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_written_files_get_the_mode_of_a_plain_open(tmp_path):
    """Temporary files are created 0600; the file in place is as readable as open() makes it."""
    umask = os.umask(0o022)
    os.umask(umask)
    artifacts.write_text(tmp_path / "t.txt", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "t.txt").st_mode) == 0o666 & ~umask
