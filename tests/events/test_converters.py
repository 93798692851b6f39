"""Console paths: an event's slug never shadows a fixed console page."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve, reverse

from events.converters import RESERVED_CONSOLE_WORDS


@pytest.mark.parametrize("word", sorted(RESERVED_CONSOLE_WORDS))
def test_reserved_words_never_resolve_to_an_event(word):
    try:
        match = resolve(f"/console/acme/{word}/")
    except Resolver404:
        return
    assert match.url_name != "event-detail"


def test_other_slugs_resolve_to_the_event():
    path = reverse("events:event-detail", args=["acme", "summer-party"])
    assert path == "/console/acme/summer-party/"
    assert resolve(path).kwargs == {"organiser_slug": "acme", "event_slug": "summer-party"}
