"""`python -m autograder release|collect|grade|feedback|return|report|export|demo|
cluster-certs`: a thin command line over nbgrader and the grading engine. Each command
parses, delegates, prints what it wrote and exits non-zero when something required failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import NOTEBOOKS, Course


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    p.add_argument("--course", default="course", help="course root (default ./course)")
    p.add_argument("--db", default=None, help="gradebook as an SQLAlchemy URL, e.g. "
                   "postgresql+psycopg://USER@/DB?host=/run/postgresql (default: the "
                   "course's gradebook.db); give it to every command of that course")
    # --course and --db are accepted after the command too (`grade --course X`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", default=argparse.SUPPRESS, help="course root")
    common.add_argument("--db", default=argparse.SUPPRESS, help="gradebook URL")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", parents=[common], help="generate the student versions")
    r.add_argument("assignments", nargs="*", help="notebook names (default: all)")
    r.add_argument("--notebooks", default=str(NOTEBOOKS), help="where the notebooks are")
    r.add_argument("--exchange", default=None,
                   help="nbgrader exchange root to publish to (remembered by the course; "
                        "e.g. /srv/nbgrader/exchange)")
    c = sub.add_parser("collect", parents=[common],
                       help="submissions into submitted/: from the exchange, or an LMS zip")
    c.add_argument("assignments", nargs="*", help="assignment names (default: all)")
    c.add_argument("--zip", default=None, help="an LMS's download of submissions (.zip)")
    c.add_argument("--lms", choices=["canvas", "moodle"], default=None,
                   help="the layout of --zip's file names")
    rt = sub.add_parser("return", parents=[common],
                        help="feedback HTML, released to the exchange for students to fetch")
    rt.add_argument("assignments", nargs="*")
    e = sub.add_parser("export", parents=[common],
                       help="an LMS grade file beside reports/grades.csv")
    e.add_argument("--lms", choices=["canvas", "moodle"], required=True)
    g = sub.add_parser("grade", parents=[common],
                       help="autograde every submission under submitted/")
    g.add_argument("--jobs", type=int, default=2,
                   help="local worker processes (default 2; without --scheduler)")
    g.add_argument("--scheduler", default=None,
                   help="grade on a Dask cluster: tls://HOST:PORT of its scheduler")
    g.add_argument("--certs", default=None,
                   help="with --scheduler: the folder made by `cluster-certs`")
    g.add_argument("--timeout-cell", type=int, default=30, help="seconds per cell")
    g.add_argument("--timeout-submission", type=int, default=300,
                   help="seconds per notebook, wall clock and CPU")
    g.add_argument("--memory", type=int, default=2048, help="MB of address space per kernel")
    g.add_argument("--nproc", type=int, default=64, help="processes+threads per kernel user")
    g.add_argument("--no-limits", action="store_true",
                   help="run stock ipykernel (no prlimit, no unprivileged user)")
    g.add_argument("--student", action="append", help="only these students (repeatable)")
    g.add_argument("--assignment", action="append", help="only these assignments")
    g.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    g.add_argument("--run-every-cell", action="store_true",
                   help="run the demonstrations tagged skip-in-grading too (by default a "
                        "grading run leaves them out when no later cell reads what they set)")
    f = sub.add_parser("feedback", parents=[common], help="HTML feedback per graded notebook")
    f.add_argument("assignments", nargs="*")
    sub.add_parser("report", parents=[common],
                   help="grades.csv, diagnoses.csv, integrity, bug summary")
    d = sub.add_parser("demo", parents=[common],
                       help="a sample class: release, grade, feedback, report")
    d.add_argument("--jobs", type=int, default=2)
    d.add_argument("--notebooks", default=None, help="notebook folder (default: the course's)")
    c = sub.add_parser("cluster-certs",
                       help="make the TLS authority and certificates of a grading cluster")
    c.add_argument("folder", help="where to write them (created, mode 700)")
    c.add_argument("--host", action="append", default=None,
                   help="names or addresses of the cluster's machines (repeatable)")
    c.add_argument("--days", type=int, default=365, help="validity (default 365)")
    return p


def _collect(course: Course, args) -> list[str]:
    if args.zip:
        from autograder import lms

        if not args.lms or len(args.assignments) != 1:
            raise SystemExit("collect --zip needs --lms canvas|moodle and exactly one "
                             "assignment name (the one the LMS download is for)")
        done = lms.collect_zip(course, Path(args.zip), args.assignments[0], args.lms)
    else:
        from autograder import exchange

        done = exchange.collect(course, args.assignments or None)
    for student, assignment in done["collected"]:
        print(f"collected {student}/{assignment}")
    for reason in done["refused"]:
        print(reason, file=sys.stderr)
    for error in done["failed"]:
        print(error, file=sys.stderr)
    print(f"{len(done['collected'])} collected, {len(done['refused'])} refused, "
          f"{len(done['failed'])} failed into {course.submitted}")
    return [f"{len(done['failed'])} collect failure(s)"] if done["failed"] else []


def _return(course: Course, names: list[str] | None) -> list[str]:
    from autograder import exchange, steps

    failures = []
    for name, result in steps.feedback(course, names).items():
        print(f"feedback {name}: {result}")
        if result != "ok":
            failures.append(f"feedback {name}")
    done = exchange.return_feedback(course, names)
    for student, assignment in done["returned"]:
        print(f"returned {student}/{assignment}")
    for line in done["skipped"]:
        print(f"not returned {line}")
    for error in done["failed"]:
        print(error, file=sys.stderr)
    return failures + done["failed"]


def _run_term_command(course: Course, args) -> list[str]:
    if args.command == "collect":
        return _collect(course, args)
    if args.command == "return":
        return _return(course, args.assignments or None)
    from autograder import lms

    paths = lms.export(course, args.lms)
    for path in paths:
        print(f"{args.lms} grade file: {path}")
    return []


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        course = Course(Path(args.course), args.db)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return _command(course, args)
    finally:
        from autograder.course import hand_back

        hand_back(course)  # an instructor's course, graded by root: theirs again


def _command(course: Course, args) -> int:
    if args.command in ("collect", "return", "export"):
        try:  # bad input (no exchange, not a zip, no LMS roster) says what to do instead
            failures = _run_term_command(course, args)
        except ValueError as exc:
            print(f"{args.command}: {exc}", file=sys.stderr)
            return 2
        if failures:
            print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1 if failures else 0
    failures: list[str] = []
    if args.command == "release":
        from autograder import steps

        for name, result in steps.release(course, args.assignments or None,
                                          notebooks=Path(args.notebooks)).items():
            print(f"release {name}: {result}")
            if result != "ok":
                failures.append(f"release {name}")
        from autograder import exchange

        if args.exchange:
            print(f"exchange: {exchange.configure(course, Path(args.exchange))}")
        if exchange.root(course) and not failures:
            for name, result in exchange.publish(course, args.assignments or None).items():
                print(f"publish {name} to {exchange.root(course)}: {result}")
                if result != "ok":
                    failures.append(f"publish {name}")
    elif args.command == "grade":
        from autograder import grade

        done = grade.run(course, jobs=args.jobs, timeout_cell=args.timeout_cell,
                         timeout_submission=args.timeout_submission, memory_mb=args.memory,
                         nproc=args.nproc, limits=not args.no_limits, students=args.student,
                         assignments=args.assignment, force=args.force,
                         scheduler=args.scheduler,
                         certs=Path(args.certs) if args.certs else None, progress=True,
                         every_cell=args.run_every_cell)
        failures += [f"task lost: {w['unit']}: {w['why']}" for w in done["failed_workers"]]
        print(f"graded {done['graded']}, skipped {done['skipped']} unchanged; "
              f"logs: {' '.join(done['logs'])}")
        from autograder import report

        rows = report.grade_rows(course)
        errors = [r for r in rows if r["status"].startswith("error:")]
        for r in errors:  # every submission that did not simply grade, with its reason
            print(f"  {r['student']}/{r['assignment']}: {r['status']} {r['reasons']}")
        missing = sum(r["status"] == "missing" for r in rows)
        print(f"{len(errors)} submission(s) graded with a problem, {missing} missing "
              f"(`report` writes them all to grades.csv)")
    elif args.command == "feedback":
        from autograder import steps

        for name, result in steps.feedback(course, args.assignments or None).items():
            print(f"feedback {name}: {result} ({course.feedback}/*/{name}/)")
            if result != "ok":
                failures.append(f"feedback {name}")
    elif args.command == "report":
        from autograder import report

        report.write(course)
    elif args.command == "demo":
        from autograder import demo

        failures += demo.run(course, jobs=args.jobs,
                             notebooks=Path(args.notebooks) if args.notebooks else None)
    elif args.command == "cluster-certs":
        from autograder import certs

        made = certs.make(Path(args.folder), hosts=args.host, days=args.days)
        for role, path in made.items():
            print(f"{role:10s} {path}")
        print(f"keep {Path(args.folder) / 'ca-key.pem'} on this machine only; copy ca.pem and "
              "worker.pem/worker-key.pem to each worker machine")
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
