"""The statistics store: calls, timelines, outcomes, votes, codes, SMS, tenants and campaign versions,
the number inventory, tariffs and charges.

Start at `db.Store`; `records` holds what the engine reports, `queries` and `services` what the API reads.
"""

from .db import Store, StoreOptions
from .errors import Conflict, Forbidden, NotFound, SpoolError, StoreError, StoreUnavailable
from .queries import CallDetail, CallFilter, CallSummary, EventView, OutcomeView, PoolTally, Tallies
from .records import CodeStatus, Durability, OutcomeRecord, VoteOutcome
from .accounts import ApiKey, Campaign, CampaignListing, DialplanVersion, KeyOwner, Lifecycle, ShortNumber, Tenant
from .audit import Action, Actor, AuditEntry
from .code_pools import CodeImport, Issued, Pool
from .draws import Draw, Notice, Rule
from .flow_counts import FlowCounts, FlowFilter

__all__ = ["Action", "Actor", "ApiKey", "AuditEntry", "CallDetail", "CallFilter", "CallSummary", "Campaign",
           "CampaignListing", "CodeImport", "CodeStatus", "Conflict", "DialplanVersion", "Draw", "Durability",
           "EventView", "FlowCounts", "FlowFilter", "Forbidden", "Issued", "KeyOwner", "Lifecycle", "NotFound",
           "Notice", "OutcomeRecord", "OutcomeView", "Pool", "PoolTally", "Rule", "ShortNumber", "SpoolError", "Store",
           "StoreError", "StoreOptions", "StoreUnavailable", "Tallies", "Tenant", "VoteOutcome"]
