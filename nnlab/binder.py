"""The Binder link of this course, made from wherever its git repository is hosted.

`binder_link(remote)` turns a clone URL (GitHub, GitLab or any git server Binder can
build) into a mybinder.org link that opens the first student notebook; `python -m nnlab
binder-link` reads the remote of the current clone (``git remote get-url origin``).
"""

from __future__ import annotations

import re
import subprocess
from urllib.parse import quote

FIRST = "student/00_welcome.ipynb"
_HOSTED = re.compile(r"^(?:https?://|ssh://)?(?:git@)?(?P<host>github\.com|gitlab\.com)"
                     r"[:/](?P<path>[^\s]+?)(?:\.git)?/?$")


def binder_link(remote: str, ref: str = "HEAD", notebook: str = FIRST) -> str:
    """The mybinder.org URL that builds `remote` at `ref` and opens `notebook`."""
    remote = remote.strip()
    if not remote:
        raise ValueError("the git remote is empty; give the repository's clone URL, e.g. "
                         "https://github.com/<you>/nnlab.git")
    urlpath = quote(f"lab/tree/{notebook}", safe="/")
    m = _HOSTED.match(remote)
    if m and m.group("host") == "github.com":
        owner_repo = m.group("path")
        if owner_repo.count("/") != 1:
            raise ValueError(f"{remote!r} is not a GitHub repository URL "
                             "(https://github.com/<owner>/<repo>)")
        return f"https://mybinder.org/v2/gh/{owner_repo}/{ref}?urlpath={urlpath}"
    if m:
        return (f"https://mybinder.org/v2/gl/{quote(m.group('path'), safe='')}/{ref}"
                f"?urlpath={urlpath}")
    if re.match(r"^https?://", remote):
        return f"https://mybinder.org/v2/git/{quote(remote, safe='')}/{ref}?urlpath={urlpath}"
    raise ValueError(f"{remote!r} is not a URL Binder can build from; Binder needs a public "
                     "https:// clone URL (or git@github.com:/git@gitlab.com: form)")


def origin_remote(cwd=None) -> str:
    """``git remote get-url origin`` of the clone at `cwd`; ValueError saying what to do."""
    try:
        done = subprocess.run(["git", "remote", "get-url", "origin"], cwd=cwd,
                              capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        raise ValueError("git is not installed; pass the clone URL: python -m nnlab "
                         "binder-link --remote https://github.com/<you>/nnlab.git") from None
    if done.returncode != 0:
        raise ValueError("this clone has no remote called origin (git said: "
                         f"{done.stderr.strip() or done.stdout.strip()}); push it somewhere "
                         "public, or pass --remote https://github.com/<you>/nnlab.git")
    return done.stdout.strip()
