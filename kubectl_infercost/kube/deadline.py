"""A total deadline for reading one response: a server trickling bytes is cut off at it.

A per-read timeout alone never fires while one byte arrives every second, so the deadline is
checked as each chunk arrives, whatever transport yields the chunks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from ..errors import ApiError


class DeadlineExceededError(ApiError):
    """The whole answer did not arrive within the deadline."""


def read_within(chunks: Iterable[bytes], *, deadline: float, timeout: float, max_bytes: int, what: str) -> bytes:
    """Join ``chunks``; raise when ``time.monotonic()`` passes ``deadline`` or the size passes ``max_bytes``."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise DeadlineExceededError(f"timed out after {timeout:g}s (total deadline, {size} bytes received)")
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(f"{what}: response larger than {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)
