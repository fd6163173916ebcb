"""Phone numbers: what is accepted, the keyed hash central and stations share, the masks."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.people.phone import PhoneKey, label, mask, normalise, phone_hash
from station.refusals import Refusal


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "008613812345678",
        "8613812345678",
        " 13812345678 ",
        "(138) 1234-5678",
    ],
)
def test_the_ways_people_type_a_number(typed: str) -> None:
    assert normalise(typed) == "13812345678"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1381234567",
        "138123456789",
        "12812345678",
        "23812345678",
        "1381234567a",
        "+1 415 555 0100",
        "010-12345678",
        "86 12345678901",
    ],
)
def test_not_a_mobile_number_is_refused_without_repeating_it(typed: str) -> None:
    with pytest.raises(Refusal) as err:
        normalise(typed)
    assert err.value.code == "invalid" and err.value.extra == {"field": "phone"}
    digits = "".join(ch for ch in typed if ch.isdigit())
    assert not digits or digits not in err.value.message


def test_keyed_hash_is_hmac_sha256_of_the_11_digits() -> None:
    key = "fleet-key-for-the-vector-test-0000001"
    expected = hmac.new(key.encode(), b"13812345678", hashlib.sha256).hexdigest()
    assert phone_hash(key, "13812345678") == expected
    # a fixed vector, so a change of algorithm (which would split the fleet) fails loudly
    assert expected == "a914265a6f23fb1dac45b9b570e38d06e1cda17327f6185e2a5d49b5c040e4f8"


def test_same_number_same_id_whatever_the_typing_and_other_keys_differ() -> None:
    a = PhoneKey("k" * 40).identify("+86 138 1234 5678")
    b = PhoneKey("k" * 40).identify("13812345678")
    c = PhoneKey("j" * 40).identify("13812345678")
    assert a == b
    assert a.hash != c.hash
    assert (a.prefix3, a.last4, a.masked) == ("138", "5678", "138****5678")
    assert a.label == f"member:{a.hash[:8]}/5678"
    assert "kkkk" not in repr(PhoneKey("k" * 40))


def test_mask_and_label() -> None:
    assert mask("139", "0000") == "139****0000"
    assert label("abcdef0123456789", "1234") == "member:abcdef01/1234"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_valid_number_normalises_to_itself_and_never_shows_in_its_id(number: str) -> None:
    pid = PhoneKey("property-test-key-000000000000000001").identify(number)
    assert normalise(number) == number
    assert number not in pid.hash + pid.masked + pid.label
