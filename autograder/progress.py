"""What `grade` shows while it works: a tqdm bar (submissions done of all, rate, time
left, problems so far) with each problem printed as it happens; when the output is not a
terminal (a log file, CI), one plain line per finished submission instead.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def describe(record: dict) -> str:
    score = record.get("score")
    points = f" {score:g}/{record.get('max_score'):g}" if isinstance(score, (int, float)) \
        and isinstance(record.get("max_score"), (int, float)) else ""
    reasons = f" {' '.join(record['reasons'])}" if record.get("reasons") else ""
    flags = f" ({len(record['flags'])} integrity flag(s))" if record.get("flags") else ""
    return f"{record['student']}/{record['assignment']}: {record['status']}{points}{reasons}{flags}"


def is_problem(record: dict) -> bool:
    return record["status"].startswith("error:") or bool(record.get("flags"))


class Progress:
    """Call `done(record)` once per finished submission; `close()` at the end."""

    def __init__(self, total: int, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.count, self.problems = total, 0, 0
        self.bar = tqdm(total=total, desc="grading", unit="nb", file=self.stream,
                        dynamic_ncols=True, disable=not self.tty or total == 0)

    def done(self, record: dict) -> None:
        self.count += 1
        problem = is_problem(record)
        self.problems += problem
        if self.tty:
            if problem:
                self.bar.write(f"  problem: {describe(record)}", file=self.stream)
            self.bar.set_postfix(problems=self.problems, refresh=False)
            self.bar.update(1)
        else:
            print(f"[{self.count}/{self.total}] {describe(record)}", file=self.stream,
                  flush=True)

    def close(self) -> None:
        self.bar.close()
