"""Who the caller is: one number, one identity, by voice and by SMS alike.

`normalize(raw, region)` turns what the network sent (`0501112233`, `380501112233`, `+380501112233`,
`anonymous`, `PROMO`) into a `CallerId`: the raw text, the E.164 number when there is one, and its
`CallerKind`. Numbers are read with Google's libphonenumber (the `phonenumbers` package, the library
carriers and most telephony platforms use): a number in national form is read in `region` (the
campaign's `region`, else the node's `--region`); a number given with `+` keeps its country whatever
the region. A national number must have a length its country's plan allows (`is_possible_number`);
number ranges are not checked, so newly opened ranges still work.

Callers that cannot be normalised are their own class (`identified` is False): withheld (anonymous,
unknown, private, an empty From, `Privacy: id`), alphanumeric senders (SMS from "BANK") and text that
is no possible number. Their `key` is "anonymous" for every withheld caller (they count as one caller)
and the raw text for the others. Campaigns decide whether they take part in votes and codes
(`callers.unidentified`, see docs/dialplans.md).

`voice_caller(identity, source, settings, region)` decides which SIP header names the caller: the
P-Asserted-Identity (RFC 3325) only when the request came from a network the node trusts
(`--trust-identity-from`), else the From header, the caller's own claim; `Privacy: id` withholds it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

import phonenumbers

from ivr.sip.access import AllowList, Network
from ivr.sip.ua import SipIdentity

DEFAULT_REGION = "UA"
ANONYMOUS = "anonymous"
MAX_KEY = 64                     # the store's caller columns
MAX_RAW = 128
WITHHELD = frozenset({"", "anonymous", "unknown", "unavailable", "restricted", "private", "withheld",
                      "anonymous.invalid", "unknown.invalid", "none", "null", "0"})
_SEPARATORS = re.compile(r"[\s().\-/]")


class CallerKind(Enum):
    """What the network told us of the caller."""

    NUMBER = "number"                # normalised to E.164
    WITHHELD = "withheld"            # anonymous, unknown, private, Privacy: id
    ALPHANUMERIC = "alphanumeric"    # a sender name (SMS)
    INVALID = "invalid"              # digits that are no possible number


@dataclass(frozen=True)
class CallerId:
    """One caller: what the network sent, the E.164 number (None when there is none) and its kind."""

    raw: str
    e164: str | None
    kind: CallerKind

    @property
    def identified(self) -> bool:
        return self.e164 is not None

    @property
    def key(self) -> str:
        """Whose calls, votes and limits count together: the E.164 number, "anonymous" for every withheld
        caller, else the raw text."""
        if self.e164 is not None:
            return self.e164
        if self.kind is CallerKind.WITHHELD:
            return ANONYMOUS
        return self.raw[:MAX_KEY]

    def variables(self) -> dict[str, Any]:
        """`caller.*` for the flow: number (the key), raw, kind and whether the caller is identified."""
        return {"number": self.key, "raw": self.raw, "kind": self.kind.value, "identified": self.identified}


class CallerIdError(ValueError):
    """A region code the number library does not know."""


def check_region(region: str) -> str:
    """The region code (ISO 3166 alpha-2, upper case) if libphonenumber knows it; CallerIdError otherwise."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise CallerIdError(f"unknown region {region!r}: expected a country code such as UA, PL or GB")
    return code


@functools.lru_cache(maxsize=65536)
def normalize(raw: str, region: str = DEFAULT_REGION) -> CallerId:
    """The caller behind `raw` (a From user, a tel: number, an SMS sender), numbers read in `region`."""
    text = (raw or "").strip()[:MAX_RAW]
    bare = _SEPARATORS.sub("", text)
    if bare.lower() in WITHHELD or bare.lower().startswith("anonymous"):
        return CallerId(text, None, CallerKind.WITHHELD)
    if any(c.isalpha() for c in bare):
        return CallerId(text, None, CallerKind.ALPHANUMERIC)
    if bare.startswith("00"):
        bare = "+" + bare[2:]                       # international prefix written out
    try:
        number = phonenumbers.parse(bare, region)
    except phonenumbers.NumberParseException:
        return CallerId(text, None, CallerKind.INVALID)
    known_country = phonenumbers.region_code_for_country_code(number.country_code) != "ZZ"
    fits = phonenumbers.is_possible_number(number) or (bare.startswith("+") and 4 <= len(bare) <= 16)
    if not known_country or not fits:
        return CallerId(text, None, CallerKind.INVALID)
    return CallerId(text, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                    CallerKind.NUMBER)


@dataclass(frozen=True)
class IdentitySettings:
    """The node's identity policy: the default region and the networks whose P-Asserted-Identity is taken."""

    region: str = DEFAULT_REGION
    trusted: tuple[Network, ...] = ()

    @functools.cached_property
    def _trusted(self) -> AllowList:
        return AllowList(self.trusted)

    def trusts(self, host: str) -> bool:
        """Whether `host` may assert identities (never when no network is configured)."""
        return bool(self.trusted) and self._trusted.permits(host)


def voice_caller(identity: SipIdentity, source_host: str, settings: IdentitySettings,
                 region: str | None = None) -> CallerId:
    """The caller of a SIP call: the asserted identity from a trusted network, else the From user;
    withheld when the request asks for privacy (`Privacy: id` or `user`) or the From is anonymous."""
    region = region or settings.region
    trusted = settings.trusts(source_host)
    claimed = identity.asserted[0] if trusted and identity.asserted else identity.from_user
    if identity.privacy & {"id", "user"}:
        return CallerId(claimed[:MAX_RAW], None, CallerKind.WITHHELD)
    if trusted and identity.asserted:
        return _first_number(identity.asserted, region)
    return normalize(identity.from_user, region)


def _first_number(candidates: tuple[str, ...], region: str) -> CallerId:
    """RFC 3325 allows one sip: and one tel: identity: the first that is a number, else the first."""
    found = [normalize(c, region) for c in candidates]
    return next((c for c in found if c.identified), found[0])
