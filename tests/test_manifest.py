"""autograder.manifest: the manifest's format, its agreement with the notebooks, the rubric."""

import copy
import json

import nbformat
import pytest

from autograder import manifest as mf


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "solution": solution, "locked": locked, "task": False,
            "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _notebook(path, *, answer_src=None, test_src=None, points=2):
    """A tiny source notebook: an answer cell, a test cell with hidden tests, a manual cell."""
    answer_src = answer_src or (
        "%load_ext autoreload\n"
        "def sigmoid(z):\n"
        "    \"\"\"doc\"\"\"\n"
        "    ### BEGIN SOLUTION\n"
        "    return z\n"
        "    ### END SOLUTION\n")
    test_src = test_src or (
        "# sigmoid gives the right values\n"
        "check_sigmoid(sigmoid)\n"
        "### BEGIN HIDDEN TESTS\n"
        "check_sigmoid(sigmoid, hidden=True)\n"
        "### END HIDDEN TESTS\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(answer_src, metadata=_meta("sigmoid", solution=True)),
        nbformat.v4.new_code_cell(test_src, metadata=_meta("test_sigmoid", grade=True,
                                                           locked=True, points=points)),
        nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nbecause\n### END SOLUTION",
                                      metadata=_meta("why", solution=True, grade=True,
                                                     points=1)),
    ]
    nbformat.write(nb, str(path))


GOOD = {"version": 1, "notebooks": {"00_demo": {"title": "Demo", "cells": [
    {"grade_id": "sigmoid", "kind": "answer", "defines": ["sigmoid"]},
    {"grade_id": "test_sigmoid", "kind": "test", "points": 2, "checks": ["check_sigmoid"],
     "hidden": True},
    {"grade_id": "why", "kind": "manual", "points": 1},
]}}}


def test_good_manifest_has_no_format_problems():
    assert mf.format_problems(GOOD) == []


@pytest.mark.parametrize("edit, words", [
    (lambda m: m.update(version=2), '"version": 1'),
    (lambda m: m["notebooks"]["00_demo"]["cells"][0].update(kind="code"), "kind 'code'"),
    (lambda m: m["notebooks"]["00_demo"]["cells"][1].pop("hidden"), "missing ['hidden']"),
    (lambda m: m["notebooks"]["00_demo"]["cells"][1].update(points=0), "points must be"),
    (lambda m: m["notebooks"]["00_demo"]["cells"][0].update(defines=[]), "defines must be"),
    (lambda m: m["notebooks"]["00_demo"]["cells"].append(
        {"grade_id": "why", "kind": "manual", "points": 1}), "listed twice"),
    (lambda m: m["notebooks"]["00_demo"].pop("title"), '"title"'),
])
def test_format_problems_name_what_is_wrong(edit, words):
    data = copy.deepcopy(GOOD)
    edit(data)
    problems = mf.format_problems(data)
    assert any(words in p for p in problems), problems


def test_load_rejects_bad_json_with_the_path(tmp_path):
    bad = tmp_path / "manifest.json"
    bad.write_text("{not json")
    with pytest.raises(mf.ManifestError, match="not valid JSON"):
        mf.load(bad)
    with pytest.raises(mf.ManifestError, match="no manifest"):
        mf.load(tmp_path / "absent.json")


def test_defined_names_and_called_checks_ignore_magics():
    src = ("%autoreload 2\n!ls\nimport numpy as np\nx, (y, z) = 1, (2, 3)\n"
           "class Dense:\n    pass\ndef f():\n    inner = check_inner(1)\n")
    assert mf.defined_names(src) == ["x", "y", "z", "Dense", "f"]
    assert mf.called_checks("check_dense(Dense, part='forward')\nnnlab.checks.check_relu(R)\n"
                            "check_dense(Dense, hidden=True)\n") == ["check_dense",
                                                                      "check_relu"]


def test_scan_notebook_describes_each_graded_cell(tmp_path):
    _notebook(tmp_path / "00_demo.ipynb")
    assert mf.scan_notebook(tmp_path / "00_demo.ipynb") == GOOD["notebooks"]["00_demo"]["cells"]


def test_agreement_with_a_matching_notebook(tmp_path):
    _notebook(tmp_path / "00_demo.ipynb")
    assert mf.agreement_problems(GOOD, tmp_path, known_checks={"check_sigmoid"}) == []


