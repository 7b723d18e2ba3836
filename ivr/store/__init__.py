"""The statistics store: calls, timelines, outcomes, votes, codes, SMS, tenants and campaign versions,
the number inventory, tariffs and charges.

Start at `db.Store`; `records` holds what the engine reports, `queries` and `services` what the API reads.
"""

from .db import Store, StoreOptions
from .errors import Conflict, Forbidden, NotFound, SpoolError, StoreError, StoreUnavailable
from .queries import CallDetail, CallFilter, CallSummary, EventView, OutcomeView, PoolTally, Tallies
from .records import CodeStatus, Durability, OutcomeRecord, VoteOutcome
from .accounts import ApiKey, Campaign, CampaignListing, DialplanVersion, KeyOwner, ShortNumber, Tenant
from .audit import Action, Actor, AuditEntry
from .flow_counts import FlowCounts, FlowFilter

__all__ = ["Action", "Actor", "AuditEntry", "FlowCounts", "FlowFilter", "ApiKey", "CallDetail", "CallFilter",
           "CallSummary", "Campaign", "CampaignListing", "CodeStatus", "Conflict",
           "DialplanVersion", "Durability", "EventView", "Forbidden", "KeyOwner", "NotFound", "OutcomeRecord",
           "OutcomeView",
           "PoolTally", "ShortNumber", "SpoolError", "Store", "StoreError", "StoreOptions", "StoreUnavailable",
           "Tallies", "Tenant", "VoteOutcome"]
