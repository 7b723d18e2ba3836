"""The campaigns a node runs, by short number: loaded from the dialplans folder at start."""

from __future__ import annotations

import logging
from pathlib import Path

from ivr.flow.model import Campaign
from ivr.flow.validate import DialplanError, load_file

log = logging.getLogger(__name__)


class CampaignRegistry:
    def __init__(self, directory: Path, variables: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.variables = variables or {}
        self._by_id: dict[str, Campaign] = {}
        self._by_voice: dict[str, Campaign] = {}
        self._by_sms: dict[str, Campaign] = {}

    def load(self) -> None:
        """Load every *.yaml/*.yml/*.json file; an invalid file is logged and skipped, never half-loaded."""
        files = sorted(p for ext in ("*.yaml", "*.yml", "*.json") for p in self.directory.glob(ext))
        for path in files:
            try:
                self.add(load_file(path))
            except DialplanError as exc:
                log.error("campaign file not loaded: %s", exc)

    def add(self, campaign: Campaign) -> None:
        campaign.variables.update(self.variables)
        self._by_id[campaign.id] = campaign
        for number in campaign.voice_numbers:
            self._by_voice[number] = campaign
        for number in campaign.sms_numbers:
            self._by_sms[number] = campaign

    def get(self, campaign_id: str) -> Campaign:
        return self._by_id[campaign_id]

    def for_number(self, number: str | None) -> Campaign | None:
        return self._by_voice.get(number or "")

    def for_sms_number(self, number: str | None) -> Campaign | None:
        return self._by_sms.get(number or "")

    def all(self) -> list[Campaign]:
        return list(self._by_id.values())

    def numbers(self) -> list[str]:
        return list(self._by_voice)
