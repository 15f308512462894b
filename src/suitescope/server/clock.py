"""Times as the store keeps them: ISO 8601 in UTC with milliseconds and a `Z`, which sort as text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


def days_ago(days: float) -> str:
    return iso(datetime.now(timezone.utc) - timedelta(days=days))


def parse_iso(text: str) -> datetime:
    """A time from a record or a query parameter; naive times are taken as UTC. ValueError if not a time."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def normalise(text: str) -> str:
    return iso(parse_iso(text))


def is_time(value: object) -> bool:
    try:
        parse_iso(str(value))
    except ValueError:
        return False
    return True
