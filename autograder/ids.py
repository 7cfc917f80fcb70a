"""Student ids that arrive from outside (an LMS zip, an exchange folder name) are untrusted.

nbgrader builds paths and glob patterns from a student id (`submitted/<id>/...`,
`<id>+<assignment>+*` in the exchange), so an id must be one plain path component with
no pattern characters. `problem(id)` says what is wrong with one, or None when it is fine.
"""

from __future__ import annotations

import re

GLOB = set("*?[]{}!")
MAX_LENGTH = 64
_ALLOWED = re.compile(r"[A-Za-z0-9_.@-]+")


def problem(student_id: str) -> str | None:
    """Why `student_id` cannot name a student folder, or None when it can."""
    sid = student_id
    if not sid:
        return "is empty"
    if len(sid) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if found := sorted(GLOB & set(sid)):
        return f"contains the glob character(s) {''.join(found)!r}"
    if "/" in sid or "\\" in sid:
        return "contains a path separator"
    if ".." in sid:
        return "contains '..'"
    if "+" in sid:
        return "contains '+', the separator of nbgrader's exchange folder names"
    if sid[0] in ".-":
        return f"starts with {sid[0]!r}"
    if not _ALLOWED.fullmatch(sid):
        bad = sorted({c for c in sid if not _ALLOWED.fullmatch(c)})
        return (f"contains {''.join(bad)!r}; allowed are letters, digits and _ . @ -")
    return None


def refusal(student_id: str, where: str) -> str | None:
    """A one-line refusal naming the id, where it came from and the fix, or None."""
    why = problem(student_id)
    if why is None:
        return None
    return (f"refused student id {student_id!r} from {where}: it {why}; rename the file or "
            "folder (or the LMS login) to letters, digits and _ . @ - only")
