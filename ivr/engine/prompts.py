"""The engine's prompt source: campaign prompts made at load time, looked up during calls."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ivr.flow.interpreter import Prompt
from ivr.flow.model import Campaign, prompts_of
from ivr.media.prompts import PromptCache

log = logging.getLogger(__name__)


class CachedPrompts:
    def __init__(self, directory: Path) -> None:
        self.cache = PromptCache(directory)

    async def prepare(self, campaigns: list[Campaign], parallel: int = 2) -> None:
        """Make every fixed prompt of the campaigns (templated ones are made on first use)."""
        wanted = sorted({(lang, text) for c in campaigns for lang, text in prompts_of(c) if "{{" not in text})
        semaphore = asyncio.Semaphore(parallel)

        async def one(language: str, text: str) -> None:
            async with semaphore:
                await self.cache.make_async(text, language)
        await asyncio.gather(*(one(lang, text) for lang, text in wanted))
        log.info("prompts ready: %d (%d generated now)", len(wanted), self.cache.generated)

    def lookup(self, prompt: Prompt) -> bytes | None:
        if prompt.text is None:
            return b""
        return self.cache.lookup(prompt.text, prompt.language, prompt.voice)

    async def render(self, prompt: Prompt) -> bytes:
        if prompt.text is None:
            return b""
        return await self.cache.make_async(prompt.text, prompt.language, prompt.voice)
