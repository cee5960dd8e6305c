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
# A round reference in an article: "<championship slug>/<round number>".
ROUND_REF_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*/[1-9][0-9]*$"
# A local wall-clock time, 24-hour "HH:MM".
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# An ISO 3166 alpha-2 country code.
COUNTRY_PATTERN = r"^[A-Z]{2}$"
# The longest session (a 24-hour race is 1,440 minutes; a week bounds endurance events).
MAX_DURATION_MINUTES = 10080
FIRST_SEASON, LAST_SEASON = 1900, 2200
