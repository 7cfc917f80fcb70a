"""The checks' selftest: the CLI's table agrees with the zoo, the zoo is thick enough for
every check, and a planted missed or misnamed mutant makes the CLI fail naming it."""

import inspect
import os
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from nnlab.checks import CATALOGUE, REGISTRY, CheckFailed
from nnlab.checks.__main__ import coverage_gaps, main, report, run_one, run_zoo
from nnlab.checks.zoo import Specimen, load

ZOO = list(load())

#: Catalogued bugs no graded function or class can show: B11 is about how a notebook
#: measures training accuracy (a Dropout layer left in training mode), and neither Dropout
#: nor an accuracy function is a graded name in COURSE.md.
UNPROBEABLE = {"B11"}


def _cli(*args, timeout=300):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "nnlab.checks", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _rows(text: str, first: str) -> dict[str, list[str]]:
    """Rows of the printed table whose header starts with `first`, keyed by first cell."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first + " "))
    rows = {}
    for line in lines[start + 2:]:
        if " | " not in line:
            break
        cells = [c.strip() for c in line.split("|")]
        rows[cells[0]] = cells[1:]
    return rows


# --------------------------------------------------------------------------- the CLI


@pytest.mark.slow  # the whole zoo, twice: ~10 s on an idle core
def test_selftest_cli_exits_0_and_its_tables_match_the_zoo():
    full_run = _cli("--selftest")
    assert full_run.returncode == 0, full_run.stdout[-3000:] + full_run.stderr[-2000:]
    assert "OK: every mutant named right" in full_run.stdout
    assert "FAILED" not in full_run.stdout

    rows = _rows(full_run.stdout, "bug class")
    assert list(rows) == [*CATALOGUE, "None"]
    labels = Counter(s.bug for s in ZOO if not s.correct)
    for bug, (mutants, caught, named) in rows.items():
        expected = labels[None if bug == "None" else bug]
        assert (int(mutants), int(caught), int(named)) == (expected,) * 3, bug

    rows = _rows(full_run.stdout, "check")
    assert list(rows) == list(REGISTRY)
    for name, (rung, specimens, mutants, caught, named, alarms, passed, cpu,
               _wall) in rows.items():
        mine = [s for s in ZOO if s.check == name]
        n_mut = sum(not s.correct for s in mine)
        n_ok = sum(s.correct for s in mine)
        assert rung == REGISTRY[name].rung
        assert int(specimens) == len(mine), name
        assert (int(mutants), int(caught), int(named), int(alarms), passed) == (
            n_mut, n_mut, n_mut, 0, f"{n_ok}/{n_ok}"), name
        assert float(cpu) < 1.0, f"{name}: visible check took {cpu} s of CPU"
    total_ok = sum(s.correct for s in ZOO)
    total_mut = len(ZOO) - total_ok
    assert f"correct variants passed: {total_ok}/{total_ok}" in full_run.stdout
    assert f"mutants named right: {total_mut}/{total_mut}" in full_run.stdout


def test_list_shows_every_check_with_rung_parts_and_bugs():
    out = _cli("--list", timeout=60)
    assert out.returncode == 0, out.stderr
    rows = _rows(out.stdout, "check")
    assert list(rows) == list(REGISTRY)
    for name, (rung, parts, bugs) in rows.items():
        fn = REGISTRY[name]
        assert rung == fn.rung
        assert parts == (", ".join(getattr(fn, "parts", ())) or "-")
        assert bugs.split() == list(fn.covers) or (not fn.covers and bugs.startswith("-"))


PLANTED = '''
import numpy as np
from nnlab.checks.zoo import correct, mutant


@mutant("check_relu", "B8", "planted: a correct ReLU labelled as a bug")
class PlantedMissedRelu:
    def forward(self, X):
        self.X = X
        return np.maximum(X, 0)

    def backward(self, dY):
        return dY * (self.X > 0)


@mutant("check_relu", "B8", "planted: a sign bug labelled B8")
class PlantedMisnamedRelu(PlantedMissedRelu):
    def backward(self, dY):
        return -dY * (self.X > 0)


@correct("check_relu", "planted: a 'correct' ReLU that is the identity")
class PlantedWrongCorrect(PlantedMissedRelu):
    def backward(self, dY):
        return dY
'''


def test_planted_offenders_make_the_cli_fail_naming_them(tmp_path):
    extra = tmp_path / "planted.py"
    extra.write_text(PLANTED)
    out = _cli("--selftest", "--check", "check_relu", "--zoo-extra", str(extra), timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout
    assert "FAILED: 6 offender(s)" in text  # three specimens, visible and hidden
    assert re.search(r"PlantedMissedRelu \[visible\].*labelled B8 was MISSED", text)
    assert re.search(r"PlantedMisnamedRelu \[hidden\].*labelled B8 was named B15: "
                     r"check_relu found bug B15", text)
    assert re.search(r"PlantedWrongCorrect \[visible\].*correct variant failed with bug "
                     r"B8: check_relu found bug B8", text)
    rows = _rows(text, "check")
    n_mut = sum(s.check == "check_relu" and not s.correct for s in ZOO)
    n_ok = sum(s.check == "check_relu" and s.correct for s in ZOO)
    # specimens, mutants, caught, named right, false alarms, correct passed
    assert rows["check_relu"][1:7] == [str(n_mut + n_ok + 3), str(n_mut + 2), str(n_mut + 1),
                                       str(n_mut), "1", f"{n_ok}/{n_ok + 1}"]


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    for argv, words in ((["--check", "check_nope"], "check_nope: no such check"),
                        (["--zoo-extra", str(tmp_path / "missing.py")], "missing.py"),
                        (["--jobs", "0"], "--jobs 0")):
        with pytest.raises(SystemExit) as info:
            main(["--selftest", *argv])
        assert info.value.code == 2
        assert words in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])  # one of --selftest / --list is required


# --------------------------------------------------------------------------- in process


def _relu(sign=1.0, mask=True):
    class R:
        def forward(self, X):
            self.X = X
            return X * (X > 0)

        def backward(self, dY):
            return sign * dY * ((self.X > 0) if mask else 1.0)

    R.__name__ = f"R{sign}{mask}"
    return R


def test_report_counts_and_names_offenders_in_process():
    specimens = [
        Specimen("check_relu", _relu(), True, style="right"),
        Specimen("check_relu", _relu(-1.0), False, "B15", "sign"),
        Specimen("check_relu", _relu(mask=False), False, "B15", "mislabelled: really B8"),
        Specimen("check_nope", _relu(), True, style="no such check"),
    ]
    runs = run_zoo(specimens)
    assert [r.verdict for r in runs] == ["pass", "pass", "fail", "fail", "fail", "fail",
                                         "crash", "crash"]
    lines, bad = report(specimens, runs, ["check_relu"])
    text = "\n".join(lines)
    assert re.search(r"^B15 +\| +2 \| +2 \| +1$", text, re.M)
    # specimens, mutants, caught, named right, false alarms, correct passed
    assert re.search(r"^check_relu +\| +03 \| +3 \| +2 \| +2 \| +1 \| +0 \| +1/1 ", text,
                     re.M)
    assert sum("was named B8" in line for line in bad) == 2
    assert sum("no check named 'check_nope'" in line for line in bad) == 2
    assert any(line.startswith("coverage: check_relu: 1 correct variant") for line in bad)


def test_run_one_turns_a_crashing_check_into_an_offender():
    run = run_one(Specimen("check_dense", _relu(), True, kwargs={"part": "fwd"}), False)
    assert run.verdict == "crash" and "ValueError" in run.head and "part='fwd'" in run.head


def test_jobs_must_be_a_positive_int():
    with pytest.raises(ValueError, match="jobs=0"):
        run_zoo(ZOO[:1], jobs=0)


def test_pool_gives_the_same_verdicts_as_serial():
    sample = [s for s in ZOO if s.check in ("check_relu", "check_softmax")]
    serial = run_zoo(sample)
    pooled = run_zoo(sample, jobs=2)
    assert [(r.index, r.hidden, r.verdict, r.bug) for r in serial] == \
           [(r.index, r.hidden, r.verdict, r.bug) for r in pooled]


# --------------------------------------------------------------------------- coverage rule

PAIRS = [(name, bug) for name, fn in REGISTRY.items() for bug in fn.covers]


def _source(obj) -> str:
    """A specimen's code: for a cell of the corpus, the whole notebook it runs in (a loop
    on a wrong component differs from the same loop on right ones only there); for a plain
    value (an answer of notebook 07 or 03: an id, an index), its repr."""
    if isinstance(obj, (str, int, float)):
        return repr(obj)
    module = inspect.getmodule(obj)
    if module is not None and module.__name__.startswith("nnlab_corpus_cell_"):
        return inspect.getsource(module)
    return inspect.getsource(obj)


@pytest.mark.parametrize("name,bug", PAIRS, ids=[f"{n}-{b}" for n, b in PAIRS])
def test_two_mutants_in_different_styles_per_covered_bug(name, bug):
    mutants = [s for s in ZOO if s.check == name and not s.correct and s.bug == bug]
    assert len(mutants) >= 2, f"{name} covers {bug} but the zoo has {len(mutants)} mutant(s)"
    assert len({s.style for s in mutants}) == len(mutants), "each mutant says its own style"
    sources = {_source(s.obj) for s in mutants}
    assert len(sources) == len(mutants), "two mutants with the same code"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_two_different_correct_variants_per_check(name):
    ok = [s for s in ZOO if s.check == name and s.correct]
    assert len(ok) >= 2, f"{name} has {len(ok)} correct variant(s) in the zoo"
    # the same class may be registered once per part of its check; an answer of notebook 07
    # or 03 (an id, an index) is a plain value: its repr is its source
    assert len({(_source(s.obj), repr(s.kwargs)) for s in ok}) == len(ok)
    assert len({_source(s.obj) for s in ok}) >= 2
    assert len({s.style for s in ok}) == len(ok)


def test_mutant_labels_are_bugs_their_check_covers():
    assert coverage_gaps(ZOO) == []
    for s in ZOO:
        assert s.check in REGISTRY, s
        if not s.correct and s.bug is not None:
            assert s.bug in REGISTRY[s.check].covers, (s.check, s.obj.__name__, s.bug)


def test_every_probeable_bug_is_named_by_some_check():
    covered = {bug for fn in REGISTRY.values() for bug in fn.covers}
    assert covered == set(CATALOGUE) - UNPROBEABLE
    named = {s.bug for s in ZOO if not s.correct}
    assert named - {None} == set(CATALOGUE) - UNPROBEABLE


def test_coverage_gaps_flags_a_check_without_a_zoo():
    thin = [s for s in ZOO if s.check != "check_tanh"]
    thin.append(next(s for s in ZOO if s.check == "check_tanh" and s.correct))
    gaps = coverage_gaps(thin, ["check_tanh"])
    assert "check_tanh: 0 mutant(s) labelled B15, which it covers; needs 2" in gaps
    assert "check_tanh: 1 correct variant(s); needs 2" in gaps


def test_seed_posts_code_is_in_the_zoo():
    # The forum posts are the first zoo: each seed's code appears among the specimens.
    styles = " ".join(s.style for s in ZOO if not s.correct)
    for seed in ("000", "001", "002", "003", "004"):
        assert f"seed {seed}" in styles, seed


# --------------------------------------------------------------------------- hidden variants


def _key(value):
    """A hashable fingerprint of one argument: arrays by dtype, shape and bytes."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return ("dict", tuple((k, _key(v)) for k, v in sorted(value.items())))
    if isinstance(value, (int, float, str, bool, type(None))):
        return ("scalar", value)
    return ("object", type(value).__name__)


