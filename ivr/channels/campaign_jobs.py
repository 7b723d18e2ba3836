"""Reading, validating and simulating campaign files in a worker process with CPU and memory caps.

A campaign file comes from a business and may be hostile: a YAML document can cost seconds of CPU (a
megabyte of keys, a 100,000-code pool) or gigabytes of memory, and the event loop that paces every
call's media must never wait on it. So each job runs in a fresh child process (forked from a small
`forkserver` that has this module imported: a few milliseconds per job) which puts itself in the idle scheduling
class (`SCHED_IDLE`: it runs only on CPU time nothing else wants, so a busy node's media clock always
comes first; nice 10 where that class is refused) and caps itself with `resource.setrlimit`: CPU time (`RLIMIT_CPU`, the kernel stops it
with SIGXCPU) and address space (`RLIMIT_AS`, past which allocations fail). The parent also stops a
child that runs longer than `wall_seconds` (a webhook of a simulation that never answers). A job
past a limit ends in `JobFailed`, whose message says which limit: the API answers 422 with it. The
parent waits in a thread; at most `concurrency` jobs run at once, the others queue.

Results come back pickled: a `Campaign` (with its code pools), a simulation transcript, or a file's
diagram (`ivr.flow.diagram`). A file with problems comes back as `InvalidCampaign`: its issues and the
diagram of what could be read, with the nodes the issues are in marked.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ivr.flow.diagram import Diagram, diagram
from ivr.flow.loader import load_campaign, read_document
from ivr.flow.model import Campaign
from ivr.flow.validate import DialplanError, Issue
from ivr.i18n import Message, t, tn

CPU_SECONDS = 10                 # of CPU a job may use
MEMORY_MIB = 512                 # of address space a job may add to what it starts with
WALL_SECONDS = 60.0              # a simulation may wait for webhooks, within this
CONCURRENCY = 2                  # jobs at once; more wait their turn
MAX_ISSUES = 100                 # issues reported for one file (a megabyte of unknown keys is one problem)
NICE = 10


class JobFailed(Exception):
    """A job stopped at a limit or failed; the message is for the one who sent the file."""


class InvalidCampaign(DialplanError):
    """A campaign file with problems, and the diagram of what could be read (None: nothing could)."""

    def __init__(self, issues: list[Issue], filename: str, graph: Diagram | None) -> None:
        super().__init__(issues, filename)
        self.diagram = graph


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = CPU_SECONDS
    memory_mib: int = MEMORY_MIB
    wall_seconds: float = WALL_SECONDS


def _load(text: str, filename: str, base_dir: str | None) -> Campaign:
    campaign = load_campaign(text, filename, Path(base_dir) if base_dir else None)
    if campaign.code_pools:          # the document's pools are the campaign's: pickled (and sent) once
        campaign.source["code_pools"] = campaign.code_pools
    return campaign


def _simulate(text: str, filename: str, base_dir: str | None, channel: str, inputs: list[str], caller: str,
              allow_private: bool, secret: str | None) -> dict[str, Any]:
    from ivr.flow.interpreter import FlowError
    from ivr.flow.simulator import ScriptError

    from .dry_run import dry_run
    from .webhooks import WebhookClient

    campaign = _load(text, filename, base_dir)
    http = WebhookClient(allow_private, campaign.webhook_secret or secret)
    try:
        return asyncio.run(dry_run(campaign, channel, inputs, caller=caller, http=http)).as_dict()
    except (ScriptError, FlowError) as exc:
        raise JobFailed(str(exc)) from None


def _diagram(text: str, issues: list[Issue] = ()) -> Diagram | None:
    document = read_document(text)
    return diagram(document, [(i.path, i.message) for i in issues]) if isinstance(document, dict) else None


JOBS = {"load": _load, "simulate": _simulate, "diagram": _diagram}
WHAT = {"load": t("reading the file"), "simulate": t("the simulation"), "diagram": t("drawing the file")}


def _vm_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _lowest_priority() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(NICE)


def _child(conn: Connection, limits: Limits, job: str, args: tuple) -> None:
    """The worker: cap itself, run the job, send ("ok", result) or why not."""
    try:
        _lowest_priority()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        memory = _vm_bytes() + limits.memory_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        conn.send(("ok", JOBS[job](*args)))
    except DialplanError as exc:
        issues = exc.issues[:MAX_ISSUES]
        if len(exc.issues) > MAX_ISSUES:
            issues.append(Issue("", tn("and {n} more problem", "and {n} more problems", len(exc.issues) - MAX_ISSUES)))
        graph = _diagram(args[0], issues) if job == "load" else None
        conn.send(("invalid", issues, exc.filename, graph))
    except MemoryError:
        conn.send(("memory",))
    except JobFailed as exc:
        conn.send(("failed", str(exc)))
    except RecursionError:
        conn.send(("failed", "the file is nested too deeply"))
    except Exception as exc:                      # a bug or a library's error: still the uploader's answer
        conn.send(("failed", f"the file could not be read: {type(exc).__name__}"))
    finally:
        conn.close()


class CampaignJobs:
    """Runs campaign jobs in capped child processes (see the module docstring)."""

    def __init__(self, limits: Limits = Limits(), concurrency: int = CONCURRENCY) -> None:
        self.limits = limits
        self._context = multiprocessing.get_context("forkserver")
        # Each child imports the parent's main module again (multiprocessing's rule): preloaded in the
        # fork server, that costs it only the module's own body (`ivr serve`: ivr.cli).
        main = getattr(sys.modules["__main__"], "__spec__", None)
        self._context.set_forkserver_preload([__name__] + ([main.name] if main is not None else []))
        self._slots = asyncio.Semaphore(concurrency)

    async def load(self, text: str, filename: str, base_dir: Path | None = None) -> Campaign:
        """Parse and validate a campaign file: the Campaign, InvalidCampaign listing its issues, or JobFailed."""
        return await self._run("load", (text, filename, str(base_dir) if base_dir else None))

    async def simulate(self, text: str, filename: str, base_dir: Path | None, channel: str, inputs: list[str],
                       caller: str, allow_private: bool = False, secret: str | None = None) -> dict[str, Any]:
        """A dry run of the file with scripted inputs (`ivr.channels.dry_run`): the transcript as a dict;
        JobFailed with the script's problem or a limit."""
        return await self._run("simulate", (text, filename, str(base_dir) if base_dir else None, channel,
                                            list(inputs), caller, allow_private, secret))

    async def diagram(self, text: str) -> Diagram | None:
        """The diagram of a campaign file (None when it cannot be read as YAML or JSON); JobFailed past a limit."""
        return await self._run("diagram", (text,))

    async def _run(self, job: str, args: tuple) -> Any:
        async with self._slots:
            return await asyncio.to_thread(self._run_blocking, job, args)

    def _run_blocking(self, job: str, args: tuple) -> Any:
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_child, args=(sender, self.limits, job, args), daemon=True)
        process.start()
        sender.close()
        message: tuple | None = None
        timed_out = False
        try:
            if receiver.poll(self.limits.wall_seconds):
                try:
                    message = receiver.recv()
                except (EOFError, OSError):
                    message = None
            else:
                timed_out = True
        finally:
            if process.is_alive():
                process.join(1.0)
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()
        return self._answer(WHAT[job], message, process.exitcode, timed_out)

    def _answer(self, what: Message, message: tuple | None, exitcode: int | None, timed_out: bool) -> Any:
        limits = self.limits
        if message is None:
            if timed_out:
                raise JobFailed(t("{what} took longer than {seconds} s: it was stopped", what=what,
                                   seconds=format(limits.wall_seconds, "g")))
            if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
                raise JobFailed(t("{what} took more than {seconds} s of CPU: it was stopped", what=what,
                                   seconds=limits.cpu_seconds))
            raise JobFailed(t("{what} failed (worker exit {code})", what=what, code=exitcode))
        kind = message[0]
        if kind == "ok":
            return message[1]
        if kind == "invalid":
            raise InvalidCampaign(message[1], message[2], message[3])
        if kind == "memory":
            raise JobFailed(t("{what} needs more than {mib} MiB of memory: it was stopped", what=what,
                               mib=limits.memory_mib))
        raise JobFailed(message[1])
