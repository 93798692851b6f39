"""An event's SMS settings in the console: the text, its preview and segments, countries."""

from __future__ import annotations

import pytest
from django.test import Client

from captures import services as capture_services
from events.models import Event
from events.roles import Role
from messaging import services
from tests import factories

pytestmark = pytest.mark.django_db

TEXT = "Thanks for coming! Your photos: {link}"


def url(tenant) -> str:
    return f"/console/{tenant.organiser.slug}/{tenant.event.slug}/sms/settings/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(tenant, client=None, **fields):
    data = {"sms_template": TEXT, "countries": ["GB"], "action": "save"} | fields
    return (client or signed_in(tenant.owner)).post(url(tenant), data)


def test_the_page_previews_the_default_text_with_a_real_length_link(tenant_a):
    page = signed_in(tenant_a.owner).get(url(tenant_a))
    assert page.status_code == 200
    link = services.example_share_link()
    session = factories.make_session(tenant_a.booth)
    assert len(link) == len(session.share_url())
    preview = f"Your photos from {tenant_a.event.name}: {link}"
    assert f'id="sms-preview" aria-labelledby="sms-preview-label">{preview}</p>' in page.text
    assert f'<span id="sms-count-units">{len(preview)}</span>' in page.text
    assert '<span id="sms-count-segments">1</span>' in page.text


def test_countries_default_to_the_organisers_country(tenant_a, settings):
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "IE", "FR"]
    page = signed_in(tenant_a.owner).get(url(tenant_a)).text
    assert 'value="GB" id="id_countries_0" checked' in page.replace('name="countries" ', "")
    assert "United Kingdom (+44)" in page
    assert "Ireland (+353)" in page
    assert page.count("checked") == 1
    assert "Not chosen yet: guests may now be texted in every country" in page


def test_the_organisers_own_country_is_ticked_when_the_platform_allows_it(tenant_a, settings):
    if not hasattr(tenant_a.organiser, "country"):
        pytest.skip("Organiser.country does not exist yet")
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "IE"]
    Event.objects.filter(pk=tenant_a.event.pk).update(sms_allowed_countries=[])
    type(tenant_a.organiser).objects.filter(pk=tenant_a.organiser.pk).update(country="IE")
    page = signed_in(tenant_a.owner).get(url(tenant_a)).text.replace('name="countries" ', "")
    assert 'value="IE" id="id_countries_1" checked' in page
    assert 'value="GB" id="id_countries_0" checked' not in page


def test_saving_stores_the_text_and_countries_and_the_guest_gets_that_text(tenant_a, settings):
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "IE"]
    owner = signed_in(tenant_a.owner)
    response = post(tenant_a, owner, countries=["GB", "IE"])
    assert response.status_code == 302
    event = Event.objects.get(pk=tenant_a.event.pk)
    assert (event.sms_template, event.sms_allowed_countries) == (TEXT, ["GB", "IE"])
    tenant_a.booth.refresh_from_db()  # its cached current_event predates the save
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    sms = services.queue_share_sms(tenant_a.booth, session, "+447400123456")
    assert sms.body == f"Thanks for coming! Your photos: {session.share_url()}"
    assert "Saved." in owner.get(url(tenant_a)).text


def test_the_text_must_hold_the_link(tenant_a):
    response = post(tenant_a, sms_template="Thanks for coming!")
    assert response.status_code == 400
    assert "Put {link} in the text" in response.text
    assert Event.objects.get(pk=tenant_a.event.pk).sms_template == ""


def test_the_link_only_once(tenant_a):
    response = post(tenant_a, sms_template="{link} and again {link}")
    assert response.status_code == 400
    assert "Use {link} once" in response.text


def test_more_than_three_segments_is_refused_with_the_count(tenant_a):
    response = post(tenant_a, sms_template="x" * 420 + " {link}")
    assert response.status_code == 400
    assert "This text takes 4 SMS" in response.text
    assert "at most 3 are allowed (459 characters)" in response.text
    assert 'class="sms-counter too-long"' in response.text
    assert Event.objects.get(pk=tenant_a.event.pk).sms_template == ""


def test_an_emoji_counts_as_ucs2(tenant_a):
    response = post(tenant_a, sms_template="Smile 🙂 {link}", action="preview")
    assert response.status_code == 200
    assert '<span id="sms-count-encoding">UCS-2</span>' in response.text
    assert '<span id="sms-non-gsm">🙂</span>' in response.text


def test_preview_renders_the_typed_text_and_saves_nothing(tenant_a):
    response = post(tenant_a, sms_template="Hi\r\n  there {link}", action="preview")
    assert response.status_code == 200
    assert f">Hi there {services.example_share_link()}</p>" in response.text
    assert Event.objects.get(pk=tenant_a.event.pk).sms_template == ""


def test_an_empty_text_saves_the_default(tenant_a):
    Event.objects.filter(pk=tenant_a.event.pk).update(sms_template=TEXT)
    assert post(tenant_a, sms_template="  ").status_code == 302
    assert Event.objects.get(pk=tenant_a.event.pk).sms_template == ""


def test_countries_outside_the_platform_list_and_none_are_refused(tenant_a, settings):
    settings.BOOTHSITE_SMS_COUNTRIES = ["GB", "IE"]
    foreign = post(tenant_a, countries=["US"])
    assert foreign.status_code == 400
    assert "Select a valid choice. US is not one of the available choices." in foreign.text
    none = signed_in(tenant_a.owner).post(url(tenant_a), {"sms_template": TEXT})
    assert none.status_code == 400
    assert "Choose at least one country." in none.text
    assert Event.objects.get(pk=tenant_a.event.pk).sms_allowed_countries == []


def test_the_page_says_which_account_sends(tenant_a):
    page = signed_in(tenant_a.owner).get(url(tenant_a)).text
    assert "Sent through Boothsite's Vonage account" in page


def test_managers_may_change_it_viewers_only_see_it_others_404(tenant_a, tenant_b):
    manager = factories.make_member(tenant_a.organiser, Role.MANAGER, username="manager-a")
    assert signed_in(manager).get(url(tenant_a)).status_code == 200
    data = {"sms_template": TEXT, "countries": ["GB"]}
    seen = signed_in(tenant_a.viewer).get(url(tenant_a))
    assert seen.status_code == 200
    html = seen.content.decode()
    assert "an owner or a manager can change them" in html
    assert 'value="save"' not in html
    assert all(field.disabled for field in seen.context["form"].fields.values())
    assert signed_in(tenant_a.viewer).post(url(tenant_a), data).status_code == 403
    outsider = signed_in(tenant_b.owner)
    assert outsider.get(url(tenant_a)).status_code == 404
    assert outsider.post(url(tenant_a), data).status_code == 404
    assert outsider.get(f"/console/{tenant_a.organiser.slug}/nope/sms/settings/").status_code == 404
    assert Event.objects.get(pk=tenant_a.event.pk).sms_template == ""


def test_anonymous_visitors_are_sent_to_sign_in(tenant_a):
    response = Client().get(url(tenant_a))
    assert response.status_code == 302
    assert "login" in response["Location"]
