"""An event's figures for the console's stats page, counted in the database, and its chart.

``event_stats`` runs three grouped queries (sessions, captures and SMS, each per hour of
the event's timezone), whatever the number of rows; the totals are the sums of those
hours. ``hour_chart`` lays the hours out as an SVG bar chart (pure arithmetic, no
Django), which the template draws.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour

from captures.models import BoothSession, Capture
from events.models import Event
from messaging.models import SmsMessage

#: The chart's longest span, in hours (a week); a longer event shows its last week.
MAX_HOURS = 168
#: Statuses that count as "failed": the provider or the carrier refused or gave up.
FAILED_STATUSES = (
    SmsMessage.Status.FAILED,
    SmsMessage.Status.REJECTED,
    SmsMessage.Status.EXPIRED,
)


@dataclass(frozen=True)
class SmsFigures:
    """SMS counts and cost for an event or one hour of it.

    ``requested`` counts every message asked for; ``sent`` those the provider accepted
    (``submitted_at`` set); ``delivered`` those the carrier confirmed; ``failed`` those
    failed, rejected or expired. ``cost`` is the sum of the ledger's ``price`` (as Vonage
    reports it, in the SMS account's currency), over the ``priced`` messages that have
    one.
    """

    requested: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    priced: int = 0
    cost: Decimal = Decimal("0")

    def __add__(self, other: SmsFigures) -> SmsFigures:
        return SmsFigures(
            requested=self.requested + other.requested,
            sent=self.sent + other.sent,
            delivered=self.delivered + other.delivered,
            failed=self.failed + other.failed,
            priced=self.priced + other.priced,
            cost=self.cost + other.cost,
        )


@dataclass(frozen=True)
class HourFigures:
    """What happened in one hour of the event: ``start`` is aware, in the event's timezone."""

    start: dt.datetime
    sessions: int = 0
    captures: int = 0
    smile_captures: int = 0
    sms: SmsFigures = field(default_factory=SmsFigures)

    @property
    def active(self) -> bool:
        return bool(self.sessions or self.captures or self.sms.requested)


@dataclass(frozen=True)
class EventStats:
    """An event's totals and its hours (``hours``: consecutive, at most ``MAX_HOURS``).

    ``timezone`` is the zone the hours are counted in (the event's; UTC if it names no
    known zone). ``truncated`` says the chart leaves out hours before its first one; the
    totals count everything.
    """

    timezone: str
    sessions: int
    captures: int
    hidden_captures: int
    smile_captures: int
    sms: SmsFigures
    hours: tuple[HourFigures, ...]
    truncated: bool

    @property
    def smile_share(self) -> float | None:
        """The share of captures triggered by a smile, from 0 to 1 (None without captures)."""
        return self.smile_captures / self.captures if self.captures else None


