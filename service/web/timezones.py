"""The viewer's zone on the server: ``?tz=Area/City`` for links and browsers without
JavaScript (``static/local-time.js`` does the same in the browser), and the picker's list."""

from __future__ import annotations

from flask import abort
from werkzeug.datastructures import MultiDict

from ..domain.timing import is_valid_zone

# The picker's choices: UTC and the zones most fans live in, west to east. The browser's own
# zone is added by the script when it is not one of these.
PICKER_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def viewer_zone(args: MultiDict[str, str]) -> str | None:
    """The IANA zone the page's ``tz`` names, None when absent; 400 naming ``tz`` if unknown."""
    name = args.get("tz", "").strip()
    if not name:
        return None
    if name.upper() == "UTC":
        return "UTC"
    if "/" not in name or not is_valid_zone(name):
        abort(
            400, description=f"tz: unknown time zone {name!r}; use an IANA name like Europe/Paris"
        )
    return name
