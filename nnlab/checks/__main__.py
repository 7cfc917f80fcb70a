"""`python -m nnlab.checks --selftest` runs every specimen of the mutation zoo through its
check and prints what was caught; `--list` prints every check with the bugs it can name.

A mutant counts as caught, and as named right, only when both its visible run and its
`hidden=True` run agree. The command exits 1 and lists each offender (a missed or misnamed
mutant, a failing correct variant, a check without enough specimens) with the check's
message, so the table in the README can never claim more than the code does.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import multiprocessing
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nnlab.checks import CATALOGUE, REGISTRY, CheckFailed, _core
from nnlab.checks import zoo as _zoo

BUG_IDS = tuple(CATALOGUE)
MIN_MUTANTS = 2   # per (check, bug id the check covers)
MIN_CORRECT = 2   # per check


@dataclass(frozen=True)
class Run:
    """One specimen through its check, visible or hidden.

    verdict : "pass" (returned quietly), "fail" (raised CheckFailed) or "crash" (the check
        itself raised something else, or the specimen names no registered check).
    """

    index: int
    hidden: bool
    verdict: str
    bug: str | None
    head: str
    seconds: float  # wall clock
    cpu: float      # CPU time of this process (what the check costs on a contended machine)
    notes: tuple = ()  # what a passing check noted about another cell


def _head(exc: BaseException, width: int = 220) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = " / ".join(lines[:2]) or type(exc).__name__
    return text if len(text) <= width else text[: width - 3] + "..."


def run_one(specimen: _zoo.Specimen, hidden: bool, index: int = 0) -> Run:
    """Feed `specimen` to its check once; never raises for what the check does."""
    fn = REGISTRY.get(specimen.check)
    if fn is None:
        return Run(index, hidden, "crash", None, f"no check named {specimen.check!r}", 0, 0)
    start, cpu = time.perf_counter(), time.process_time()
    notes: tuple = ()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            fn(specimen.obj, hidden=hidden, **specimen.kwargs)
        verdict, bug, head = "pass", None, ""
        notes = tuple(_core.NOTES)
    except CheckFailed as exc:
        verdict, bug, head = "fail", exc.bug, _head(exc)
    except Exception as exc:  # a check that crashes is an offender, not a crash of the table
        verdict, bug, head = "crash", None, f"{type(exc).__name__}: {_head(exc)}"
    return Run(index, hidden, verdict, bug, head, time.perf_counter() - start,
               time.process_time() - cpu, notes)


_POOL_SPECIMENS: list = []


def _run_indexed(task: tuple[int, bool]) -> Run:
    index, hidden = task
    return run_one(_POOL_SPECIMENS[index], hidden, index)


def run_zoo(specimens, jobs: int = 1) -> list[Run]:
    """Every specimen, visible then hidden; `jobs` > 1 forks a process pool of that size."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r}; give a whole number of processes, 1 or more")
    tasks = [(i, hidden) for i in range(len(specimens)) for hidden in (False, True)]
    if jobs == 1:
        return [run_one(specimens[i], hidden, i) for i, hidden in tasks]
    # Fork: the children inherit the loaded zoo (and any extra module), so only indices
    # cross the process boundary.
    _POOL_SPECIMENS[:] = specimens
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        return list(pool.map(_run_indexed, tasks, chunksize=8))


def is_right(specimen: _zoo.Specimen, run: Run) -> bool:
    if specimen.correct:
        return run.verdict == "pass" and (
            specimen.note is None or any(specimen.note in text for text in run.notes))
    return run.verdict == "fail" and run.bug == specimen.bug