def event_zone(event: Event) -> ZoneInfo:
    """Return the event's timezone, or UTC when ``event.timezone`` names no known zone."""
    try:
        return ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _wall(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Return the naive wall-clock hour of ``moment`` in ``zone`` (the hours' key)."""
    local = moment.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0, tzinfo=None, fold=0)


def _grouped(
    rows: Iterable[Mapping[str, Any]], zone: ZoneInfo
) -> dict[dt.datetime, Mapping[str, Any]]:
    """Key grouped rows by wall-clock hour (an hour repeated by a DST change is one key)."""
    keyed: dict[dt.datetime, dict[str, Any]] = {}
    for row in rows:
        key = _wall(row["hour"], zone)
        merged = keyed.setdefault(key, {})
        for name, value in row.items():
            if name != "hour":
                merged[name] = merged.get(name, 0) + (value or 0)
    return dict(keyed)


def event_stats(event: Event) -> EventStats:
    """Count ``event``'s sessions, captures and SMS, in total and per hour of its timezone.

    Three queries, grouped by hour in the database (``TruncHour`` in the event's zone).
    The hours run from the earlier of the event's start and its first activity to the
    later of its end (or start) and its last activity, every hour present, empty or not;
    when that is more than ``MAX_HOURS``, the last ``MAX_HOURS`` up to the last activity.
    """
    zone = event_zone(event)
    sessions = _grouped(
        BoothSession.objects.for_event(event)
        .annotate(hour=TruncHour("started_at", tzinfo=zone))
        .values("hour")
        .annotate(sessions=Count("pk"))
        .order_by(),
        zone,
    )
    captures = _grouped(
        Capture.objects.for_event(event)
        .annotate(hour=TruncHour("taken_at", tzinfo=zone))
        .values("hour")
        .annotate(
            captures=Count("pk"),
            smiles=Count("pk", filter=Q(trigger=Capture.Trigger.SMILE)),
            hidden=Count("pk", filter=Q(hidden=True)),
        )
        .order_by(),
        zone,
    )
    sms = _grouped(
        SmsMessage.objects.for_event(event)
        .annotate(hour=TruncHour("created_at", tzinfo=zone))
        .values("hour")
        .annotate(
            requested=Count("pk"),
            sent=Count("pk", filter=Q(submitted_at__isnull=False)),
            delivered=Count("pk", filter=Q(status=SmsMessage.Status.DELIVERED)),
            failed=Count("pk", filter=Q(status__in=FAILED_STATUSES)),
            priced=Count("pk", filter=Q(price__isnull=False)),
            cost=Sum("price"),
        )
        .order_by(),
        zone,
    )
    sms_by_hour = {key: _sms_figures(row) for key, row in sms.items()}
    keys, truncated = _hour_keys(event, zone, [*sessions, *captures, *sms])
    hours = tuple(
        HourFigures(
            start=key.replace(tzinfo=zone),
            sessions=int(sessions.get(key, {}).get("sessions", 0)),
            captures=int(captures.get(key, {}).get("captures", 0)),
            smile_captures=int(captures.get(key, {}).get("smiles", 0)),
            sms=sms_by_hour.get(key, SmsFigures()),
        )
        for key in keys
    )
    return EventStats(
        timezone=str(zone.key),
        sessions=sum(int(row["sessions"]) for row in sessions.values()),
        captures=sum(int(row["captures"]) for row in captures.values()),
        hidden_captures=sum(int(row["hidden"]) for row in captures.values()),
        smile_captures=sum(int(row["smiles"]) for row in captures.values()),
        sms=sum(sms_by_hour.values(), SmsFigures()),
        hours=hours,
        truncated=truncated,
    )


def _sms_figures(row: Mapping[str, Any]) -> SmsFigures:
    return SmsFigures(
        requested=int(row["requested"]),
        sent=int(row["sent"]),
        delivered=int(row["delivered"]),
        failed=int(row["failed"]),
        priced=int(row["priced"]),
        cost=Decimal(row["cost"] or 0),
    )


def _hour_keys(
    event: Event, zone: ZoneInfo, active: Sequence[dt.datetime]
) -> tuple[list[dt.datetime], bool]:
    """Return the chart's consecutive wall-clock hours, and whether some were left out.

    See ``event_stats``: the event's planned hours and every active one, or, past
    ``MAX_HOURS``, the ``MAX_HOURS`` that end with the last active hour.
    """
    first = _wall(event.starts_at, zone)
    last = _wall(event.ends_at or event.starts_at, zone)
    if active:
        first, last = min(first, *active), max(last, *active)
    keys = _hours_between(first, last, zone, limit=MAX_HOURS + 1)
    if len(keys) <= MAX_HOURS:
        return keys, False
    end = max(active) if active else last
    start = end.replace(tzinfo=zone).astimezone(dt.UTC) - dt.timedelta(hours=MAX_HOURS - 1)
    return _hours_between(_wall(start, zone), end, zone, limit=MAX_HOURS), True


def _hours_between(
    first: dt.datetime, last: dt.datetime, zone: ZoneInfo, *, limit: int
) -> list[dt.datetime]:
    """Return the wall-clock hours from ``first`` to ``last`` (naive, in ``zone``).

    At most ``limit`` of them.
    Steps an hour of real time at a time, so a DST change gives a day of 23 or 25 hours
    with an hour missing or counted once.
    """
    keys: list[dt.datetime] = []
    moment = first.replace(tzinfo=zone).astimezone(dt.UTC)
    while len(keys) < limit:
        key = _wall(moment, zone)
        if key > last:
            break
        if not keys or key != keys[-1]:
            keys.append(key)
        moment += dt.timedelta(hours=1)
    return keys


# --- The chart ---------------------------------------------------------------------------

#: The chart's drawing size in SVG units (it scales to its box, keeping this ratio).
CHART_WIDTH = 960
CHART_HEIGHT = 300
CHART_MARGIN = {"top": 16, "right": 16, "bottom": 52, "left": 48}
#: The widest bar, in SVG units (an event of a few hours gets bars, not slabs).
MAX_BAR_WIDTH = 28


@dataclass(frozen=True)
class ChartBar:
    """One bar: its rectangle in SVG units and the count it stands for."""

    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class ChartBucket:
    """One hour of the chart: its bars, the SMS line's point, its label (or "")."""

    hour: HourFigures
    left: float
    width: float
    sessions: ChartBar
    captures: ChartBar
    sms_x: float
    sms_y: float
    label: str
    label_x: float
    day: str


@dataclass(frozen=True)
class ChartTick:
    """A horizontal grid line at ``y`` for the count ``value``."""

    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw the SVG (coordinates in SVG units)."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    tick_label_x: float
    hour_label_y: float
    day_label_y: float
    buckets: tuple[ChartBucket, ...]
    ticks: tuple[ChartTick, ...]
    sms_points: str
    largest: int


def nice_ceiling(value: int) -> int:
    """Return the smallest of 1, 2, 5 x 10^k (at least 4) that is at least ``value``."""
    if value <= 4:
        return 4
    power: int = 10 ** len(str(value - 1)) // 10
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def hour_chart(hours: Sequence[HourFigures]) -> Chart:
    """Lay ``hours`` out as bars (sessions, captures) and a line (SMS sent) on one scale.

    Hours get equal slots left to right; about twelve are labelled ("14:00"), and the
    first hour of each day also names its day ("Sat 6 Jun").
    """
    left, right = CHART_MARGIN["left"], CHART_WIDTH - CHART_MARGIN["right"]
    top, bottom = CHART_MARGIN["top"], CHART_HEIGHT - CHART_MARGIN["bottom"]
    count = max(len(hours), 1)
    slot = (right - left) / count
    largest = nice_ceiling(max([0, *(max(h.sessions, h.captures, h.sms.sent) for h in hours)]))

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / largest, 2)

    every = max(1, math.ceil(count / 12))
    bar = min(slot * 0.38, MAX_BAR_WIDTH)
    buckets = []
    for index, hour in enumerate(hours):
        start = left + index * slot
        centre = start + slot / 2
        new_day = index == 0 or hour.start.date() != hours[index - 1].start.date()
        buckets.append(
            ChartBucket(
                hour=hour,
                left=round(start, 2),
                width=round(slot, 2),
                sessions=ChartBar(
                    round(centre - bar, 2), y(hour.sessions), round(bar, 2),
                    round(bottom - y(hour.sessions), 2), hour.sessions,
                ),
                captures=ChartBar(
                    round(centre, 2), y(hour.captures), round(bar, 2),
                    round(bottom - y(hour.captures), 2), hour.captures,
                ),
                sms_x=round(centre, 2),
                sms_y=y(hour.sms.sent),
                label=f"{hour.start:%H}:00" if index % every == 0 else "",
                label_x=round(centre, 2),
                day=f"{hour.start:%a} {hour.start.day} {hour.start:%b}"
                if new_day and index % every == 0
                else "",
            )
        )  # fmt: skip
    parts = next(n for n in (4, 5, 2, 1) if largest % n == 0)
    ticks = tuple(
        ChartTick(y(largest * n // parts), largest * n // parts) for n in range(parts + 1)
    )
    points = " ".join(f"{b.sms_x},{b.sms_y}" for b in buckets)
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        tick_label_x=left - 6,
        hour_label_y=bottom + 18,
        day_label_y=bottom + 36,
        buckets=tuple(buckets),
        ticks=ticks,
        sms_points=points,
        largest=largest,
    )
