import sys
import unicodedata

import pytest

from bot.core.normalize import _FORMAT_CHARACTERS, normalize


def test_every_invisible_format_character_is_removed():
    format_characters = [
        chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"
    ]
    assert [c for c in format_characters if not _FORMAT_CHARACTERS.fullmatch(c)] == []


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("What’s the **PCL-5**??", "whats the pcl 5"),
        ("<@123456> how fast does it work", "how fast does it work"),
        ("<@!123> <@&456> <#789> hi", "hi"),
        ("<!channel> <!here> <@U0123ABC> <#C123|general> hi", "hi"),
        ("see https://example.com/a?b=c and www.example.org ok", "see and ok"),
        ("ｆｕｌｌ　ｗｉｄｔｈ", "full width"),
        ("ki\u200bll my\u00adself", "kill myself"),
        ("75% improved", "75 percent improved"),
        ("🙂🙂", ""),
        ("مرحبا كيف", "مرحبا كيف"),
        ("  lots   of\tspace\n", "lots of space"),
        ("KETAMINE", "ketamine"),
    ],
)
def test_normalize(raw: str, expected: str):
    assert normalize(raw) == expected
