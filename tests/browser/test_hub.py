"""A course on a real JupyterHub, end to end, in Chromium.

JupyterHub 6.1.1 on free 127.0.0.1 ports with autograder/hub/jupyterhub_config.py, system
users made for the test (an instructor, two students), nbgrader's exchange in a temporary
folder, servers from the shared environment of scripts/ensure-hub.sh. Alice logs in,
fetches 01_single_neuron from the Assignments tab, types an answer with bug B7 (no bias),
runs the visible check and reads its diagnosis, and submits; Bob submits the solutions
with `nbgrader submit` as himself; the instructor collects, grades and returns with
`python -m autograder` (as root, on the course the instructor owns); Alice fetches her
feedback and reads the diagnosis and the hidden tests' verdict, without the hidden test
code; the instructor's formgrader shows both submissions with the gradebook's scores.
The hub, the proxy and every process of the test's users are stopped at teardown, also
on failure. Screenshots: test-output/browser/.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess

import nbformat
import pytest
from hubdriver import HUB_ENV, Hub, SystemUsers, UserServer, ensure_hub, shared_tmp
from labdriver import ROOT, Notebook, venv_python
from nbgrader.api import Gradebook

from autograder import manifest, sample
from autograder.course import Course
from autograder.injections import BUGS

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

NAME = "01_single_neuron"
BUG = next(b for b in BUGS[NAME] if b.bug == "B7")


def _cannot(reason: str):
    print(f"hub test cannot run: {reason}")
    if os.environ.get("CI") == "true":
        pytest.fail(f"hub test cannot run under CI: {reason}")
    pytest.skip(reason)


def cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([venv_python(), "-m", "autograder", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"autograder {args} failed:\n{done.stdout}\n{done.stderr}"
    return done


def hidden_test_lines(source) -> list[str]:
    lines = []
    for cell in source.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                cell.source, flags=re.S):
            lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


@pytest.fixture
def term(chromium_executable):
    """A released course, its exchange, three system users and a running hub; all removed
    afterwards."""
    reason = ensure_hub()
    if reason:
        _cannot(reason)
    base = shared_tmp("nnlab-hub-")
    tag = secrets.token_hex(2)
    names = {"teacher": f"nnlab-t{tag}", "alice": f"nnlab-a{tag}", "bob": f"nnlab-b{tag}"}
    course, exchange_root = base / "course", base / "exchange"
    users = hub = None
    try:
        users = SystemUsers(list(names.values()))
        # The instructor owns the course, as on a real hub: their formgrader runs as them,
        # and `sudo python -m autograder ...` hands back what it writes (course.hand_back).
        course.mkdir()
        teacher = pwd.getpwnam(names["teacher"])
        os.chown(course, teacher.pw_uid, teacher.pw_gid)
        cli("release", NAME, "--course", str(course), "--exchange", str(exchange_root))
        hub = Hub(base / "state", exchange_root, course,
                  students=[names["alice"], names["bob"]], instructors=[names["teacher"]])
        yield {"base": base, "course": course, "exchange": exchange_root, "hub": hub,
               "users": users, "names": names}
    finally:
        _tear_down(hub, users, base)


def _tear_down(hub: Hub | None, users: SystemUsers | None, base) -> None:
    """Stop the hub and its proxy, end every process of the test's users and remove them,
    and the test's folders; also after a failure half-way through the set-up."""
    if hub is not None:
        hub.stop()
    if users is not None:
        users.remove()
    shutil.rmtree(base, ignore_errors=True)


