"""Project codes: the national investment project code and the 三级工程码.

National code (GB/T 40058-2021, from 2020-11-01), 24 characters::

    YYYY-AAAAAA-DD-TT-RRRRRC   year, division, guiding department, project type,
                               five random digits and a check character

The check character is computed here with ISO 7064 MOD 11-2 over the 19 digits
(the standard's own check algorithm is not in our sources: treat it as a
configurable assumption).  Legacy codes (before 2020-11) read
``YYYY-AAAAAA-II-TT-NNNNNN`` with an industry code and type 01 approval,
02 ratification, 03 filing.  Both are accepted; codes dated 2020 may be either.

三级工程码: level 1 is the project code; level 2 appends ``-Gnn`` for a
sub-project (工程) split off at stage 2; level 3 appends ``-Dnn`` for a unit or
section (单体/标段) at stage 3, e.g. ``2024-460100-48-01-000017-G01-D02``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .errors import EngineError


class CodeError(EngineError):
    """A project code is malformed; the message says which part is wrong."""

    code = "invalid_code"


_SHAPE = re.compile(r"^(\d{4})-(\d{6})-(\d{2})-(\d{2})-(\d{5})([0-9X])$")
_LEVELS = re.compile(r"^(?P<base>[0-9X-]{24})(?:-G(?P<g>\d{2})(?:-D(?P<d>\d{2}))?)?$")
LEGACY_TYPES = {"01": "审批", "02": "核准", "03": "备案"}
_WEIGHTS = [pow(2, i, 11) for i in range(19, 0, -1)]


def check_character(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of a digit string."""
    total = sum(int(d) * w for d, w in zip(digits, _WEIGHTS[-len(digits):], strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


@dataclass(frozen=True)
class ProjectCode:
    """A parsed national project code."""

    text: str
    year: int
    division: str
    department: str
    project_type: str
    legacy: bool


def parse_project_code(text: str, divisions: set[str] | None = None) -> ProjectCode:
    """Validate a national code of either format; raise ``CodeError`` saying what is wrong."""
    text = (text or "").strip().upper()
    if len(text) != 24:
        raise CodeError(f"a project code has 24 characters, {len(text)} given")
    match = _SHAPE.match(text)
    if not match:
        raise CodeError("a project code reads YYYY-AAAAAA-DD-TT-NNNNNN (digits, dashes, final check character)")
    year, division, dept, ptype, serial, last = match.groups()
    if not 2000 <= int(year) <= 2100:
        raise CodeError(f"year {year} is out of range")
    if divisions is not None and division not in divisions:
        raise CodeError(f"division {division} is not a known administrative division")
    digits = year + division + dept + ptype + serial
    new_ok = int(year) >= 2020 and check_character(digits) == last
    legacy_ok = int(year) <= 2020 and last != "X" and ptype in LEGACY_TYPES
    if new_ok:
        return ProjectCode(text, int(year), division, dept, ptype, legacy=False)
    if legacy_ok:
        return ProjectCode(text, int(year), division, dept, ptype, legacy=True)
    if int(year) >= 2021:
        raise CodeError(f"check character {last} is wrong (expected {check_character(digits)})")
    raise CodeError(f"legacy project type must be one of 01/02/03, not {ptype}")


def generate_project_code(year: int, division: str, department: str = "48", project_type: str = "01",
                          rng: random.Random | None = None) -> str:
    """A new valid national code (for demo data and tests)."""
    rng = rng or random.Random()
    serial = f"{rng.randrange(100000):05d}"
    digits = f"{year:04d}{division}{department}{project_type}{serial}"
    return f"{year:04d}-{division}-{department}-{project_type}-{serial}{check_character(digits)}"


@dataclass(frozen=True)
class EngineeringCode:
    """A 三级工程码 split into its levels."""

    project: str
    sub_project: int | None
    section: int | None

    @property
    def level(self) -> int:
        """1, 2 or 3."""
        return 1 + (self.sub_project is not None) + (self.section is not None)


def parse_engineering_code(text: str) -> EngineeringCode:
    """Split a code of any level; the project part must be a valid national code."""
    match = _LEVELS.match((text or "").strip().upper())
    if not match:
        raise CodeError("an engineering code is a project code, optionally with -Gnn and -Dnn")
    parse_project_code(match["base"])
    return EngineeringCode(match["base"], int(match["g"]) if match["g"] else None,
                           int(match["d"]) if match["d"] else None)


def sub_project_code(project_code: str, n: int) -> str:
    """Level-2 code of the n-th sub-project."""
    return f"{project_code}-G{n:02d}"


def section_code(level2: str, n: int) -> str:
    """Level-3 code of the n-th unit or section of a sub-project."""
    return f"{level2}-D{n:02d}"
