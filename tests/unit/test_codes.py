"""Project codes: both national formats, the check character, the three levels."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.codes import (
    CodeError,
    check_character,
    generate_project_code,
    parse_engineering_code,
    parse_project_code,
    section_code,
    sub_project_code,
)

DIVISIONS = ["460100", "460105", "460200", "469002", "469100"]


@given(year=st.integers(2021, 2099), division=st.sampled_from(DIVISIONS),
       ptype=st.sampled_from(["01", "02", "03", "11"]), seed=st.integers(0, 10**6))
def test_generated_codes_parse_back(year, division, ptype, seed):
    code = generate_project_code(year, division, "48", ptype, random.Random(seed))
    parsed = parse_project_code(code)
    assert (parsed.year, parsed.division, parsed.project_type, parsed.legacy) == (year, division, ptype, False)


@given(seed=st.integers(0, 10**6), position=st.sampled_from([0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12, 13, 15, 16,
                                                              18, 19, 20, 21, 22]))
def test_a_changed_digit_is_caught(seed, position):
    code = generate_project_code(2024, "460100", "48", "01", random.Random(seed))
    digit = code[position]
    changed = code[:position] + str((int(digit) + 1) % 10) + code[position + 1:]
    with pytest.raises(CodeError):
        parse_project_code(changed)


def test_check_character_is_iso7064_mod_11_2():
    # the Chinese resident ID example: 11010519491231002X
    assert check_character("11010519491231002") == "X"


def test_legacy_codes_are_accepted():
    parsed = parse_project_code("2018-460100-47-03-012345")
    assert parsed.legacy and parsed.project_type == "03"
    with pytest.raises(CodeError, match="01/02/03"):
        parse_project_code("2018-460100-47-09-012345")


@pytest.mark.parametrize("text,message", [
    ("", "24 characters"), ("2024-460100-48-01-00001", "24 characters"),
    ("2024/460100/48/01/000017", "YYYY"), ("2024-460100-48-01-00001A", "YYYY"),
])
def test_malformed_codes_say_what_is_wrong(text, message):
    with pytest.raises(CodeError, match=message):
        parse_project_code(text)


def test_unknown_division_is_named():
    code = generate_project_code(2024, "460100")
    with pytest.raises(CodeError, match="division"):
        parse_project_code(code, divisions={"460200"})


@given(seed=st.integers(0, 10**6), g=st.integers(1, 99), d=st.integers(1, 99))
def test_three_levels(seed, g, d):
    base = generate_project_code(2025, "460200", rng=random.Random(seed))
    level2 = sub_project_code(base, g)
    level3 = section_code(level2, d)
    assert parse_engineering_code(base).level == 1
    assert parse_engineering_code(level2).sub_project == g
    parsed = parse_engineering_code(level3)
    assert (parsed.project, parsed.sub_project, parsed.section, parsed.level) == (base, g, d, 3)
