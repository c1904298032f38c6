"""The Ray driver's heap trimming (curate.engines.ray.heap): freed heap goes back to the OS."""

from __future__ import annotations

import ctypes
import os
import sys
import time

import pytest

from bench.ray_scaling import _status_kib
from curate.engines.ray.heap import malloc_trim, returning_freed_heap, trim_interval

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or malloc_trim() is None,
                           reason="malloc_trim is glibc's")


def _private_kib() -> int:
    return _status_kib(os.getpid(), "RssAnon")[0]


def _kept_free_heap(mib: int) -> ctypes.c_void_p:
    """`mib` MiB of small heap chunks, touched then freed, under one chunk still in use (so glibc's own
    trim of the heap's top cannot give them back). Returns that last chunk."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    chunks = [libc.malloc(1024) for _ in range(mib * 1024)]
    for c in chunks:
        ctypes.memset(c, 1, 1024)
    pin = libc.malloc(1024)
    for c in chunks:
        libc.free(c)
    return pin


@glibc
def test_the_trim_gives_freed_heap_back():
    _kept_free_heap(64)
    before = _private_kib()
    with returning_freed_heap(every_s=0.01) as trimmer:
        time.sleep(0.2)
    assert trimmer.active and trimmer.calls >= 2
    assert before - _private_kib() > 32 * 1024, "at least half of the 64 MiB freed should be back"


@glibc
def test_without_the_trim_the_freed_heap_stays(monkeypatch):
    monkeypatch.setenv("DATAVET_RAY_TRIM_S", "0")
    _kept_free_heap(64)
    before = _private_kib()
    with returning_freed_heap() as trimmer:
        time.sleep(0.05)
    assert not trimmer.active and trimmer.calls == 0
    assert before - _private_kib() < 16 * 1024


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATAVET_RAY_TRIM_S", "0.5")
    assert trim_interval() == 0.5
    monkeypatch.delenv("DATAVET_RAY_TRIM_S")
    assert trim_interval() == 2.0


def test_a_bad_interval_is_a_usage_error(monkeypatch):
    from schemas.errors import UsageError

    monkeypatch.setenv("DATAVET_RAY_TRIM_S", "often")
    with pytest.raises(UsageError, match="not a number of seconds"):
        trim_interval()
