"""docs/analyse.md's example runs: every ```python block of the page, in order, in one
namespace, in a scratch folder."""

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_documented_example_runs(tmp_path, monkeypatch):
    page = (REPO / "docs" / "analyse.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(blocks) >= 2, "the page's runnable example is gone"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/analyse.md", "exec"), namespace)
    assert (tmp_path / "my-model.npz").is_file()
    written = set(os.listdir(tmp_path / "my-model-analysis"))
    assert {"term_shares.csv", "approximation.csv", "summary.md"} <= written
    assert "dictionary" in namespace["result"]["skipped"]
