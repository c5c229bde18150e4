"""One file import's write machinery, behind one object: the import session.

A file import reads in one direction: the reader (an importer, on the read-ahead thread) hands
prepared batches to the session, the session stores each through the same merge as
`ingest_batch` (`networks.staging`), and at the end attaches what it loaded. The session owns
everything that lives longer than a batch:
- the id map (external id -> account id) across batches, forgotten when an account is deleted;
- on PostgreSQL, the load tables of months the store did not hold (`networks.partitions`);
- the helper connection and the new accounts still being stored on it (`networks.columnar`);
- the hidden-account filter at the attach (the one rule, as every batch applies it);
- the attach itself, after the accounts have settled.
"""

from __future__ import annotations

from types import TracebackType

from django.db import connection, transaction

from networks.account_ids import AccountIds, HiddenAccounts
from networks.columnar import NewAccounts
from networks.helper import Helper
from networks.models import SyncRun
from networks.partitions import BulkLoad
from networks.records import IngestResult
from networks.staging import Merge, PreparedBatch, hidden_account_ids
from networks.store import store_prepared


class ImportSession:
    """A file import's id maps, load tables, helper work and attach (use it as a context)."""

    def __init__(self, *, run_id: int, network: str, strict: bool = False) -> None:
        self.network = network
        self.strict = strict
        self.names = AccountIds()
        # PostgreSQL: months the store does not hold are loaded apart and attached at the end
        self.load = BulkLoad(run_id) if connection.vendor == "postgresql" else None
        self.helper: Helper | None = None
        self.new_accounts: NewAccounts | None = None

    def __enter__(self) -> ImportSession:
        if self.load is not None:
            self.load.begin()
            # A second connection for new accounts and index builds; not inside one transaction
            # (strict): it could not see what the import has not committed.
            if not self.strict and Helper.usable():
                self.helper = Helper()
                self.new_accounts = NewAccounts(self.helper)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self.helper is not None:
                self.helper.close()
        finally:
            if self.load is not None:
                self.load.end()

    def store(self, batch: PreparedBatch, *, sync_run: SyncRun | None = None) -> IngestResult:
        """Store one prepared batch, as `ingest_batch` would, with the session's machinery."""
        if self.load is not None and self.load.accounts_deleted():
            # ids it resolved may be gone: settle what is in flight, then resolve afresh
            self.settle()
            self.names = AccountIds()
        # Without load tables (SQLite) nothing else notices deletions: resolve per batch.
        names = self.names if self.load is not None else AccountIds()
        merge = Merge(self.network, names, self.new_accounts)
        return store_prepared(merge, batch, sync_run=sync_run, load=self.load)

    def settle(self) -> int:
        """Wait for the new accounts still being stored on the helper; return how many."""
        if self.new_accounts is None or self.load is None:
            return 0
        with transaction.atomic(), connection.cursor() as cursor:
            return self.new_accounts.settle(cursor, self.names, list(self.load.tables.values()))

    def attach(self) -> int:
        """Attach the loaded months (every loaded row's account stored first); return the rows
        dropped there: repeats, rows of accounts hidden meanwhile, rows stored by others."""
        if self.load is None:
            return 0
        if not self.load.tables:
            self.settle()
            return 0
        with connection.cursor() as cursor:
            hidden = HiddenAccounts(hidden_account_ids(cursor, self.network))
        return self.load.finish(hidden.sorted(), self.helper, before_attach=self.settle)
