"""The keyed hashes both ends must agree on: vectors and the card/phone separation."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire.identity import card_hash, card_label, card_text, national_number, phone_hash

KEY = "unit-test-fleet-phone-hash-key-000001"


def test_card_hash_vector_is_hmac_sha256_of_the_prefixed_text() -> None:
    expected = hmac.new(KEY.encode(), b"card:0012345678", hashlib.sha256).hexdigest()
    assert card_hash(KEY, "0012345678") == expected
    assert card_label(expected) == f"card:{expected[:8]}"


def test_a_card_number_that_looks_like_a_phone_number_hashes_differently() -> None:
    assert card_hash(KEY, "13812345678") != phone_hash(KEY, "13812345678")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("0012345678\r\n", "0012345678"),
        ("  04A1B2C3D4  ", "04A1B2C3D4"),
        ("https://q.example/m?a=Zx9", "https://q.example/m?a=Zx9"),
    ],
)
def test_card_text_keeps_case_and_leading_zeros(raw: str, text: str) -> None:
    assert card_text(raw) == text


@pytest.mark.parametrize("raw", ["", "123", "12 34 56", "卡号12345", "a" * 129, "\x1b[A1234"])
def test_card_text_refuses_what_no_reader_sends(raw: str) -> None:
    assert card_text(raw) is None


@given(st.text(max_size=200))
def test_card_text_never_raises_and_is_stable(raw: str) -> None:
    text = card_text(raw)
    assert text is None or card_text(text) == text


def test_national_number() -> None:
    assert national_number("+86 138-1234-5678") == "13812345678"
    assert national_number("12812345678") is None
