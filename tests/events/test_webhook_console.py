"""The console's webhooks pages (issue 15.3): owners only, secrets shown once."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from events import webhooks
from events.models import WebhookDelivery, WebhookEndpoint
from events.roles import Role
from tests import factories

PUBLIC_URL = "https://93.184.215.14/hooks"


@pytest.fixture
def owner(tenant_a) -> Client:
    client = Client()
    client.force_login(tenant_a.owner)
    return client


def list_url(tenant) -> str:
    return reverse("events:webhooks", args=[tenant.organiser.slug])


def detail_url(tenant, endpoint) -> str:
    return reverse("events:webhook", args=[tenant.organiser.slug, endpoint.public_id])


def make_endpoint(tenant) -> WebhookEndpoint:
    return webhooks.create_endpoint(
        tenant.organiser, url=PUBLIC_URL, event_types=["capture.ready"], user=tenant.owner
    )


def test_creating_an_endpoint_shows_its_secret_once(owner, tenant_a):
    page = owner.get(list_url(tenant_a))
    assert page.status_code == 200
    assert b"No webhook endpoints yet." in page.content
    created = owner.post(
        list_url(tenant_a),
        {"url": PUBLIC_URL, "description": "CRM", "event_types": ["capture.ready", "sms.status"]},
    )
    assert created.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["capture.ready", "sms.status"]
    assert endpoint.secret.encode() in created.content
    assert "no-store" in created["Cache-Control"] or "no-cache" in created["Cache-Control"]
    again = owner.get(detail_url(tenant_a, endpoint))
    assert again.status_code == 200
    assert endpoint.secret.encode() not in again.content
    assert endpoint.secret.encode() not in owner.get(list_url(tenant_a)).content


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://127.0.0.1/", b"public address"), ("ftp://example.com/", b"http")],
)
def test_a_refused_url_answers_400_with_the_reason(owner, tenant_a, url, message):
    response = owner.post(list_url(tenant_a), {"url": url, "event_types": ["capture.ready"]})
    assert response.status_code == 400
    assert message in response.content
    assert not WebhookEndpoint.objects.exists()


def test_no_event_type_answers_400(owner, tenant_a):
    response = owner.post(list_url(tenant_a), {"url": PUBLIC_URL})
    assert response.status_code == 400
    assert b"Choose at least one event type." in response.content


def test_rotating_shows_the_new_secret_once(owner, tenant_a):
    endpoint = make_endpoint(tenant_a)
    old = endpoint.secret
    response = owner.post(detail_url(tenant_a, endpoint), {"action": "rotate"})
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret.encode() in response.content
    assert old.encode() not in response.content


def test_edit_disable_enable_and_delete(owner, tenant_a):
    endpoint = make_endpoint(tenant_a)
    url = detail_url(tenant_a, endpoint)
    saved = owner.post(
        url,
        {"action": "update", "url": PUBLIC_URL + "/v2", "event_types": ["strip.ready"]},
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == (PUBLIC_URL + "/v2", ["strip.ready"])
    bad = owner.post(url, {"action": "update", "url": "http://10.0.0.1/", "event_types": ["x"]})
    assert bad.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC_URL + "/v2"

    assert owner.post(url, {"action": "disable"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert b"Disabled since" in owner.get(url).content
    assert owner.post(url, {"action": "enable"}).status_code == 302
    assert WebhookEndpoint.objects.get().disabled_at is None

    assert owner.post(url, {"action": "nonsense"}).status_code == 400
    deleted = owner.post(url, {"action": "delete"})
    assert deleted.status_code == 302
    assert deleted["Location"] == list_url(tenant_a)
    assert not WebhookEndpoint.objects.exists()


def test_the_deliveries_log_shows_code_time_and_attempts(owner, tenant_a, settings):
    endpoint = make_endpoint(tenant_a)
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        organiser=tenant_a.organiser,
        message_id="msg_abc",
        event_type="capture.ready",
        payload={},
        status=WebhookDelivery.Status.SUCCEEDED,
        attempts=2,
        response_status=204,
        response_ms=87,
    )
    page = owner.get(detail_url(tenant_a, endpoint))
    text = page.content.decode()
    for shown in ("msg_abc", "capture.ready", "Succeeded", "204", "87 ms"):
        assert shown in text


def test_send_test_event_records_a_delivery(owner, tenant_a, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(tenant_a)
    # A target refused at send time: the attempt is made and recorded, with no network.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:9/")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(detail_url(tenant_a, endpoint), {"action": "test"})
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "webhook.test"
    assert (delivery.attempts, delivery.status) == (1, WebhookDelivery.Status.FAILED)
    assert "public address" in delivery.error
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0  # test events do not count


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MANAGER])
def test_lower_roles_get_403(tenant_a, role):
    endpoint = make_endpoint(tenant_a)
    client = Client()
    client.force_login(factories.make_member(tenant_a.organiser, role, username=f"as-{role}"))
    for url in (list_url(tenant_a), detail_url(tenant_a, endpoint)):
        assert client.get(url).status_code == 403
        assert client.post(url, {"action": "delete"}).status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_another_organisers_endpoint_answers_like_a_missing_one(tenant_a, tenant_b):
    endpoint = make_endpoint(tenant_a)
    client = Client()
    client.force_login(tenant_b.owner)
    slug_b = tenant_b.organiser.slug
    across = client.get(reverse("events:webhook", args=[slug_b, endpoint.public_id]))
    missing = client.get(reverse("events:webhook", args=[slug_b, uuid.uuid4()]))
    malformed = client.get(reverse("events:webhook", args=[slug_b, "not-a-uuid"]))
    assert across.status_code == missing.status_code == malformed.status_code == 404
    assert across.content == missing.content
    posted = client.post(
        reverse("events:webhook", args=[slug_b, endpoint.public_id]), {"action": "delete"}
    )
    assert posted.status_code == 404
    assert client.get(detail_url(tenant_a, endpoint)).status_code == 404
    assert WebhookEndpoint.objects.count() == 1