def _recording(fn, seen):
    def wrapper(*args, **kwargs):
        seen.add((tuple(_key(a) for a in args), tuple((k, _key(v)) for k, v in
                                                      sorted(kwargs.items()))))
        return fn(*args, **kwargs)

    wrapper.__signature__ = inspect.signature(fn)
    return wrapper


def _recording_class(cls, seen):
    methods = {name: _recording(getattr(cls, name), seen)
               for name in ("forward", "backward", "fit", "transform", "inverse_transform")
               if hasattr(cls, name)}
    return type(cls.__name__, (cls,), methods)


def _probes(specimen, hidden):
    seen = set()
    obj = specimen.obj
    wrapped = _recording_class(obj, seen) if isinstance(obj, type) else _recording(obj, seen)
    REGISTRY[specimen.check](wrapped, hidden=hidden, **specimen.kwargs)
    return seen


FIRST_CORRECT = {name: next(s for s in ZOO if s.check == name and s.correct)
                 for name in REGISTRY}


# A diagnosis (notebook 07) is a string, not code: nothing to call, nothing to probe.
@pytest.mark.parametrize("name", [n for n in REGISTRY if callable(FIRST_CORRECT[n].obj)])
def test_hidden_run_probes_inputs_the_visible_run_never_shows(name):
    # A student who hard-codes answers for what the visible cell feeds in has nothing to
    # answer the hidden cell with: it asks about other inputs.
    specimen = FIRST_CORRECT[name]
    visible, hidden = _probes(specimen, False), _probes(specimen, True)
    assert visible and hidden, "the check never called the student's code"
    assert hidden - visible, f"{name}: every hidden probe was already shown by the visible run"


