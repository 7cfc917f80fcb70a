"""The course folder nbgrader expects, and the settings every command shares.

A course root holds nbgrader's standard folders (`source`, `release`, `submitted`,
`autograded`, `feedback`), the gradebook (`gradebook.db`, or any SQLAlchemy URL such as a
shared PostgreSQL database), and `grader/` (our status records, logs and reports). Each
notebook in `notebooks/` becomes one assignment named after it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent
NOTEBOOKS = REPO / "notebooks"
CONFIG_FILE = PACKAGE / "nbgrader_config.py"
FOLDERS = ("source", "release", "submitted", "autograded", "feedback")


@dataclass(frozen=True)
class Course:
    """Paths of one course root (default `./course`) and where its gradebook lives.

    `db_url` is nbgrader's gradebook as an SQLAlchemy URL (e.g.
    ``postgresql+psycopg://grader@/nnlab?host=/run/postgresql``); None means the SQLite
    file `gradebook.db` in the root, nbgrader's own default.
    """

    root: Path
    db_url: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root).resolve())
        if self.db_url is not None and "://" not in self.db_url:
            raise ValueError(f"--db {self.db_url!r} is not an SQLAlchemy URL; give e.g. "
                             "postgresql+psycopg://USER@/DB?host=/run/postgresql or "
                             "sqlite:////path/gradebook.db")

    def __getattr__(self, name):
        if name in FOLDERS:
            return self.root / name
        raise AttributeError(name)

    @property
    def db(self) -> Path:
        """The default SQLite gradebook's file (used only when `db_url` is None)."""
        return self.root / "gradebook.db"

    @property
    def url(self) -> str:
        """The gradebook's SQLAlchemy URL, what every nbgrader command here is given."""
        return self.db_url or f"sqlite:///{self.db}"

    @property
    def grader(self) -> Path:
        return self.root / "grader"

    @property
    def status_dir(self) -> Path:
        return self.grader / "status"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def assignments(self) -> list[str]:
        """Assignment names present under source/, sorted."""
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir()
                      if p.is_dir() and (p / f"{p.name}.ipynb").is_file())

    def students(self) -> list[str]:
        """Student ids with a folder under submitted/, sorted."""
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir() if p.is_dir())

    def submission(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment / f"{assignment}.ipynb"


def load_config(course: Course, **settings) -> Config:
    """nbgrader settings: autograder/nbgrader_config.py, the course root, then `settings`.

    `settings` maps "Section.trait" to a value, e.g. ``{"Execute.timeout": 10}``.
    """
    # nbgrader runs `alembic` (a script beside this Python) when it opens a gradebook.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    loader = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent))
    config = loader.load_config()
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.db_url = course.url
    for dotted, value in settings.items():
        section, _, trait = dotted.partition(".")
        if not trait:
            raise ValueError(f"setting {dotted!r} must look like 'Section.trait'")
        setattr(config[section], trait, value)
    return config


def setup(course: Course, names: list[str] | None = None, notebooks: Path = NOTEBOOKS) -> list[str]:
    """Create the folders and copy notebooks/<name>.ipynb to source/<name>/<name>.ipynb.

    Returns the assignment names copied. An unknown name raises ValueError listing the
    notebooks that exist.
    """
    notebooks = Path(notebooks)
    available = sorted(p.stem for p in notebooks.glob("*.ipynb")) if notebooks.is_dir() else []
    wanted = list(names) if names else available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ValueError(f"no notebook named {unknown} in {notebooks}; "
                         f"the notebooks there are {available}")
    for folder in (*FOLDERS, "grader", "reports"):
        (course.root / folder).mkdir(parents=True, exist_ok=True)
    for name in wanted:
        dest = course.source / name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebooks / f"{name}.ipynb", dest / f"{name}.ipynb")
    write_course_config(course)
    return wanted


def write_course_config(course: Course, kernel_name: str | None = None) -> Path:
    """The course root's nbgrader_config.py: ours, the gradebook's URL when it is not the
    default file (the file is then owner-only: a URL may carry a password), and the kernel
    `grade` installed."""
    path = course.root / "nbgrader_config.py"
    lines = [
        "# Written by `python -m autograder`; plain `nbgrader` commands run here use it.",
        "c = get_config()  # noqa: F821",
        f"load_subconfig({str(CONFIG_FILE)!r})  # noqa: F821",
        f"c.CourseDirectory.root = {str(course.root)!r}",
    ]
    if course.db_url:  # the formgrader and plain `nbgrader` commands open the same one
        lines.append(f"c.CourseDirectory.db_url = {course.db_url!r}")
    if kernel_name:
        lines.append(f"c.Execute.kernel_name = {kernel_name!r}")
    course.root.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600 if course.db_url else 0o644)
    return path


def lock_down(course: Course) -> None:
    """Make the instructor's files unreadable to other users (the kernel's user).

    source/, grader/ and gradebook.db become owner-only; the root stays traversable.
    """
    for path in (course.source, course.grader, course.reports):
        if path.exists():
            path.chmod(stat.S_IRWXU)
    if course.db_url is None and course.db.exists():
        course.db.chmod(stat.S_IRUSR | stat.S_IWUSR)


def hand_back(course: Course) -> int:
    """Give the owner of the course root what a command run as root wrote into it.

    On a hub the instructor owns the course (nbgrader's formgrader runs as them) and runs
    `sudo python -m autograder ...` (kernels run as their own users only for root): the
    gradebook, autograded/, feedback/ and grader/ it writes would otherwise be root's, out
    of the formgrader's reach. Modes are kept, so what lock_down made owner-only stays out
    of the kernel users' reach. Links are not followed; entries owned by anyone but root
    (a kernel user's scratch) are left alone. Returns how many entries changed owner.
    """
    if os.geteuid() != 0 or not course.root.is_dir():
        return 0
    owner = course.root.stat()
    if owner.st_uid == 0:
        return 0
    changed = 0
    for folder, dirs, files in os.walk(course.root):
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            try:
                if os.lstat(path).st_uid == 0:
                    os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)
                    changed += 1
            except OSError:  # removed meanwhile
                continue
    return changed


def write_json_atomic(path: Path, data) -> None:
    """Write JSON so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)
