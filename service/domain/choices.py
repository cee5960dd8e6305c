"""Enumerations, identifier patterns and limits: declared once, used by the models, the
write path, the data-file validator, the API schemas and the data-file JSON schema."""

from __future__ import annotations

import re

ROUND_STATUSES = ("scheduled", "provisional", "postponed", "cancelled")
SESSION_KINDS = ("practice", "qualifying", "race", "test", "other")
SESSION_STATUSES = ("scheduled", "postponed", "cancelled")
RESULT_OUTCOMES = ("classified", "DNF", "DNS", "DSQ", "NC")
RESULTS_STATUSES = ("none", "published", "withdrawn")
ARTICLE_STATUSES = ("published", "unpublished")

# Slugs are the permanent public identifiers: lowercase ASCII words joined by single hyphens.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_RE = re.compile(SLUG_PATTERN)
# A UTC offset naming one occurrence of a repeated local time: "+01:00", "-05:00".
UTC_OFFSET_PATTERN = r"^[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]$"
# A round reference in an article: "<championship slug>/<round number>".
# The number is bounded (a round number is at most 1000) so no reference overflows a column.
ROUND_REF_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*/[1-9][0-9]{0,3}$"
# A local wall-clock time, 24-hour "HH:MM".
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# An ISO 3166 alpha-2 country code.
COUNTRY_PATTERN = r"^[A-Z]{2}$"
# The longest session (a 24-hour race is 1,440 minutes; a week bounds endurance events).
MAX_DURATION_MINUTES = 10080
FIRST_SEASON, LAST_SEASON = 1900, 2200

# -- limits on what comes in (issue 14); the README's "Limits" section lists them --
# Every other free-text field (notes, titles, summaries, article bodies) at most this long.
TEXT_MAX_LENGTH = 100_000
# Every name (championship, series, round, session, circuit, team, competitor) at most this long.
NAME_MAX_LENGTH = 200
# A number in a URL or a form: ASCII digits only, at most this many of them.
NUMBER_MAX_DIGITS = 9
# A data file: at most this many bytes, this many YAML aliases, this many nodes once aliases
# are expanded, and this deep.
MAX_DATA_FILE_BYTES = 1024 * 1024
MAX_DATA_FILE_ALIASES = 100
MAX_DATA_FILE_NODES = 200_000
MAX_DATA_FILE_DEPTH = 32
# A JSON request body: at most this deep, and no number longer than this many characters.
MAX_JSON_DEPTH = 32
MAX_JSON_NUMBER_CHARS = 30
