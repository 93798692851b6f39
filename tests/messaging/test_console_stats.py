"""The console's stats page: an event's figures and its chart by the hour (issue 13.7)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.test import Client

from captures import services as capture_services
from captures.models import BoothSession, Capture
from events.models import Event
from messaging import stats
from messaging.models import SmsMessage
from tests import factories

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
UTC = dt.UTC


def at(hour: int, minute: int = 0, day: int = 6, month: int = 6) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def session_at(tenant, started: dt.datetime, triggers: list[str]) -> BoothSession:
    """A session started at ``started`` with one photo per trigger, a minute apart."""
    session = factories.make_session(tenant.booth)
    BoothSession.objects.filter(pk=session.pk).update(started_at=started)
    for n, trigger in enumerate(triggers):
        capture = capture_services.record_capture(session, factories.image_bytes("PNG"))
        Capture.objects.filter(pk=capture.pk).update(
            taken_at=started + dt.timedelta(minutes=n + 1), trigger=trigger
        )
    return session


def sms_at(tenant, session, created: dt.datetime, status: str, price: str | None = None):
    """A ledger row as the send task and receipts leave it (written here at the seam)."""
    sent = status not in {"queued", "cancelled"} and not (status == "failed" and price is None)
    return SmsMessage.objects.create(
        organiser=tenant.organiser, event=tenant.event, session=session, to="+447400123456",
        body="Your photos", status=status, created_at=created,
        submitted_at=created if sent else None, price=Decimal(price) if price else None,
    )  # fmt: skip


@pytest.fixture
def seeded(tenant_a) -> Event:
    """A London party, 14:00 to 18:00 BST on 6 June 2026, with photos and SMS in 3 hours."""
    event: Event = tenant_a.event
    Event.objects.filter(pk=event.pk).update(
        timezone="Europe/London", starts_at=at(13), ends_at=at(17)
    )
    event.refresh_from_db()
    first = session_at(tenant_a, at(13, 5), ["smile", "smile", "manual"])
    second = session_at(tenant_a, at(13, 40), ["countdown"])
    third = session_at(tenant_a, at(15, 10), ["smile", "countdown", "manual", "smile"])
    Capture.objects.filter(session=third, trigger="manual").update(hidden=True)
    sms_at(tenant_a, first, at(13, 9), "delivered", "0.03330")
    sms_at(tenant_a, second, at(13, 45), "failed", "0.03330")  # refused by a receipt
    sms_at(tenant_a, second, at(13, 46), "failed")  # refused by the provider: never sent
    sms_at(tenant_a, third, at(15, 20), "submitted", "0.04000")
    sms_at(tenant_a, third, at(15, 21), "expired")
    sms_at(tenant_a, third, at(15, 22), "queued")
    return event


def viewer(tenant) -> Client:
    client = Client()
    client.force_login(tenant.viewer)
    return client


def page(tenant) -> str:
    response = viewer(tenant).get(f"/console/{tenant.organiser.slug}/party/stats/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_figures_of_a_seeded_event(seeded):
    figures = stats.event_stats(seeded)
    assert (figures.sessions, figures.captures, figures.hidden_captures) == (3, 8, 1)
    assert figures.smile_captures == 4
    assert figures.smile_share == 0.5
    sms = figures.sms
    assert (sms.requested, sms.sent, sms.delivered, sms.failed) == (6, 4, 1, 3)
    assert (sms.priced, sms.cost) == (3, Decimal("0.10660"))
    assert figures.timezone == "Europe/London"


def test_the_hours_are_the_events_in_its_timezone(seeded):
    hours = stats.event_stats(seeded).hours
    assert [h.start.strftime("%H:%M") for h in hours] == [
        "14:00",
        "15:00",
        "16:00",
        "17:00",
        "18:00",
    ]
    assert [h.sessions for h in hours] == [2, 0, 1, 0, 0]
    assert [h.captures for h in hours] == [4, 0, 4, 0, 0]
    assert [h.smile_captures for h in hours] == [2, 0, 2, 0, 0]
    assert [h.sms.sent for h in hours] == [2, 0, 2, 0, 0]
    assert [h.sms.cost for h in hours][:3] == [Decimal("0.06660"), 0, Decimal("0.04000")]


def test_the_figures_cost_three_queries_whatever_the_rows(seeded, django_assert_num_queries):
    with django_assert_num_queries(3):
        stats.event_stats(seeded)


def test_the_page_shows_the_totals_and_a_table_of_active_hours(tenant_a, seeded):
    html = page(tenant_a)
    for text in ("Sessions", "Photos", "1 hidden", "50%", "4 of 8 photos", "0.1066",
                 "SMS delivered", "of 6 asked for", "Europe/London"):  # fmt: skip
        assert text in html, text
    table = html[html.index('class="table stack stats-table"') :]
    assert table.count("<tr>") == 1 + 2  # the heading, 14:00 and 16:00
    assert "Sat 6 Jun, 14:00" in table
    assert "Sat 6 Jun, 16:00" in table


def chart(html: str) -> ET.Element:
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    return ET.fromstring(svg)  # noqa: S314  (our own page, parsed to prove it is XML)


def test_the_chart_is_valid_svg_with_one_group_per_hour(tenant_a, seeded):
    svg = chart(page(tenant_a))
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title") is not None
    assert svg.find(f"{SVG}desc") is not None
    buckets = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "bucket"]
    assert len(buckets) == 5
    assert buckets[0].get("data-hour") == "2026-06-06T14:00"
    bars = [r for g in buckets for r in g.iter(f"{SVG}rect")]
    assert sorted(str(r.get("class")) for r in bars) == ["bar-captures"] * 2 + ["bar-sessions"] * 2
    line = next(p for p in svg.iter(f"{SVG}polyline") if p.get("class") == "line-sms")
    assert len(line.get("points", "").split()) == 5


def test_an_event_without_activity_shows_an_empty_chart(tenant_a):
    html = page(tenant_a)
    buckets = [g for g in chart(html).iter(f"{SVG}g") if g.get("class") == "bucket"]
    assert len(buckets) == 1
    assert "Nothing yet" in html
    assert "—" in html  # no smile share without photos


def test_a_clock_change_gives_a_day_one_hour_of_two(tenant_a):
    """London leaves summer time at 02:00 on 25 October 2026: 01:00 comes twice."""
    event = tenant_a.event
    Event.objects.filter(pk=event.pk).update(
        timezone="Europe/London",
        starts_at=at(23, day=24, month=10),
        ends_at=at(3, day=25, month=10),
    )
    event.refresh_from_db()
    session_at(tenant_a, at(0, 20, day=25, month=10), ["smile"])  # 01:20 summer time
    session_at(tenant_a, at(1, 20, day=25, month=10), ["manual"])  # 01:20 winter time
    hours = stats.event_stats(event).hours
    assert [h.start.strftime("%H") for h in hours] == ["00", "01", "02", "03"]
    assert [h.captures for h in hours] == [0, 2, 0, 0]


def test_half_hour_zones_count_by_their_own_hours(tenant_a):
    event = tenant_a.event
    Event.objects.filter(pk=event.pk).update(
        timezone="Asia/Kolkata", starts_at=at(4, 30), ends_at=None
    )
    event.refresh_from_db()
    session_at(tenant_a, at(5, 10), ["smile"])  # 10:40 in Kolkata
    hours = stats.event_stats(event).hours
    assert [h.start.strftime("%H:%M") for h in hours] == ["10:00"]
    assert hours[0].captures == 1


def test_a_long_event_charts_its_last_week(tenant_a):
    event = tenant_a.event
    Event.objects.filter(pk=event.pk).update(starts_at=at(0, day=1), ends_at=None)
    event.refresh_from_db()
    session_at(tenant_a, at(9, day=1), ["smile"])
    session_at(tenant_a, at(9, day=1, month=7), ["smile"])
    figures = stats.event_stats(event)
    assert figures.truncated
    assert len(figures.hours) == stats.MAX_HOURS
    assert figures.hours[-1].start == at(9, day=1, month=7)
    assert figures.captures == 2
    assert "The chart shows the last 168 hours" in page(tenant_a)


def test_an_unknown_timezone_counts_in_utc(tenant_a):
    Event.objects.filter(pk=tenant_a.event.pk).update(timezone="Mars/Olympus")
    tenant_a.event.refresh_from_db()
    assert stats.event_stats(tenant_a.event).timezone == "UTC"


def test_another_organisers_stats_answer_like_missing_ones(tenant_a, tenant_b, seeded):
    client = Client()
    client.force_login(tenant_b.owner)
    foreign = client.get(f"/console/{tenant_a.organiser.slug}/party/stats/")
    missing = client.get(f"/console/{tenant_a.organiser.slug}/no-such-event/stats/")
    assert foreign.status_code == missing.status_code == 404
    assert client.get(f"/console/{tenant_b.organiser.slug}/party/stats/").status_code == 200


def test_stats_need_a_login_and_take_no_post(tenant_a, anon_client):
    response = anon_client.get(f"/console/{tenant_a.organiser.slug}/party/stats/")
    assert response.status_code == 302
    assert (
        viewer(tenant_a).post(f"/console/{tenant_a.organiser.slug}/party/stats/").status_code == 405
    )