def coverage_gaps(specimens, checks=None) -> list[str]:
    """Checks (all, or the names in `checks`) whose zoo is too thin: fewer than 2 mutants
    for a bug id the check covers, fewer than 2 correct variants, or mutants labelled with
    a bug id the check does not claim to cover."""
    gaps = []
    for name, fn in REGISTRY.items():
        if checks is not None and name not in checks:
            continue
        mine = [s for s in specimens if s.check == name]
        labels = Counter(s.bug for s in mine if not s.correct)
        for bug in fn.covers:
            if labels[bug] < MIN_MUTANTS:
                gaps.append(f"{name}: {labels[bug]} mutant(s) labelled {bug}, which it "
                            f"covers; needs {MIN_MUTANTS}")
        for bug in labels:
            if bug is not None and bug not in fn.covers:
                gaps.append(f"{name}: mutants labelled {bug}, which it does not list in "
                            f"covers={fn.covers}")
        n_ok = sum(s.correct for s in mine)
        if n_ok < MIN_CORRECT:
            gaps.append(f"{name}: {n_ok} correct variant(s); needs {MIN_CORRECT}")
    return gaps


def _table(header: tuple[str, ...], rows: list[tuple], right: bool = True) -> list[str]:
    cells = [tuple(str(c) for c in row) for row in (header, *rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row):
        return " | ".join(c.rjust(w) if i and right else c.ljust(w)
                          for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return [line(r).rstrip() for r in cells[:1]] + ["-+-".join("-" * w for w in widths)] + [
        line(r).rstrip() for r in cells[1:]]


def report(specimens, runs: list[Run], checks=None) -> tuple[list[str], list[str]]:
    """The selftest's tables (lines) and its offenders (lines; empty when all is well),
    over every registered check or only the names in `checks`."""
    checks = list(REGISTRY) if checks is None else list(checks)
    by_spec: dict[int, list[Run]] = {}
    for run in runs:
        by_spec.setdefault(run.index, []).append(run)
    caught = {i: all(r.verdict == "fail" for r in rs) for i, rs in by_spec.items()}
    right = {i: all(is_right(specimens[i], r) for r in rs) for i, rs in by_spec.items()}
    mutants = [i for i, s in enumerate(specimens) if not s.correct]
    oks = [i for i, s in enumerate(specimens) if s.correct]

    rows = []
    for bug in (*BUG_IDS, None):
        idx = [i for i in mutants if specimens[i].bug == bug]
        rows.append((bug or "None", len(idx), sum(caught[i] for i in idx),
                     sum(right[i] for i in idx)))
    lines = [f"{len(specimens)} specimens ({len(mutants)} mutants, {len(oks)} correct "
             "variants), each run visible and with hidden=True; a specimen counts only "
             "when both runs agree.", ""]
    lines += _table(("bug class", "mutants", "caught", "named right"), rows)
    never = [b for b in BUG_IDS if not any(b in fn.covers for fn in REGISTRY.values())]
    if never:
        lines.append(f"(no check covers {', '.join(never)})")

    rows = []
    for name in checks:
        fn = REGISTRY[name]
        mine = [i for i, s in enumerate(specimens) if s.check == name]
        m = [i for i in mine if not specimens[i].correct]
        c = [i for i in mine if specimens[i].correct]
        visible = [r for i in c for r in by_spec[i] if not r.hidden]
        alarms = sum(any(r.verdict != "pass" for r in by_spec[i]) for i in c)
        rows.append((name, fn.rung, len(mine), len(m), sum(caught[i] for i in m),
                     sum(right[i] for i in m), alarms,
                     f"{sum(right[i] for i in c)}/{len(c)}",
                     f"{max((r.cpu for r in visible), default=0):.3f}",
                     f"{max((r.seconds for r in visible), default=0):.3f}"))
    lines += ["", *_table(("check", "rung", "specimens", "mutants", "caught", "named right",
                           "false alarms", "correct passed", "visible cpu s", "wall s"),
                          rows)]
    lines.append("(visible cpu s / wall s: the slowest visible run over the correct variants)")
    lines += ["", f"mutants named right: {sum(right[i] for i in mutants)}/{len(mutants)}",
              f"correct variants passed: {sum(right[i] for i in oks)}/{len(oks)}"]

    bad = []
    for run in runs:
        s = specimens[run.index]
        if is_right(s, run):
            continue
        where = f"{s.check} <- {getattr(s.obj, '__name__', s.obj)!s} " \
                f"[{'hidden' if run.hidden else 'visible'}] ({s.style})"
        if s.correct:
            got = "crashed" if run.verdict == "crash" else f"failed with bug {run.bug}"
            if run.verdict == "pass":
                got = f"passed without the note naming {s.note!r} (notes: {run.notes})"
            bad.append(f"{where}: correct variant {got}: {run.head}")
        elif run.verdict == "pass":
            bad.append(f"{where}: mutant labelled {s.bug} was MISSED (the check passed it)")
        elif run.verdict == "crash":
            bad.append(f"{where}: mutant labelled {s.bug}: the check crashed: {run.head}")
        else:
            bad.append(f"{where}: mutant labelled {s.bug} was named {run.bug}: {run.head}")
    bad += [f"coverage: {gap}" for gap in coverage_gaps(specimens, checks)]
    return lines, bad


def load_extra(path: str | Path) -> list[_zoo.Specimen]:
    """Import a Python file that registers more specimens with `nnlab.checks.zoo.mutant` /
    `correct`, and return the specimens it added."""
    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise ValueError(f"--zoo-extra {str(path)!r}: expected an existing .py file that "
                         "registers specimens with nnlab.checks.zoo.mutant / correct")
    before = len(_zoo.ZOO)
    name = f"_nnlab_zoo_extra_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return _zoo.ZOO[before:]


def selftest(extra=(), *, checks=None, jobs: int = 1, out=None) -> int:
    """Run the whole zoo (plus the files in `extra`; only the specimens of `checks` when
    given), print the tables; 0 when all is right, 1 otherwise."""
    out = out or sys.stdout
    unknown = sorted(set(checks or ()) - set(REGISTRY))
    if unknown:
        raise ValueError(f"--check {', '.join(unknown)}: no such check; choose from "
                         f"{', '.join(REGISTRY)}")
    _zoo.load()
    for path in extra:
        load_extra(path)
    specimens = [s for s in _zoo.ZOO if checks is None or s.check in checks]
    start = time.perf_counter()
    runs = run_zoo(specimens, jobs)
    elapsed = time.perf_counter() - start
    lines, bad = report(specimens, runs, checks)
    print(f"nnlab.checks selftest ({elapsed:.1f} s, {jobs} process(es))", file=out)
    print("\n".join(lines), file=out)
    if bad:
        print(f"\nFAILED: {len(bad)} offender(s)", file=out)
        print("\n".join(f"  {line}" for line in bad), file=out)
        return 1
    print("\nOK: every mutant named right, every correct variant passed.", file=out)
    return 0


def list_checks(out=None) -> None:
    out = out or sys.stdout
    rows = [(name, fn.rung, ", ".join(getattr(fn, "parts", ())) or "-",
             " ".join(fn.covers) or "- (names no catalogued bug; reports None)")
            for name, fn in REGISTRY.items()]
    header = ("check", "rung", "parts", "bug ids it can name")
    print("\n".join(_table(header, rows, right=False)), file=out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["notebook"]:  # python -m nnlab.checks notebook FILE.ipynb
        from nnlab.checks.notebook import main as notebook_main

        return notebook_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m nnlab.checks",
        description="Run the checks' mutation zoo (--selftest) or list the checks (--list). "
                    "`python -m nnlab.checks notebook FILE.ipynb` checks a whole notebook.")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--selftest", action="store_true",
                      help="run every specimen through its check and print the tables")
    what.add_argument("--list", action="store_true",
                      help="print every check with its rung, parts and bug ids")
    parser.add_argument("--zoo-extra", action="append", default=[], metavar="FILE.py",
                        help="also run the specimens a Python file registers (repeatable)")
    parser.add_argument("--check", action="append", default=None, metavar="CHECK_NAME",
                        help="only this check's specimens, e.g. check_dense (repeatable)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes for --selftest (default 1; the zoo takes ~10 s)")
    args = parser.parse_args(argv)
    if args.list:
        list_checks()
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give 1 or more processes")
    try:
        return selftest(args.zoo_extra, checks=args.check, jobs=args.jobs)
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    sys.exit(main())
