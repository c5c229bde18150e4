"""Read ahead on a thread: a parser keeps parsing while the database works on the last batch.

Parsing is Python and the merge is mostly PostgreSQL's work (psycopg releases the GIL while it
waits), so on two cores the two overlap instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable

_DONE = object()


def prefetch[T](items: Iterable[T], *, chunk: int = 10_000, depth: int = 8) -> Generator[T]:
    """Yield `items` in order while a thread produces up to `depth` chunks ahead.

    An exception in the producer is raised in the consumer at the point it occurred; closing the
    returned generator (or dropping it) stops the producer.
    """
    chunks: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                chunks.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    buffer: list[T] = []

    def produce() -> None:
        nonlocal buffer
        try:
            for item in items:
                buffer.append(item)
                if len(buffer) >= chunk:
                    if not put(buffer):
                        return
                    buffer = []
            if buffer and not put(buffer):
                return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised after what came before
            if buffer and not put(buffer):
                return
            put(exc)

    thread = threading.Thread(target=produce, name="import-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            got = chunks.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=5)
