"""Write paths into the network store, by concern; this module is their public entry.

- `networks.store`: interactions, posts and accounts (`ingest_batch`, the one path for providers
  and small batches; claiming, opting out, hiding);
- `networks.imports`: file imports (`start_import`, `run_import`), through an import session;
- `networks.sync`: live syncs of linked accounts (`sync_account`).
"""

from __future__ import annotations

from networks.imports import (
    MAX_REPORTED_ERRORS,
    ImportAborted,
    give_up_run,
    queue_import,
    remove_uploads_of_user,
    run_import,
    start_import,
    uploads_folder,
)
from networks.store import (
    PROVIDER_NETWORKS,
    claim_account,
    claimed_without_login,
    hide_accounts,
    ingest_batch,
    mark_needs_reconnect,
    opt_out_accounts_of_user,
    opt_out_network_account,
    purge_account,
    set_account_protected,
    suppress_accounts_of_user,
    suppressed_external_ids,
    unclaim_account,
)
from networks.sync import (
    SYNC_STALE_AFTER,
    SyncBusy,
    give_up_sync,
    linked_account_details,
    queue_account_sync,
    start_account_sync,
    sync_account,
    sync_details,
    sync_unfinished,
    syncable_accounts,
)

__all__ = [
    "MAX_REPORTED_ERRORS",
    "PROVIDER_NETWORKS",
    "SYNC_STALE_AFTER",
    "ImportAborted",
    "SyncBusy",
    "claim_account",
    "claimed_without_login",
    "give_up_run",
    "give_up_sync",
    "hide_accounts",
    "ingest_batch",
    "linked_account_details",
    "mark_needs_reconnect",
    "opt_out_accounts_of_user",
    "opt_out_network_account",
    "purge_account",
    "queue_account_sync",
    "queue_import",
    "remove_uploads_of_user",
    "run_import",
    "set_account_protected",
    "start_account_sync",
    "start_import",
    "suppress_accounts_of_user",
    "suppressed_external_ids",
    "sync_account",
    "sync_details",
    "sync_unfinished",
    "syncable_accounts",
    "unclaim_account",
    "uploads_folder",
]
