"""Text normalisation before storage."""

from __future__ import annotations

from service.moderation.text import normalise_line, normalise_text


def test_nfkc_and_cleanup():
    assert normalise_text("ﬁne Ｔｅｘｔ") == "fine Text"
    assert normalise_text("a\x00b\x07c") == "abc"
    assert normalise_text("evil\u202etxt.exe") == "eviltxt.exe"
    assert normalise_text("line\r\nnext\rthird") == "line\nnext\nthird"
    assert normalise_text("a\n\n\n\n\nb") == "a\n\nb"


def test_zalgo_is_capped_but_accents_survive():
    zalgo = "Z" + "\u0336\u0337\u0338\u0339\u033a\u033b" * 5 + "a"
    assert normalise_text(zalgo) == "Z\u0336\u0337\u0338a"
    assert normalise_text("café ñandú Ελληνικά العربية 日本語") == "café ñandú Ελληνικά العربية 日本語"


def test_one_line_fields_fold_white_space():
    assert normalise_line("  Ada \n  Lovelace\t") == "Ada Lovelace"
