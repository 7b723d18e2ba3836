"""One caller, one identity: numbers in every form normalised to E.164 in a region, withheld and
alphanumeric callers as their own class, and which SIP header is believed (RFC 3325)."""

from __future__ import annotations

import pytest

from ivr.channels.caller_id import (
    CallerId, CallerIdError, CallerKind, IdentitySettings, check_region, normalize, voice_caller,
)
from ivr.sip.access import parse_networks
from ivr.sip.ua import SipIdentity


@pytest.mark.parametrize("raw", ["0501112233", "380501112233", "+380501112233", "00380501112233",
                                 "+38 (050) 111-22-33", " 050 111 22 33 "])
def test_one_ukrainian_number_in_every_form_is_one_caller(raw: str) -> None:
    caller = normalize(raw, "UA")
    assert (caller.e164, caller.kind, caller.key, caller.identified) == (
        "+380501112233", CallerKind.NUMBER, "+380501112233", True)
    assert caller.raw == raw.strip()


def test_the_region_reads_national_numbers_but_never_changes_an_international_one() -> None:
    assert normalize("0501112233", "PL").e164 != "+380501112233"
    assert normalize("+380501112233", "PL").e164 == "+380501112233"
    assert normalize("+15550201", "UA").e164 == "+15550201"          # short, but given with its country


@pytest.mark.parametrize("raw, kind, key", [
    ("", CallerKind.WITHHELD, "anonymous"), ("anonymous", CallerKind.WITHHELD, "anonymous"),
    ("Anonymous", CallerKind.WITHHELD, "anonymous"), ("unknown", CallerKind.WITHHELD, "anonymous"),
    ("restricted", CallerKind.WITHHELD, "anonymous"),
    ("PROMO", CallerKind.ALPHANUMERIC, "PROMO"), ("NovaPoshta", CallerKind.ALPHANUMERIC, "NovaPoshta"),
    ("12", CallerKind.INVALID, "12"), ("3838", CallerKind.INVALID, "3838"),
    ("=HYPERLINK(1)", CallerKind.ALPHANUMERIC, "=HYPERLINK(1)"),
])
def test_callers_without_a_number_are_their_own_class(raw: str, kind: CallerKind, key: str) -> None:
    caller = normalize(raw, "UA")
    assert (caller.kind, caller.key, caller.e164, caller.identified) == (kind, key, None, False)
    assert caller.variables() == {"number": key, "raw": raw, "kind": kind.value, "identified": False}


def test_regions_are_checked() -> None:
    assert check_region("ua") == "UA"
    with pytest.raises(CallerIdError):
        check_region("XX")


TRUNK = IdentitySettings("UA", parse_networks(["10.0.0.0/8"]))


def test_p_asserted_identity_is_believed_only_from_a_trusted_network() -> None:
    identity = SipIdentity("0501112233", ("+380671234567",))
    assert voice_caller(identity, "10.1.2.3", TRUNK).e164 == "+380671234567"       # the carrier asserts
    assert voice_caller(identity, "203.0.113.9", TRUNK).e164 == "+380501112233"    # anyone else: From
    assert voice_caller(identity, "10.1.2.3", IdentitySettings()).e164 == "+380501112233"  # nobody trusted


def test_privacy_id_withholds_the_caller() -> None:
    hidden = SipIdentity("anonymous", ("+380671234567",), frozenset({"id"}))
    caller = voice_caller(hidden, "10.1.2.3", TRUNK)
    assert caller == CallerId("+380671234567", None, CallerKind.WITHHELD) and caller.key == "anonymous"
    assert voice_caller(SipIdentity("0501112233", (), frozenset({"user"})), "1.2.3.4", TRUNK).key == "anonymous"


def test_a_campaign_region_overrides_the_nodes() -> None:
    identity = SipIdentity("0501112233")
    assert voice_caller(identity, "1.2.3.4", TRUNK, "UA").e164 == "+380501112233"
    assert voice_caller(identity, "1.2.3.4", TRUNK, "GB").e164 == "+44501112233"