def login(page, hub: Hub, user: str) -> None:
    page.goto(f"{hub.base}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hub.password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
    page.locator(".jp-LabShell").wait_for(timeout=120_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=60_000)


def open_assignments(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item[data-command='nbgrader:open-assignment-list']").wait_for()
    items = page.locator(".lm-Menu-item").all_inner_texts()
    assert not [i for i in items if "Formgrader" in i or "Create assignment" in i], items
    page.locator(".lm-Menu-item[data-command='nbgrader:open-assignment-list']").click()
    panel = page.locator("#nbgrader-assignment-list")
    panel.wait_for(state="visible", timeout=30_000)
    return panel


def _errors(hub: Hub) -> str:
    """The error lines of the hub's log (the servers it spawned log there too)."""
    return "\n".join(line for line in hub.log_tail(400).splitlines()
                     if "[E " in line or "Error" in line)[-3000:]


def open_formgrader(page, hub: Hub, user: str, path: str = "", heading="Manage Assignments"):
    """The formgrader page `path` of `user`'s server; on a timeout, what the page showed."""
    page.goto(f"{hub.base}/user/{user}/formgrader/{path}")
    try:
        page.locator("h1", has_text=heading).wait_for(timeout=60_000)
    except Exception as exc:
        raise AssertionError(f"no {heading!r} at {page.url}: {page.inner_text('body')[:1500]}"
                             f"\n{_errors(hub)}") from exc


def nbgrader_as(user: str, home, *args: str, config_dir) -> None:
    """`nbgrader ...` run as a student from the hub's environment, in their home."""
    env = {"HOME": str(home), "PATH": f"{HUB_ENV / 'bin'}:/usr/bin:/bin",
           "JUPYTER_CONFIG_PATH": str(config_dir)}
    done = subprocess.run(["runuser", "-u", user, "--", "env", *[f"{k}={v}" for k, v in
                                                                  env.items()],
                           str(HUB_ENV / "bin" / "nbgrader"), *args],
                          cwd=home, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {args} as {user}:\n{done.stdout}\n{done.stderr}"


def test_release_fetch_submit_grade_return_feedback_on_a_hub(term, browser_page, shot):
    page, hub, names = browser_page, term["hub"], term["names"]
    alice, bob = names["alice"], names["bob"]
    users = term["users"]
    source = nbformat.read(term["course"] / "source" / NAME / f"{NAME}.ipynb", as_version=4)

    # Alice: log in, fetch from the Assignments tab.
    login(page, hub, alice)
    shot(page, "1-alice-logged-in")
    panel = open_assignments(page)
    panel.get_by_text(NAME).first.wait_for(timeout=30_000)
    panel.get_by_role("button", name="Fetch", exact=True).click()
    panel.get_by_role("button", name="Submit").first.wait_for(timeout=30_000)
    shot(page, "2-alice-fetched")
    home = users.home(alice)
    fetched = home / NAME / f"{NAME}.ipynb"
    assert fetched.is_file() and fetched.stat().st_uid == pwd.getpwnam(alice).pw_uid

    # Alice writes neuron_forward without its bias and runs the visible check.
    notebook = Notebook(page, UserServer(hub, alice, home), f"{NAME}/{NAME}.ipynb")
    nb = nbformat.read(fetched, as_version=4)
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
    answer, check = ids.index(BUG.answer), ids.index(BUG.test)
    notebook.type_into(answer, BUG.code)
    for index in range(check + 1):
        if nb.cells[index].cell_type == "code":
            notebook.run_cell(index, timeout=120)
    seen = notebook.output_text(check)
    assert "B7" in seen, f"the visible check did not name B7:\n{seen[-1500:]}"
    notebook.cells.nth(check).locator(".jp-OutputArea").scroll_into_view_if_needed()
    shot(page, "3-alice-visible-check-B7")
    saved = notebook.save()
    assert "X @ w)" in saved.cells[answer].source

    # Alice submits from the Assignments tab.
    panel = open_assignments(page)
    panel.get_by_role("button", name="Submit").first.click()
    panel.get_by_text(re.compile(r"20\d\d-\d\d-\d\d \d\d:\d\d")).first.wait_for(timeout=30_000)
    shot(page, "4-alice-submitted")

    # Bob fetches and submits the solutions with nbgrader's command line, as himself.
    config_dir = term["base"] / "state" / "jupyter-student"
    bob_home = users.home(bob)
    nbgrader_as(bob, bob_home, "fetch_assignment", NAME, config_dir=config_dir)
    bob_nb = bob_home / NAME / f"{NAME}.ipynb"
    nbformat.write(sample.solved(nbformat.read(bob_nb, as_version=4), source), bob_nb)
    nbgrader_as(bob, bob_home, "submit", NAME, config_dir=config_dir)

    # The instructor: collect, grade, return.
    course = str(term["course"])
    collected = cli("collect", "--course", course)
    assert f"collected {alice}/{NAME}" in collected.stdout, collected.stdout
    assert f"collected {bob}/{NAME}" in collected.stdout, collected.stdout
    cli("grade", "--course", course, "--jobs", "1")
    returned = cli("return", NAME, "--course", course)
    assert f"returned {alice}/{NAME}" in returned.stdout, returned.stdout

    # Alice fetches her feedback in the Assignments tab and reads it.
    page.reload()  # the Assignments tab lists feedback as it was when it loaded
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=60_000)
    panel = open_assignments(page)
    fetch_feedback = panel.get_by_role("button", name=re.compile("Fetch Feedback", re.I))
    fetch_feedback.first.wait_for(timeout=30_000)
    fetch_feedback.first.click()
    feedback = list((home / NAME / "feedback").glob(f"*/{NAME}.html"))
    for _ in range(60):
        if feedback:
            break
        page.wait_for_timeout(500)
        feedback = list((home / NAME / "feedback").glob(f"*/{NAME}.html"))
    assert len(feedback) == 1, f"no feedback fetched into {home / NAME}"
    shot(page, "5-alice-fetched-feedback")
    relative = feedback[0].relative_to(home)
    page.goto(f"{hub.base}/user/{alice}/files/{relative}")
    page.get_by_text("found bug B7").first.wait_for(timeout=30_000)
    page.get_by_text("found bug B7").first.scroll_into_view_if_needed()
    shot(page, "6-alice-reads-feedback")
    text = page.locator("body").inner_text()
    points = next(c["points"] for c in manifest.load()["notebooks"][NAME]["cells"]
                  if c["grade_id"] == BUG.test)
    # the hidden tests' verdict on BUG.test: 0 of its points, its hidden part not shown
    verdict = re.search(rf"{BUG.test}\s+Score: 0\.0 / {points:.1f}.*?hidden tests: not shown",
                        text, flags=re.S)
    assert verdict, text[text.find(BUG.test) - 200:][:1500]
    leaked = [line for line in hidden_test_lines(source) if line in feedback[0].read_text()]
    assert hidden_test_lines(source) and not leaked, f"hidden test code in feedback: {leaked}"

    # The instructor's formgrader, running as them, reads the gradebook root graded.
    teacher = names["teacher"]
    page.goto(f"{hub.base}/hub/logout")
    login(page, hub, teacher)
    open_formgrader(page, hub, teacher)
    page.locator("tr", has_text=NAME).first.wait_for()
    shot(page, "7-teacher-formgrader-assignments")
    open_formgrader(page, hub, teacher, f"manage_submissions/{NAME}", "Manage Submissions")
    with Gradebook(f"sqlite:///{term['course'] / 'gradebook.db'}") as gradebook:
        scores = {sid: (gradebook.find_submission(NAME, sid).score,
                        gradebook.find_submission(NAME, sid).max_score) for sid in (alice, bob)}
    auto = sum(c["points"] for c in manifest.load()["notebooks"][NAME]["cells"]
               if c["kind"] == "test")  # the written answers wait for the formgrader
    assert scores[bob][0] == auto > scores[alice][0], (scores, auto)
    for sid, (score, max_score) in scores.items():
        cells = page.locator("tr", has_text=sid).first.locator("td")
        cells.first.wait_for()
        texts = [t.strip() for t in cells.all_inner_texts()]
        shown = f"{round(score, 2):g} / {round(max_score, 2):g}"
        assert "graded" in texts and shown in texts, (sid, texts)
    shot(page, "8-teacher-formgrader-submissions")
    owner = pwd.getpwnam(teacher).pw_uid
    assert (term["course"] / "gradebook.db").stat().st_uid == owner


def test_make_hub_serves_the_course_and_the_instructors_formgrader(chromium_executable,
                                                                    browser_page, shot):
    """The README's `make hub`, as a newcomer runs it (ports, folders and users of the
    test's own): every notebook released, the course the instructor's, and their formgrader
    listing the assignments."""
    reason = ensure_hub()
    if reason:
        _cannot(reason)
    base = shared_tmp("nnlab-make-hub-")
    tag = secrets.token_hex(2)
    teacher, student = f"nnlab-t{tag}", f"nnlab-s{tag}"
    users = hub = None
    try:
        users = SystemUsers([teacher, student])
        hub = Hub(base / "state", base / "exchange", base / "course", students=[student],
                  instructors=[teacher], make=True)
        course = Course(base / "course")
        assert course.root.stat().st_uid == pwd.getpwnam(teacher).pw_uid
        assert (course.source / NAME / f"{NAME}.ipynb").stat().st_uid == \
            pwd.getpwnam(teacher).pw_uid  # written by root, handed back
        names = sorted(manifest.load()["notebooks"])
        assert course.assignments() == names
        published = sorted(p.name for p in (base / "exchange" / "nnlab" / "outbound").iterdir())
        assert published == names, published
        page = browser_page
        login(page, hub, teacher)
        open_formgrader(page, hub, teacher)
        for name in names:
            page.locator("tr", has_text=name).first.wait_for()
        shot(page, "make-hub-formgrader")
    finally:
        _tear_down(hub, users, base)
