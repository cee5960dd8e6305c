"""The one text rule, and the one number rule, for everything that comes in.

Text: every free-text field (API bodies and data files alike) is refused when it holds a
control character other than tab, line feed and carriage return, a lone surrogate, or a
non-character XML 1.0 cannot carry, or when it is longer than ``TEXT_MAX_LENGTH``. The
renderers also pass every value through ``xml_safe``, so a value that got into the store some
other way (an old row, a manual fix) can never break a feed.

Numbers: a number from a URL or a form is ASCII digits only, at most ``NUMBER_MAX_DIGITS`` of
them. ``str.isdigit`` and ``int()`` accept "²", Arabic-Indic and full-width digits, and a
5,000-digit string raises past Python's parse limit; neither is allowed near them.
"""

from __future__ import annotations

import re

from .choices import NUMBER_MAX_DIGITS, TEXT_MAX_LENGTH

# C0 controls but tab, LF and CR; DEL and the C1 controls; surrogates (only ever lone in a
# Python str); and U+FFFE/U+FFFF, which XML 1.0 excludes.
UNSAFE_TEXT_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
ASCII_NUMBER_RE = re.compile(f"[0-9]{{1,{NUMBER_MAX_DIGITS}}}")


def check_text(value: str, max_length: int | None = TEXT_MAX_LENGTH) -> str | None:
    """None if ``value`` may be stored as free text; otherwise why not (``max_length`` None:
    the characters only, for a caller that checks the length itself)."""
    found = UNSAFE_TEXT_RE.search(value)
    if found:
        char = found.group()
        kind = "lone surrogate" if "\ud800" <= char <= "\udfff" else "control character"
        return (
            f"contains a {kind} (U+{ord(char):04X} at position {found.start()}); "
            "only tab, line feed and carriage return are allowed"
        )
    if max_length is not None and len(value) > max_length:
        return f"is longer than {max_length:,} characters ({len(value):,})"
    return None


def xml_safe(value: str) -> str:
    """``value`` without the characters XML 1.0 (and iCal TEXT) cannot carry."""
    return UNSAFE_TEXT_RE.sub("", value)


def parse_number(raw: str, low: int, high: int) -> int | None:
    """``raw`` as an int in ``low..high`` if it is ASCII digits only (at most
    ``NUMBER_MAX_DIGITS``); None for anything else, signs and spaces included."""
    if not ASCII_NUMBER_RE.fullmatch(raw):
        return None
    number = int(raw)
    return number if low <= number <= high else None
