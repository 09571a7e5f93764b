"""The scrape deadline is total: a server trickling bytes is cut off at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubectl_infercost.errors import ApiError
from kubectl_infercost.kube import deadline
from kubectl_infercost.kube.deadline import DeadlineExceededError, read_within


def test_trickle_is_cut_off_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(float(t) for t in range(100))  # one byte a second
    monkeypatch.setattr(deadline.time, "monotonic", lambda: next(clock))

    def trickle() -> Iterator[bytes]:
        while True:
            yield b"x"

    # deadline at t=5: bytes at t=0..5 are read (6 checks pass), the check at t=6 fails
    with pytest.raises(DeadlineExceededError, match=r"timed out after 5s \(total deadline, 6 bytes received\)"):
        read_within(trickle(), deadline=5.0, timeout=5.0, max_bytes=1000, what="GET x")


def test_whole_body_within_the_deadline_and_size() -> None:
    assert read_within(iter([b"ab", b"c"]), deadline=float("inf"), timeout=5, max_bytes=3, what="GET x") == b"abc"
    with pytest.raises(ApiError, match="GET x: response larger than 2 bytes"):
        read_within(iter([b"ab", b"c"]), deadline=float("inf"), timeout=5, max_bytes=2, what="GET x")