def test_agreement_reports_each_kind_of_drift(tmp_path):
    _notebook(tmp_path / "00_demo.ipynb", points=3,
              test_src="# values\ncheck_sigmoid_derivative(sigmoid)\n")
    _notebook(tmp_path / "01_extra.ipynb")
    listed = copy.deepcopy(GOOD)
    listed["notebooks"]["02_gone"] = {"title": "Gone", "cells": []}
    problems = "\n".join(mf.agreement_problems(listed, tmp_path,
                                               known_checks={"check_sigmoid"}))
    assert "02_gone: notebooks/02_gone.ipynb does not exist" in problems
    assert "01_extra: notebook has no entry" in problems
    assert "points=2, the notebook has 3" in problems
    assert "hidden=True, the notebook has False" in problems
    assert "checks=['check_sigmoid'], the notebook has ['check_sigmoid_derivative']" in problems


def test_agreement_reports_unknown_checks_and_reordered_cells(tmp_path):
    _notebook(tmp_path / "00_demo.ipynb")
    listed = copy.deepcopy(GOOD)
    cells = listed["notebooks"]["00_demo"]["cells"]
    cells[0], cells[2] = cells[2], cells[0]
    problems = "\n".join(mf.agreement_problems(listed, tmp_path, known_checks=set()))
    assert "same ids, same order" in problems
    assert "calls ['check_sigmoid'], which nnlab.checks does not define" in problems


def test_rubric_lists_graded_cells_with_subtotals_and_total():
    data = copy.deepcopy(GOOD)
    data["notebooks"]["01_next"] = {"title": "Next", "cells": [
        {"grade_id": "t", "kind": "test", "points": 4, "checks": ["check_x"], "hidden": False}]}
    table = mf.rubric(data)
    lines = table.splitlines()
    assert lines[0].startswith("| notebook | graded cell")
    assert "| 00_demo | `test_sigmoid` | test | 2 | `check_sigmoid` + hidden tests |" in lines
    assert "| 00_demo | `why` | manual | 1 | instructor (written answer) |" in lines
    assert "| **00_demo** | Demo | | **3** | |" in lines
    assert "| **01_next** | Next | | **4** | |" in lines
    assert lines[-1] == "| **course** | | | **7** | |"
    assert "`sigmoid`" not in table  # answer cells carry no points


def test_cli_check_fails_loudly_on_drift(tmp_path, capsys):
    _notebook(tmp_path / "00_demo.ipynb", points=5)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(GOOD))
    assert mf.main(["check", "--manifest", str(path)]) == 1
    err = capsys.readouterr().err
    assert "manifest check FAILED" in err
    assert "00_demo/test_sigmoid: manifest says points=2, the notebook has 5" in err


def test_cli_rubric_and_bad_manifest(tmp_path, capsys):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(GOOD))
    assert mf.main(["rubric", "--manifest", str(path)]) == 0
    assert "| **course** | | | **3** | |" in capsys.readouterr().out
    path.write_text(json.dumps({"version": 1}))
    assert mf.main(["rubric", "--manifest", str(path)]) == 1
    assert "not a valid manifest" in capsys.readouterr().err


def test_the_course_manifest_agrees_with_the_notebooks():
    manifest = mf.load()
    problems = mf.agreement_problems(manifest, known_checks=mf.registered_checks())
    assert problems == [], "\n".join(problems)


def test_rubric_write_replaces_only_the_marked_block(tmp_path, capsys):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(GOOD))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{mf.RUBRIC_START}\nold table\n{mf.RUBRIC_END}\noutro\n")
    assert mf.main(["rubric", "--manifest", str(path), "--write", str(readme)]) == 0
    text = readme.read_text()
    assert "old table" not in text
    assert text.startswith(f"intro\n{mf.RUBRIC_START}\n| notebook |")
    assert text.endswith(f"| **course** | | | **3** | |\n{mf.RUBRIC_END}\noutro\n")
    readme.write_text("no markers here\n")
    assert mf.main(["rubric", "--manifest", str(path), "--write", str(readme)]) == 1
    assert "rubric:start" in capsys.readouterr().err


def test_the_readme_rubric_is_generated_from_the_manifest(repo_root):
    readme = (repo_root / "README.md").read_text()
    current = mf.with_rubric(readme, mf.rubric(mf.load()))
    assert readme == current, ("README's rubric is stale: run "
                               "`.venv/bin/python -m autograder.manifest rubric --write README.md`")
