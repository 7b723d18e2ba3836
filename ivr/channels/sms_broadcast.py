"""SMS broadcasts: an outbound campaign on the SMS channel sends its text (with `{{contact.*}}` filled in)
to each number of its audience through the outbox, so the messages go over the SMPP links (or the HTTP
gateway) like every other, are charged per part when queued (`outbox.enqueue`) and never reach a number
on the block list. The audience, pace, opt-out, retries and progress are the outbound queue's
(`ivr.store.outbound`, `dialer.Dialer`); one loop ticks the dialer, and a tick's messages are queued in
one store write. A number's result is "sent" once its message is queued (its delivery is the outbox's,
with receipts), "opted_out" when the block list stopped it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ivr.flow import templates
from ivr.store.outbound import Claimed, Outbound

from .dialer import Dialled, Dialer
from .sms_outbox import outbound as outbound_sms

log = logging.getLogger("ivr.outbound")

TICK = 0.02                 # seconds between the dialer's ticks
RATE = 200.0                # messages queued per second by this node, all broadcasts (the links pace the rest)
CONCURRENT = 1000
LEASE = 60.0                # seconds a claimed number may wait to be queued


class SmsSender:
    """The dialer's SMS channel: a tick's messages are queued together in the outbox."""

    channel = "sms"

    def __init__(self, store: Any, route: str, wake: Callable[[], None]) -> None:
        self.store = store
        self.route = route
        self.wake = wake
        self._batch: list[tuple[Any, Callable[[Dialled], None]]] = []

    def ready(self, outbound: Outbound) -> bool:
        return bool(outbound.text)

    def send(self, outbound: Outbound, claimed: Claimed, done: Callable[[Dialled], None]) -> None:
        contact = {"number": claimed.recipient, **claimed.variables}
        text = templates.render(outbound.text or "", {"contact": contact})
        message = outbound_sms(number=outbound.number, recipient=claimed.recipient, text=text, kind="broadcast",
                               route=self.route, campaign_id=outbound.campaign_id)
        self._batch.append((message, done))

    def flush(self):
        if not self._batch:
            return None
        batch, self._batch = self._batch, []
        return self._enqueue(batch)

    async def _enqueue(self, batch: list[tuple[Any, Callable[[Dialled], None]]]) -> None:
        try:
            states = await self.store.sms_enqueue([message for message, _ in batch])
        except Exception as exc:
            log.warning("SMS broadcast: %d messages not queued: %s", len(batch), exc)
            for _, done in batch:
                done(Dialled("", "failed", None))
            return
        self.wake()
        for (message, done), state in zip(batch, states):
            done(Dialled(message.id, "opted_out" if state == "blocked" else "sent", None))


class SmsBroadcasts:
    """The SMS broadcasts of one node: the dialer and the loop that ticks it."""

    def __init__(self, store: Any, route: str, wake: Callable[[], None], node: str) -> None:
        self.dialer = Dialer(store, SmsSender(store, route, wake), node=f"{node}/sms", rate=RATE,
                             concurrent=CONCURRENT, lease=LEASE, clock=self._now)
        self._task: asyncio.Task | None = None

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        await self.dialer.start()
        tick = 0
        while True:
            self.dialer.on_tick(tick, self._now())
            tick += 1
            await asyncio.sleep(TICK)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.dialer.stop()
