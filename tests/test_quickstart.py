"""examples/quickstart.ipynb runs from top to bottom, and is committed without outputs."""

from pathlib import Path

import nbclient
import nbformat

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    last = nb.cells[-1].outputs
    assert any("image/png" in o.get("data", {}) for o in last)
    assert "alpha_c_sim" in "".join(o.get("text", "") for o in last)
    assert (tmp_path / "quickstart" / "fig2.png").is_file()
    assert (tmp_path / "quickstart" / "results.sqlite").is_file()
