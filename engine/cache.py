"""An in-process cache of live workflow objects, keyed by instance and row version.

Loading a state costs a JSON parse and a task-tree rebuild; an instance that
this process saved a moment ago is still in memory.  An entry is valid only
for the exact row version it was saved as: a save elsewhere bumps the version
and the entry no longer matches.  ``take`` removes the entry, so a workflow
object is never shared, and a failed transaction cannot leave a stale entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class WorkflowCache:
    """A small LRU of ``(key) -> (version, workflow)``."""

    def __init__(self, maxsize: int = 512):
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, key: Hashable, version: int) -> Any | None:
        """Remove and return the workflow saved as ``version``, or None."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None and entry[0] == version:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, key: Hashable, version: int, workflow: Any) -> None:
        """Remember the workflow as saved at ``version``."""
        if self.maxsize <= 0:
            return
        with self._lock:
            self._entries[key] = (version, workflow)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
