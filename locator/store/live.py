"""Keeping a query engine up to date with the store: :class:`LiveNetwork`.

The database is the source of truth; queries run on an in-memory value built from
it (an :class:`~locator.index.OutletIndex`, the API's service). A ``LiveNetwork``
holds that value in :attr:`current` and replaces it when the store's ``revision``
moves (or the day changes: an authorization may have expired):

* in this process, at once: the store calls :meth:`refresh` after every committed
  change made through it;
* from other processes sharing the database, within ``interval`` seconds (default 1):
  a daemon thread polls the revision, a one-row query.

The new value is built completely, then swapped in with one reference assignment,
so a reader sees the old network or the new one, never half of each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ..network import Network
    from .core import Store

T = TypeVar("T")
log = logging.getLogger("locator.store")


class LiveNetwork(Generic[T]):
    """:attr:`current` is ``build(store.network())``, rebuilt when the store changes.

    ``on_swap(value)`` is called after each swap (e.g. to publish the value on an
    app's state). Call :meth:`start` for the polling thread, :meth:`stop` to end it.
    """

    def __init__(
        self,
        store: Store,
        build: Callable[[Network], T],
        *,
        interval: float = 1.0,
        on_swap: Callable[[T], None] | None = None,
    ) -> None:
        self.store = store
        self.interval = float(interval)
        self._build = build
        self._on_swap = on_swap
        self._lock = threading.Lock()  # one rebuild at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._day = date.today()
        self._revision = store.revision()
        self.current: T = build(store.network(on=self._day))
        store.subscribe(self._changed)

    @property
    def revision(self) -> int:
        """The store revision :attr:`current` was built from."""
        return self._revision

    def _changed(self) -> None:
        try:
            self.refresh()
        except Exception:  # the write itself succeeded; the poller will retry
            log.exception("rebuilding the network after a change failed")

    def refresh(self) -> bool:
        """Rebuild and swap if the store changed since (or the day turned); whether it did."""
        with self._lock:
            day = date.today()
            revision = self.store.revision()
            if revision == self._revision and day == self._day:
                return False
            value = self._build(self.store.network(on=day))
            self.current = value  # the one reference assignment readers see
            self._revision, self._day = revision, day
        if self._on_swap is not None:
            self._on_swap(value)
        return True

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # a database hiccup: keep serving the last network
                log.warning("polling the store failed; retrying", exc_info=True)

    def start(self) -> LiveNetwork[T]:
        """Start the polling thread (a daemon); returns ``self``."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._poll, name="locator-live", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (a change made through the store still refreshes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