def _memoriser(fn):
    """The cheat: answers recorded from a correct run, replayed for the same inputs; for
    anything else, the last answer it remembers."""
    table = {}

    def record(*args, **kwargs):
        key = (tuple(_key(a) for a in args), tuple(sorted((k, _key(v))
                                                          for k, v in kwargs.items())))
        table[key] = fn(*args, **kwargs)
        return table[key]

    def replay(*args, **kwargs):
        key = (tuple(_key(a) for a in args), tuple(sorted((k, _key(v))
                                                          for k, v in kwargs.items())))
        return table.get(key, list(table.values())[-1])

    record.__signature__ = replay.__signature__ = inspect.signature(fn)
    return record, replay


# Checks whose graded object is a pure function of array inputs, so a lookup table of the
# visible answers is a complete cheat for the visible cell.
PURE = ["check_sigmoid", "check_sigmoid_derivative", "check_neuron_forward", "check_bce_loss",
        "check_neuron_gradients", "check_train_neuron", "check_relative_error",
        "check_softmax", "check_softmax_cross_entropy"]


@pytest.mark.parametrize("name", PURE)
def test_hard_coded_visible_answers_fail_the_hidden_check(name):
    record, replay = _memoriser(FIRST_CORRECT[name].obj)
    check = REGISTRY[name]
    check(record)           # learn every visible answer from a correct implementation
    check(replay)           # the lookup table passes the visible check...
    with pytest.raises(CheckFailed):
        check(replay, hidden=True)  # ...and not the hidden one
