"""The numbers the notebooks' text states, checked against what their cells print.

A claim is a marker in a markdown cell, ``<!-- claim: name ~ 0.0174 rtol=0.05 -->``
(or ``atol=0.005``; default rtol 0.02), put right after the sentence that states the
number. A code cell must print the measured value on a line of its own, ``name = 0.0174``
(any format Python's float() reads). `problems` compares the two on a notebook run with
its solutions; tests/test_notebooks.py calls it on the run it already makes, so the
claims cost no extra execution. tests/test_claims.py tests this module.
"""

import math
import re
from dataclasses import dataclass

MARKER = re.compile(r"<!--\s*claim:\s*(?P<name>[A-Za-z_]\w*)\s*~\s*(?P<value>[-+0-9.eE]+)"
                    r"(?P<tol>(?:\s+(?:rtol|atol)=[0-9.eE+-]+)*)\s*-->")
TOL = re.compile(r"(rtol|atol)=([0-9.eE+-]+)")


@dataclass(frozen=True)
class Claim:
    name: str
    value: float
    rtol: float
    atol: float
    cell: str

    def holds(self, measured: float) -> bool:
        return math.isclose(measured, self.value, rel_tol=self.rtol, abs_tol=self.atol)

    def __str__(self) -> str:
        tol = f"atol {self.atol:g}" if self.atol else f"rtol {self.rtol:g}"
        return f"{self.name} ~ {self.value:g} ({tol}, cell {self.cell})"


def claims(nb) -> list[Claim]:
    """Every claim marker in the markdown cells of `nb`, in order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for m in MARKER.finditer(cell.source):
            tols = dict(TOL.findall(m.group("tol")))
            atol = float(tols.get("atol", 0.0))
            rtol = float(tols.get("rtol", 0.0 if atol else 0.02))
            found.append(Claim(m.group("name"), float(m.group("value")), rtol, atol,
                               cell.get("id", "?")))
    return found


def printed(nb) -> dict[str, list[float]]:
    """name -> every value printed as a ``name = value`` line by the executed `nb`."""
    values: dict[str, list[float]] = {}
    line = re.compile(r"^\s*([A-Za-z_]\w*) = ([-+0-9.eE]+|nan|inf)\s*$")
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") != "stream":
                continue
            for text in out.get("text", "").splitlines():
                m = line.match(text)
                if m:
                    try:
                        values.setdefault(m.group(1), []).append(float(m.group(2)))
                    except ValueError:
                        continue
    return values


def problems(executed) -> list[str]:
    """Each claim of the executed notebook that no printed value bears out."""
    shown = printed(executed)
    bad = []
    for claim in claims(executed):
        got = shown.get(claim.name)
        if not got:
            bad.append(f"{claim}: no cell printed `{claim.name} = <value>`")
        elif not any(claim.holds(v) for v in got):
            bad.append(f"{claim}: the notebook printed {', '.join(f'{v:g}' for v in got)}")
    return bad
