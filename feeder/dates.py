"""Reading the dates that briefs carry, generously but never by guessing a missing part."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone, tzinfo

from dateutil import parser as dateutil_parser

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:-(.*))?$")

# RFC 822 names its North American zones; dateutil knows only UTC/GMT by itself.
_RFC822_ZONES = {name: timezone(timedelta(hours=hours), name) for name, hours in (
    ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5),
    ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7))}
MIN_YEAR = 1000
MAX_DATE_LENGTH = 100
MIN_OFFSET, MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)
"""The UTC offsets in use (Baker Island, Kiribati); xsd:dateTime, and so Atom, allows ±14:00."""
# Two different defaults: a field that dateutil filled from them was missing from the text.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))  # noqa: DTZ001 - only the date is used


def parse_date(text: str, zone: tzinfo) -> datetime:
    """An aware datetime from ISO 8601, RFC 822 or a written date (`October 4, 2016`); a date
    or time without a zone is taken in `zone`. Raises ValueError with a message for the user."""
    text = text.strip()
    if not text:
        raise ValueError("the date is empty")
    if len(text) > MAX_DATE_LENGTH:
        raise ValueError(f"{text[:20]!r}... is too long for a date; write it as YYYY-MM-DD, "
                         "with a time if you like: 2016-10-04T09:00:00-04:00")
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        if _ISO_DAY.match(text):
            raise ValueError(f"{text!r} is not a real date: {exc}") from None
        parsed = _parse_loosely(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    else:  # feeds can only write offsets of whole minutes within ±14:00
        try:
            offset = parsed.utcoffset()
        except ValueError:  # dateutil builds offsets of a day or more, which datetime refuses
            offset = None
        if offset is None or not MIN_OFFSET <= offset <= MAX_OFFSET or offset.total_seconds() % 60:
            raise ValueError(f"{text!r} has a time zone offset no clock uses; write one between "
                             "-12:00 and +14:00, such as -04:00")
    try:  # RFC 822 needs four digits, and the year must stay within datetime's range in UTC
        utc_year = parsed.astimezone(timezone.utc).year
    except (OverflowError, ValueError):
        utc_year = 0
    if min(parsed.year, utc_year) < MIN_YEAR:
        raise ValueError(f"{text!r} is out of range: feeder publishes dates from the year "
                         f"{MIN_YEAR} to 9999")
    return parsed


def _parse_loosely(text: str) -> datetime:
    first: datetime  # read with each default: a part taken from them was not in `text`
    with warnings.catch_warnings():
        warnings.simplefilter("error", dateutil_parser.UnknownTimezoneWarning)
        try:
            first, second = (dateutil_parser.parse(text, default=default, tzinfos=_RFC822_ZONES)
                             for default in _DEFAULTS)
        except dateutil_parser.UnknownTimezoneWarning:
            raise ValueError(f"{text!r} names a time zone feeder does not know; "
                             "write it as an offset such as -04:00") from None
        except (ValueError, ArithmeticError) as exc:  # overflow, decimal errors
            reason = str(exc).split(":")[0] if isinstance(exc, ValueError) else \
                "a number is too large"
            raise ValueError(f"cannot read {text!r} as a date ({reason}); "
                             "write it as YYYY-MM-DD, with a time if you like: "
                             "2016-10-04T09:00:00-04:00") from None
    if first.date() != second.date():
        raise ValueError(f"{text!r} is not a whole date: give the year, month and day")
    return first


def split_file_date(stem: str) -> tuple[str | None, str]:
    """(`YYYY-MM-DD` or None, the rest) of a file name without its extension."""
    match = _FILE_DATE.match(stem)
    return (match.group(1), match.group(2) or "") if match else (None, stem)
