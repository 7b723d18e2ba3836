"""The audit log: who changed what (uploads, activations, keys, tenants, numbers, recordings, the number
inventory, leases and tariffs).

`record` adds an entry inside the Session of the change it describes, so the change and its record
commit together or not at all. `Actor` says who: an API key (its id, tenant and role), the command
line (`cli`, with the OS user) or the node itself (`node`, e.g. seeding the demo campaigns).
Entries are never changed or deleted by the application.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditRow

MAX_LIMIT = 500


class Action(StrEnum):
    """What was changed."""

    TENANT_CREATED = "tenant.create"
    KEY_CREATED = "key.create"
    KEY_REVOKED = "key.revoke"
    VERSION_UPLOADED = "version.upload"
    VERSION_ACTIVATED = "version.activate"
    NUMBER_ASSIGNED = "number.assign"
    NUMBER_RELEASED = "number.release"
    RECORDING_UPLOADED = "recording.upload"
    VOICE_PACK_CHANGED = "voice_pack.change"
    VOICE_PACK_DELETED = "voice_pack.delete"
    CAMPAIGN_PAUSED = "campaign.pause"
    CAMPAIGN_RESUMED = "campaign.resume"
    CAMPAIGN_END_SET = "campaign.end"
    CAMPAIGN_ARCHIVED = "campaign.archive"
    CAMPAIGN_DELETED = "campaign.delete"
    POOL_CREATED = "pool.create"
    CODES_IMPORTED = "codes.import"
    DRAW_FROZEN = "draw.freeze"
    DRAW_DRAWN = "draw.draw"
    DRAW_NOTIFIED = "draw.notify"
    INVENTORY_ADDED = "inventory.add"
    INVENTORY_CHANGED = "inventory.change"
    INVENTORY_REMOVED = "inventory.remove"
    LEASE_CREATED = "lease.create"
    LEASE_ENDED = "lease.end"
    TARIFF_SET = "tariff.set"
    TARIFF_ENDED = "tariff.end"


@dataclass(frozen=True)
class Actor:
    """Who made a change: an API key's id, tenant and role; or `cli`/`node` without a key."""

    role: str
    key_id: str | None = None
    tenant_id: str | None = None
    name: str | None = None                 # the OS user, for the command line

    @classmethod
    def node(cls) -> "Actor":
        return cls("node")

    @classmethod
    def cli(cls, user: str) -> "Actor":
        return cls("cli", name=user[:64])

    @classmethod
    def command_line(cls) -> "Actor":
        """A change made by this process's command line, by the OS user running it."""
        try:
            return cls.cli(getpass.getuser())
        except (KeyError, OSError):                  # no name for the uid (a bare container)
            return cls.cli(f"uid {os.getuid()}")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: Actor
    action: str
    tenant_id: str | None
    target: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor_role": self.actor.role,
                "actor_key_id": self.actor.key_id, "actor_tenant_id": self.actor.tenant_id,
                "actor_name": self.actor.name, "action": self.action, "tenant_id": self.tenant_id,
                "target": self.target, "details": self.details}


def record(session: Session, actor: Actor | None, action: Action, tenant_id: str | None, target: str,
           details: dict[str, Any] | None = None) -> None:
    """Add an entry to the change's own transaction (nothing when `actor` is None: an internal call)."""
    if actor is None:
        return
    session.add(AuditRow(at=datetime.now(timezone.utc), actor_key_id=actor.key_id, actor_tenant_id=actor.tenant_id,
                         actor_role=actor.role, actor_name=actor.name, action=action.value, tenant_id=tenant_id,
                         target=target[:255], details=details or {}))


def entries(session: Session, tenant_id: str | None, limit: int = 50, before: int | None = None) -> list[AuditEntry]:
    """The newest entries first (of one tenant's data, or of all when None); `before`: an entry id, to page."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    if tenant_id is not None:
        query = query.where(AuditRow.tenant_id == tenant_id)
    if before is not None:
        query = query.where(AuditRow.id < before)
    return [AuditEntry(r.id, r.at, Actor(r.actor_role, r.actor_key_id, r.actor_tenant_id, r.actor_name), r.action,
                       r.tenant_id, r.target, r.details or {}) for r in session.scalars(query)]
