"""Keys built from public identifiers, and split again: one pair of functions each."""

from __future__ import annotations


def session_key(championship: str, round_number: int, slug: str) -> str:
    """A session's key in the change record and the outbox: ``championship/round/slug``."""
    return f"{championship}/{round_number}/{slug}"


def split_session_key(key: str) -> tuple[str, int, str]:
    """The championship slug, round number and session slug of a ``session_key``."""
    championship, number, slug = key.split("/", 2)
    return championship, int(number), slug


def round_key(championship: str, round_number: int) -> str:
    """A round's key in the change record: ``championship/round``."""
    return f"{championship}/{round_number}"


def split_round_key(key: str) -> tuple[str, int]:
    """The championship slug and round number of a ``round_key``."""
    championship, number = key.split("/", 1)
    return championship, int(number)
