"""What `grade` shows while it works: a bar on a terminal, with problems printed as they
happen; one plain line per finished submission otherwise."""

from io import StringIO

from autograder.progress import Progress

RECORDS = [
    {"student": "ada", "assignment": "toy", "status": "graded", "score": 6.0,
     "max_score": 6.0, "reasons": [], "flags": []},
    {"student": "bob", "assignment": "toy", "status": "error:cell-timeout", "score": 3.0,
     "max_score": 6.0, "reasons": ["cell-timeout"], "flags": []},
    {"student": "cy", "assignment": "toy", "status": "missing", "score": None,
     "max_score": None, "reasons": [], "flags": []},
]


def test_a_terminal_gets_a_bar_with_problems_so_far_and_each_problem_printed():
    out = StringIO()
    bar = Progress(len(RECORDS), stream=out, tty=True)
    for record in RECORDS:
        bar.done(record)
    bar.close()
    text = out.getvalue()
    assert "problem: bob/toy: error:cell-timeout 3/6 cell-timeout" in text
    assert "ada/toy" not in text  # a submission without a problem is only counted
    assert "3/3" in text and "problems=1" in text and "nb/s" in text


def test_a_log_gets_one_line_per_finished_submission():
    out = StringIO()
    bar = Progress(len(RECORDS), stream=out, tty=False)
    for record in RECORDS:
        bar.done(record)
    bar.close()
    assert out.getvalue().splitlines() == [
        "[1/3] ada/toy: graded 6/6",
        "[2/3] bob/toy: error:cell-timeout 3/6 cell-timeout",
        "[3/3] cy/toy: missing",
    ]
