"""The scoring window as partitioned Parquet, and back into the engine's arrays (no Django, no JVM).

A window directory holds:

- ``interactions/part-NNNNN.parquet``: actor, receiver (account ids), kind (engine code), time
  (unix seconds, float64), post (post id, or -1 when the post is not in the window), network
  (engine code); fixed-size row groups split over many files, so a cluster reads them in parallel.
- ``accounts/part-NNNNN.parquet``: account_id (every scored account, ascending), user_id (the
  person it is linked to and scored with, or null).
- ``posts/part-NNNNN.parquet``: post_id (ascending), author (account id), time, network,
  is_share, is_reply.
- ``window.json``: the day, ``as_of``, the algorithm version, its stored calibration (or null),
  the network codes, and the per-network interaction counts of the day and the day before (the
  anomaly guard's inputs).

Hidden accounts (protected, opted out, or owned by an opted-out person) are never written: the
export starts from the same bulk read a local run scores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from scoring.engine.types import Interactions, Posts

ROWS_PER_FILE = 1 << 20
FORMAT = 1

INTERACTION_SCHEMA = pa.schema(
    [
        ("actor", pa.int64()),
        ("receiver", pa.int64()),
        ("kind", pa.int8()),
        ("time", pa.float64()),
        ("post", pa.int64()),
        ("network", pa.int8()),
    ]
)
ACCOUNT_SCHEMA = pa.schema([("account_id", pa.int64()), ("user_id", pa.int64())])
POST_SCHEMA = pa.schema(
    [
        ("post_id", pa.int64()),
        ("author", pa.int64()),
        ("time", pa.float64()),
        ("network", pa.int8()),
        ("is_share", pa.bool_()),
        ("is_reply", pa.bool_()),
    ]
)

Advance = Callable[[int], None]


@dataclass(frozen=True)
class WindowArrays:
    """A window as the numpy engine takes it, plus the ids behind its dense indices."""

    interactions: Interactions
    posts: Posts
    account_ids: npt.NDArray[np.int64]  # dense person index -> account id (ascending)
    post_ids: npt.NDArray[np.int64]  # dense post index -> post id (ascending)
    user_ids: npt.NDArray[np.int64]  # dense person index -> linked user id, or -1
    meta: dict[str, Any]

    @property
    def groups(self) -> dict[int, list[int]]:
        """User id -> dense indices of their linked accounts in the window."""
        out: dict[int, list[int]] = {}
        for i in np.flatnonzero(self.user_ids >= 0).tolist():
            out.setdefault(int(self.user_ids[i]), []).append(i)
        return out


def _write_parts(
    directory: Path,
    table: pa.Table,
    rows_per_file: int,
    advance: Advance | None,
) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    n_files = 0
    for n_files, start in enumerate(range(0, max(table.num_rows, 1), rows_per_file), start=1):
        part = table.slice(start, rows_per_file)
        pq.write_table(part, directory / f"part-{n_files - 1:05d}.parquet", compression="zstd")
        if advance is not None:
            advance(part.num_rows)
    return n_files


def write_window(
    out: Path,
    *,
    window: WindowArrays,
    rows_per_file: int = ROWS_PER_FILE,
    advance: Advance | None = None,
) -> dict[str, int]:
    """Write `window` under `out` (which must not hold a window yet); return rows per table."""
    if (out / "window.json").exists():
        raise FileExistsError(f"{out} already holds a window; choose an empty directory")
    inter, posts, ids = window.interactions, window.posts, window.account_ids
    post_ids = window.post_ids
    post_col = np.full(len(inter), -1, dtype=np.int64)
    named = inter.post >= 0
    post_col[named] = post_ids[inter.post[named]]
    table = pa.table(
        {
            "actor": ids[inter.actor],
            "receiver": ids[inter.receiver],
            "kind": inter.kind,
            "time": inter.time,
            "post": post_col,
            "network": inter.network,
        },
        schema=INTERACTION_SCHEMA,
    )
    del post_col
    _write_parts(out / "interactions", table, rows_per_file, advance)
    del table
    users = pa.array(window.user_ids, mask=window.user_ids < 0, type=pa.int64())
    accounts = pa.table({"account_id": ids, "user_id": users}, schema=ACCOUNT_SCHEMA)
    _write_parts(out / "accounts", accounts, rows_per_file, None)
    n_posts = len(posts)
    posts_table = pa.table(
        {
            "post_id": post_ids,
            "author": ids[posts.author],
            "time": posts.time,
            "network": posts.network,
            "is_share": _flags(posts.is_share, n_posts),
            "is_reply": _flags(posts.is_reply, n_posts),
        },
        schema=POST_SCHEMA,
    )
    _write_parts(out / "posts", posts_table, rows_per_file, None)
    counts = {"interactions": len(inter), "accounts": int(ids.shape[0]), "posts": n_posts}
    meta = {**window.meta, "format": FORMAT, "rows": counts}
    # window.json last: its presence says the directory is complete
    (out / "window.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return counts


def _flags(values: npt.NDArray[np.bool_] | None, n: int) -> npt.NDArray[np.bool_]:
    return np.zeros(n, dtype=bool) if values is None else values


def read_meta(directory: Path) -> dict[str, Any]:
    """The window's ``window.json`` (an error naming the directory when it is not a window)."""
    path = Path(directory) / "window.json"
    if not path.exists():
        raise FileNotFoundError(f"{directory} holds no scoring window (no window.json)")
    meta: dict[str, Any] = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{directory}: window format {meta.get('format')!r}, expected {FORMAT}")
    return meta


