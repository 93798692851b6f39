"""SMS segments: GSM-7 (160/153), its extension table, UCS-2 (70/67) and the boundaries."""

from __future__ import annotations

import pytest

from messaging import segments
from messaging.segments import GSM7, UCS2, count_segments


def test_plain_text_is_gsm7_with_its_length_in_septets():
    count = count_segments("Your photos: https://booth.example.com/s/abc/")
    assert (count.encoding, count.units, count.segments) == (GSM7, 45, 1)
    assert count.remaining == 160 - 45
    assert count.non_gsm == ()


def test_accented_letters_of_the_basic_table_stay_gsm7():
    assert count_segments("Café Müller, Año à Sèvres ¿Qué? £5 ¥ § ΔΩ").encoding == GSM7
    count = count_segments("São Paulo, Málaga")  # ã and á are not in GSM 03.38
    assert count.encoding == UCS2
    assert count.non_gsm == ("ã", "á")


@pytest.mark.parametrize("char", list("€[]{}\\^~|"))
def test_extension_characters_count_two_septets(char):
    count = count_segments("a" + char)
    assert (count.encoding, count.units) == (GSM7, 3)


@pytest.mark.parametrize(
    ("length", "expected"), [(1, 1), (159, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_gsm7_boundaries(length, expected):
    count = count_segments("x" * length)
    assert count.segments == expected
    assert count.per_segment == (160 if expected == 1 else 153)


def test_an_extension_character_at_160_makes_two_segments():
    assert count_segments("x" * 158 + "€").segments == 1  # 160 septets
    assert count_segments("x" * 159 + "€").segments == 2  # 161 septets


def test_an_escape_pair_is_never_split_between_parts():
    # 152 septets, then € (2): it cannot end part one, so part two starts with it.
    count = count_segments("x" * 152 + "€" + "x" * 152)
    assert count.units == 306
    assert count.segments == 3
    assert count_segments("x" * 151 + "€" + "x" * 153).segments == 2


def test_an_emoji_switches_to_ucs2_and_counts_two_units():
    count = count_segments("Smile 🙂")
    assert (count.encoding, count.units, count.segments) == (UCS2, 8, 1)
    assert count.non_gsm == ("🙂",)
    assert count.remaining == 70 - 8


@pytest.mark.parametrize(
    ("length", "expected"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_ucs2_boundaries(length, expected):
    count = count_segments("ç" * length)  # ç (lower case) is not in GSM 03.38
    assert (count.encoding, count.segments) == (UCS2, expected)
    assert count.per_segment == (70 if expected == 1 else 67)


def test_emoji_boundary_at_70_units():
    assert count_segments("🙂" * 35).segments == 1  # 70 code units
    assert count_segments("🙂" * 35 + "a").segments == 2


def test_a_surrogate_pair_is_never_split_between_parts():
    # 66 units, then an emoji (2): part one ends at 66, part two starts with the emoji.
    assert count_segments("ç" * 66 + "🙂" + "ç" * 66).segments == 3  # 134 units
    assert count_segments("ç" * 65 + "🙂" + "ç" * 67).segments == 2


def test_empty_text_takes_no_segment():
    count = count_segments("")
    assert (count.segments, count.units, count.encoding) == (0, 0, GSM7)


def test_is_unicode():
    assert segments.is_unicode("Thanks 🙏")
    assert not segments.is_unicode("Thanks {link} €")
