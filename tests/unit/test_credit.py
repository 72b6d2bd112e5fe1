"""The unified social credit code check (GB 32100-2015)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.credit import ALPHABET, CreditCodeError, credit_check_character, is_valid_credit_code, parse_credit_code

# Published codes of well-known organisations (their check characters are public facts).
KNOWN = ["91350100M000100Y43", "91110000600037341L", "911100001000079554"]

first17 = st.builds(lambda a, b, d, o: a + b + d + o,
                    st.sampled_from("159Y"), st.sampled_from("123"),
                    st.text("0123456789", min_size=6, max_size=6),
                    st.text(ALPHABET, min_size=9, max_size=9))


@pytest.mark.parametrize("code", KNOWN)
def test_known_codes_pass(code):
    assert parse_credit_code(code) == code
    assert parse_credit_code(code.lower()[:6] + " " + code[6:]) == code


@pytest.mark.parametrize("text,message", [
    ("9135010", "18位"), ("91350100M000100Y4I", "不允许"), ("9135AB00M000100Y43", "行政区划"),
    ("91350100M000100Y44", "校验码"),
])
def test_bad_codes_say_why(text, message):
    with pytest.raises(CreditCodeError, match=message):
        parse_credit_code(text)


@given(first17)
def test_computed_check_character_always_validates(head):
    assert is_valid_credit_code(head + credit_check_character(head))


@given(first17, st.integers(0, 16), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_caught(head, position, replacement):
    code = head + credit_check_character(head)
    changed = code[:position] + replacement + code[position + 1:]
    if changed != code and changed[2:8].isdigit():
        assert not is_valid_credit_code(changed)


@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes(text):
    assert is_valid_credit_code(text) in (True, False)