def read_table(directory: Path) -> pa.Table:
    """Every part file of one table directory, in file order (Spark's or ours)."""
    files = sorted(
        p for p in Path(directory).glob("*.parquet") if not p.name.startswith((".", "_"))
    )
    if not files:
        raise FileNotFoundError(f"no parquet files in {directory}")
    return pa.concat_tables(pq.read_table(f) for f in files)


def iter_batches(directory: Path) -> Iterator[pa.RecordBatch]:
    """The record batches of one table directory, file by file."""
    for f in sorted(Path(directory).glob("*.parquet")):
        if not f.name.startswith((".", "_")):
            yield from pq.ParquetFile(f).iter_batches(batch_size=ROWS_PER_FILE)


def read_window(directory: Path) -> WindowArrays:
    """Load a window directory into the numpy engine's inputs (dense indices by account id)."""
    directory = Path(directory)
    meta = read_meta(directory)
    accounts = read_table(directory / "accounts")
    ids = accounts.column("account_id").to_numpy().astype(np.int64)
    users = accounts.column("user_id").fill_null(-1).to_numpy().astype(np.int64)
    order = np.argsort(ids, kind="stable")
    ids, users = ids[order], users[order]
    inter = read_table(directory / "interactions")
    posts = read_table(directory / "posts").sort_by("post_id")
    post_ids = posts.column("post_id").to_numpy().astype(np.int64)
    post = inter.column("post").to_numpy().astype(np.int64)
    dense_post = np.full(post.shape[0], -1, dtype=np.int64)
    named = post >= 0
    dense_post[named] = np.searchsorted(post_ids, post[named])
    interactions = Interactions(
        actor=np.searchsorted(ids, inter.column("actor").to_numpy()).astype(np.int32),
        receiver=np.searchsorted(ids, inter.column("receiver").to_numpy()).astype(np.int32),
        kind=inter.column("kind").to_numpy().astype(np.int8),
        time=inter.column("time").to_numpy().astype(np.float64),
        post=dense_post,
        network=inter.column("network").to_numpy().astype(np.int8),
        n_people=int(ids.shape[0]),
    )
    window_posts = Posts(
        author=np.searchsorted(ids, posts.column("author").to_numpy()).astype(np.int32),
        time=posts.column("time").to_numpy().astype(np.float64),
        network=posts.column("network").to_numpy().astype(np.int8),
        is_share=posts.column("is_share").to_numpy(zero_copy_only=False).astype(bool),
        is_reply=posts.column("is_reply").to_numpy(zero_copy_only=False).astype(bool),
    )
    return WindowArrays(
        interactions=interactions,
        posts=window_posts,
        account_ids=ids,
        post_ids=post_ids,
        user_ids=users,
        meta=meta,
    )
