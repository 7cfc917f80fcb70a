"""The README claims only what a test proves: CONTRIBUTING.md's claims table, kept honest.

Each row of the table quotes the README and names the tests proving it. A quote the
README no longer holds, a named test that does not exist, or a grading flag or report
file the README names without a row, each fail here. Plus the one claim that is the
README's own text: the diagnosis it shows is what `check_dense` prints.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CELL = re.compile(r"(?<!\\)\|")


def _normal(text: str) -> str:
    return " ".join(text.split())


def claims() -> list[tuple[str, list[str]]]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    block = text.split("<!-- claims:start -->", 1)[1].split("<!-- claims:end -->", 1)[0]
    rows = []
    for line in block.strip().splitlines()[2:]:  # the header and its rule
        cells = [c.strip() for c in CELL.split(line.strip())[1:-1]]
        assert len(cells) == 2, f"CONTRIBUTING.md claims row is not | quote | tests |: {line}"
        quote = re.fullmatch(r'"(.+)"', cells[0])
        assert quote, f"the README's words go in double quotes: {cells[0]}"
        tests = re.findall(r"`(tests/[\w/]+\.py::\w+)`", cells[1])
        assert tests, f"no test named for {cells[0]}"
        rows.append((quote[1].replace("\\|", "|"), tests))
    return rows


def test_the_table_has_rows():
    assert len(claims()) >= 20


def test_every_quoted_claim_is_in_the_readme():
    readme = _normal((ROOT / "README.md").read_text())
    gone = [quote for quote, _ in claims() if _normal(quote) not in readme]
    assert not gone, ("CONTRIBUTING.md quotes README words that are no longer there; "
                      f"update the claims table with the README: {gone}")


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_named_test_exists():
    missing = []
    for quote, tests in claims():
        for ref in tests:
            file, _, name = ref.partition("::")
            path = ROOT / file
            if not path.is_file() or name not in _defined_tests(path):
                missing.append(f"{ref} (for {quote[:50]!r})")
    assert not missing, f"the claims table names tests that do not exist: {missing}"


def test_every_flag_and_report_file_the_readme_names_has_a_claim():
    spans = set(re.findall(r"`([^`\n]+)`", (ROOT / "README.md").read_text()))
    promised = {s.split()[0] for s in spans
                if re.match(r"--[a-z][a-z-]*( |$)", s) or re.fullmatch(r"[a-z_]+\.(csv|md|png)", s)}
    quoted = " ".join(quote for quote, _ in claims())
    orphans = sorted(p for p in promised if p not in quoted)
    assert promised and not orphans, (f"the README names {orphans} but no row of CONTRIBUTING.md's "
                                      "claims table quotes it: add the claim and its test")


def test_the_readmes_diagnosis_is_what_check_dense_prints():
    """The README's example: a Dense keeping one bias gradient per sample (bug B1, the
    same injection the notebook tests put into notebook 03)."""
    import numpy as np
    from test_notebooks import BUGS

    from nnlab.checks import CheckFailed, check_dense

    readme = (ROOT / "README.md").read_text()
    shown = re.search(r"```\n(check_dense found bug B1.*?)```", readme, re.S)
    assert shown, "the README no longer shows check_dense's diagnosis"
    bug = next(b for b in BUGS["03_hidden_layer"] if b.answer == "dense" and b.bug == "B1")
    space = {"np": np}
    exec(textwrap.dedent(bug.source), space)  # noqa: S102 (the tests' own injection)
    with pytest.raises(CheckFailed) as failed:
        check_dense(space["Dense"], part="backward")
    assert failed.value.bug == "B1"
    assert _normal(str(failed.value)) == _normal(shown[1]), str(failed.value)


def test_the_ladder_lists_every_notebook_of_the_manifest():
    """README's ladder table: one row per notebook of notebooks/manifest.json, in order,
    its number the notebook's prefix."""
    import json

    manifest = list(json.loads((ROOT / "notebooks" / "manifest.json").read_text())["notebooks"])
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## The ladder\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d\d) \| `(\w+)` \|", section, re.M)
    assert [name for _, name in rows] == manifest, (rows, manifest)
    assert all(name.startswith(number + "_") for number, name in rows), rows
