"""The unified social credit code (统一社会信用代码, GB 32100-2015).

Eighteen characters from a 31-symbol alphabet (digits and capitals without
I, O, Z, S, V): registration authority (1), organisation type (1), the
registering division (6 digits, GB/T 2260), the organisation code (9) and a
check character.  The check character makes ``sum(value(c_i) * 3**(i-1) mod 31)``
over all 18 positions, taken as ``31 - sum mod 31``, come out right.
"""

from __future__ import annotations

from .errors import EngineError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


class CreditCodeError(EngineError):
    """A credit code is malformed; the message says what is wrong (in Chinese, for the applicant)."""

    code = "invalid_credit_code"


def credit_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise CreditCodeError("前17位只能由数字和除 I、O、Z、S、V 以外的大写字母组成")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(text: str) -> str:
    """The code upper-cased and stripped of spaces and dashes."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\u3000")


def parse_credit_code(text: str) -> str:
    """Return the normalized code when it is valid, else raise ``CreditCodeError``."""
    code = normalize_credit_code(text)
    if len(code) != 18:
        raise CreditCodeError(f"统一社会信用代码应为18位，实际为{len(code)}位")
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise CreditCodeError(f"含有不允许的字符：{''.join(bad)}")
    if not code[2:8].isdigit():
        raise CreditCodeError("第3至8位应为登记管理机关所在行政区划代码（6位数字）")
    expected = credit_check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(f"校验码错误：第18位应为 {expected}")
    return code


def is_valid_credit_code(text: str) -> bool:
    """Whether ``text`` is a valid unified social credit code."""
    try:
        parse_credit_code(text)
    except CreditCodeError:
        return False
    return True
