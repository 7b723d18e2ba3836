"""GSM 03.38 or UCS-2, part counts (what operators charge for) and the concatenation header."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.channels.smpp.encoding import (DC_DEFAULT, DC_UCS2, ESM_UDHI, EncodingError, Segment, decode, encode,
                                        split_udh)


@pytest.mark.parametrize("text, coding, parts", [
    ("Hello", DC_DEFAULT, 1),
    ("x" * 160, DC_DEFAULT, 1),
    ("x" * 161, DC_DEFAULT, 2),                 # 153 a part once it is long
    ("x" * 306, DC_DEFAULT, 2),
    ("x" * 307, DC_DEFAULT, 3),
    ("€" * 80, DC_DEFAULT, 1),                  # the extension table: two septets each
    ("€" * 81, DC_DEFAULT, 2),
    ("Привіт", DC_UCS2, 1),
    ("ї" * 70, DC_UCS2, 1),
    ("ї" * 71, DC_UCS2, 2),                     # 67 a part once it is long
    ("ї" * 134, DC_UCS2, 2),
    ("ї" * 135, DC_UCS2, 3),
    ("x" * 159 + "ї", DC_UCS2, 3),              # one Cyrillic letter makes the whole text UCS-2
])
def test_coding_and_part_count(text: str, coding: int, parts: int) -> None:
    encoded = encode(text, reference=7)
    assert (encoded.data_coding, encoded.count) == (coding, parts)
    assert encoded.esm_class == (ESM_UDHI if parts > 1 else 0)


def test_parts_carry_one_reference_and_their_numbers() -> None:
    encoded = encode("ї" * 135, reference=300)       # references are one octet
    assert [p[:6] for p in encoded.parts] == [bytes([5, 0, 3, 300 & 0xFF, 3, n]) for n in (1, 2, 3)]
    assert all(len(p) <= 140 for p in encoded.parts)


def test_an_escape_is_never_split_from_its_character() -> None:
    encoded = encode("x" * 152 + "€" + "y" * 10, reference=1)
    assert encoded.parts[0][6:] == b"x" * 152 and encoded.parts[1][6:8] == b"\x1be"


def test_a_surrogate_pair_is_never_split() -> None:
    encoded = encode("ї" * 66 + "🙂" + "ї" * 10, reference=1)
    first = encoded.parts[0][6:]
    assert len(first) == 132 and first.decode("utf-16-be") == "ї" * 66


def test_too_long_is_refused() -> None:
    with pytest.raises(EncodingError):
        encode("x" * 153 * 256, reference=1)


@given(st.text(max_size=500))
def test_what_is_split_joins_back(text: str) -> None:
    encoded = encode(text, reference=9)
    payloads = [split_udh(p)[1] if encoded.esm_class else p for p in encoded.parts]
    assert "".join(decode(p, encoded.data_coding) for p in payloads) == text


def test_received_headers_8_and_16_bit_and_other_elements() -> None:
    assert split_udh(bytes([5, 0, 3, 9, 2, 1]) + b"ab") == (Segment(9, 2, 1), b"ab")
    assert split_udh(bytes([6, 8, 4, 1, 2, 3, 3]) + b"c") == (Segment(258, 3, 3), b"c")
    assert split_udh(bytes([4, 0x24, 2, 0, 1]) + b"d") == (None, b"d")        # another element only
    with pytest.raises(EncodingError):
        split_udh(bytes([9, 0, 3]))


def test_decoding_of_other_codings() -> None:
    assert decode("Öre".encode("latin-1"), 3) == "Öre"
    assert decode("Тест".encode("utf-16-be"), 8) == "Тест"
    assert decode(b"Hi \x1be", 0) == "Hi €"
    assert decode(b"ok", 0xF0) == "ok"
