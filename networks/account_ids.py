"""The import's map from external ids to account ids, kept across the batches of one import."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from networks.edges import I64, IdMap


class AccountIds:
    """External id -> account id for one network, kept across the batches of one import.

    A name resolved once is not looked up again while the account exists (an import that sees an
    account deleted forgets every id: `ImportSession.store`); visibility can change and is read
    per batch. Bounded: a map that holds more than `limit` names when a batch starts is emptied
    then, never while a batch is in flight, so every name a batch resolved stays known until its
    rows are written. Lookups are checked: a name the map does not hold is a `KeyError`, never
    another account's id.
    """

    LIMIT = 4_000_000

    def __init__(self, limit: int | None = None) -> None:
        self.ids: dict[str, int] = {}
        self.numeric = IdMap()  # the same, for integer ids of columnar blocks
        self.limit = self.LIMIT if limit is None else limit
        self.network_was_empty: bool | None = None  # when the import first looked

    def start_batch(self) -> None:
        """Make room before a batch resolves its names: past the bound, start afresh."""
        if len(self.ids) + len(self.numeric) > self.limit:
            self.ids = {}
            self.numeric = IdMap()
            # names it forgot were met before: an id not in the map may exist after all
            self.network_was_empty = False

    def remember(self, pairs: Iterable[tuple[str, int]]) -> None:
        self.ids.update(pairs)

    def remember_numeric(self, external: I64, ids: I64) -> None:
        self.numeric.add(external, ids)


class HiddenAccounts:
    """The network's hidden accounts as one batch (or the attach) sees them, and the one place
    rows are kept or dropped by them. Made from the one rule (`NetworkAccount.objects.hidden_ids`)
    by the import session or `ingest_batch`."""

    def __init__(self, ids: Iterable[int] = ()) -> None:
        self.ids = frozenset(ids)
        self._array = np.fromiter(sorted(self.ids), np.int64, len(self.ids))

    def __bool__(self) -> bool:
        return bool(self.ids)

    def keeps(self, *account_ids: int) -> bool:
        """Whether a row naming these accounts may be stored."""
        return not self.ids or not any(a in self.ids for a in account_ids)

    def keeps_rows(self, actor: I64, receiver: I64) -> npt.NDArray[np.bool_]:
        """Which rows of these id columns may be stored."""
        if not self.ids:
            return np.ones(len(actor), bool)
        return ~(np.isin(actor, self._array) | np.isin(receiver, self._array))

    def sorted(self) -> list[int]:
        return self._array.tolist()
