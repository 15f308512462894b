"""Identifiers both sides make: run ids by the collector, and by the server for reports it converts (JUnit)."""

from __future__ import annotations

import os
import time


def new_run_id() -> str:
    """A time-ordered UUID (version 7 layout): sorts by start time, unique without coordination."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | rand & (2**62 - 1)
    digits = f"{value:032x}"  # as str(uuid.UUID(int=value)) writes it, without importing uuid at start-up
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
