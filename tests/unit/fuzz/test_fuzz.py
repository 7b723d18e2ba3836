"""Property tests: random and mutated input to the SIP, SDP, RTP, RFC 4733 and campaign parsers.

Hypothesis' default example count keeps this quick; `bench/fuzz.py SECONDS` runs the same
properties for longer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from .properties import PROPERTIES


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_only_typed_errors_escape(name: str) -> None:
    prop = PROPERTIES[name]
    run = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])(
        given(prop.strategy)(prop.check))
    run()
