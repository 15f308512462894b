"""Memory and CPU of each test attempt, read from the kernel: cheap enough to leave on.

Three modes (`--suitescope-memory`):
- `rss` (default): resident size at start and end from `/proc/self/statm` (one `pread` of an open file); CPU
  time of the thread that runs the test and the process's high-water mark (`ru_maxrss`) from one `getrusage`.
  The high-water mark only rises: when a test raised it, that is the test's exact peak (`peak_exact`);
  otherwise the peak is the higher of start and end, a lower bound. The tests that drive a worker towards
  the OOM killer are exactly the ones that raise it.
- `peak` (Linux): before each test, writes `5` to `/proc/self/clear_refs`, which resets the kernel's high-water
  mark, so every test's peak is exact. It changes what `ru_maxrss` reads for the suite's own code, which is why
  it is not the default.
- `tracemalloc`: `rss` plus Python's allocator tracing, with the peak of traced memory and the top allocation
  sites per test. Slow (every allocation is traced); for hunting a leak, not for every run.

Where `/proc` is missing (macOS, Windows) RSS falls back to `ru_maxrss` alone, or to nothing.
"""

from __future__ import annotations

import os
from typing import Any

from suitescope.collector.instrument.base import Instrument
from suitescope.collector.process_peak import MAXRSS_DIVISOR, own_peak_kb, resource, vmhwm_kb
from suitescope.schema.codec import encode
from suitescope.schema.records import AllocationSite, TestCpu, TestMemory

MODES = ("rss", "peak", "tracemalloc")
TOP_SITES = 5

# Per test, the thread that runs it: RUSAGE_SELF sums every thread of the process, which in an xdist worker
# (execnet's I/O thread running beside the test) was measured at 100-250 us a call, against 4 us for this.
# The high-water mark it gives is still the whole process's.
WHO = getattr(resource, "RUSAGE_THREAD", None) if resource else None
WHO = WHO if WHO is not None else (resource.RUSAGE_SELF if resource else None)


NO_MEMORY_JSON = '"memory":null,"cpu":null'
# `encoded` of the common case: the fields of `fields`, in their order; milliseconds rounded as `round(ms, 3)`.
RSS_JSON = (
    '"memory":{"rss_start_kb":%d,"rss_end_kb":%d,"rss_peak_kb":%d,"peak_exact":%s,"growth_kb":%d,'
    '"traced_peak_kb":null,"top":null},"cpu":{"user_ms":%.3f,"system_ms":%.3f}'
)


# One reading of the process: RSS (KiB, or None), high-water mark (KiB, or None), user and system CPU seconds.
# A plain tuple of numbers, not a NamedTuple: it costs a third of the time to make, and the garbage collector
# stops tracking it at its first look, so a reading kept until its batch is encoded never reaches the oldest
# generation (see `Instruments.end`).
Sample = tuple["int | None", "int | None", float, float]


# An attempt's readings at its end: start and end samples, and the traced peak and top sites (or Nones).
Reading = tuple[Sample, Sample, tuple["float | None", "list[AllocationSite] | None"]]


def peak_of(start: Sample, end: Sample, reset: bool) -> tuple[int | None, bool]:
    """An attempt's peak RSS, and whether it is exact: the kernel's high-water mark rose during the attempt, or
    was `reset` before it (peak mode)."""
    known = [kb for kb in (start[0], end[0]) if kb is not None]
    end_max = end[1]
    if end_max is not None and (reset or (start[1] or 0) < end_max):
        # The kernel counts RSS per thread in batches: the two readings can differ by a few pages.
        return max([end_max, *known]), True  # known is empty without /proc (macOS)
    return (max(known) if known else None), False


def rss_json(start: Sample, end: Sample, reset: bool = False) -> str:
    """`"memory":{…},"cpu":{…}` of two readings that both have RSS, nothing traced: the fields of
    `ProcessMemory.fields` written with one format (encoding the two dicts took five times as long). A function
    of the readings alone, so that it can run when the attempt's record is encoded, in its batch."""
    rss_start, _, user_start, system_start = start
    rss_end, _, user_end, system_end = end
    peak, exact = peak_of(start, end, reset)
    return RSS_JSON % (
        rss_start,
        rss_end,
        peak,
        "true" if exact else "false",
        rss_end - rss_start,  # type: ignore[operator]  # both known: the caller checked
        (user_end - user_start) * 1000,
        (system_end - system_start) * 1000,
    )


class ProcessMemory(Instrument):
    name = "memory"
    group = "mem"

    def __init__(self, *args: Any, mode: str = "rss", root: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.root = root
        self.statm: int | None = None
        self.clear_refs: int | None = None
        self.status: int | None = None  # /proc/self/status, read for VmHWM when ru_maxrss cannot be trusted
        self.inherited_kb = 0  # ru_maxrss carried over from the process that started this one
        self.page_kb = 4
        self.peak_kb = 0  # the highest peak seen: a reset high-water mark forgets earlier ones
        self.start: Sample | None = None
        self.snapshot: Any = None
        self.started_tracing = False

    def install(self) -> None:
        try:
            self.statm = os.open("/proc/self/statm", os.O_RDONLY)
            self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, AttributeError, ValueError):
            self.statm = None
        if self.mode == "peak":
            try:
                self.clear_refs = os.open("/proc/self/clear_refs", os.O_WRONLY)
            except OSError:
                self.mode = "rss"  # not Linux, or not allowed: fall back, peaks become lower bounds
        self.status = self._status_if_needed()
        if self.mode == "tracemalloc":
            import tracemalloc

            self.started_tracing = not tracemalloc.is_tracing()
            if self.started_tracing:
                tracemalloc.start(1)
        self.on = True

    def _status_if_needed(self) -> int | None:
        """Open /proc/self/status when ru_maxrss is not this process's peak: always in peak mode (clear_refs
        resets VmHWM only), and when the process started with a peak it inherited (vmhwm_kb says why). Reading
        it costs more than getrusage, so otherwise it is not read per test."""
        try:
            fd = os.open("/proc/self/status", os.O_RDONLY)
        except OSError:
            return None
        hwm = vmhwm_kb(fd)
        maxrss = resource.getrusage(WHO).ru_maxrss // MAXRSS_DIVISOR if resource is not None else 0
        if hwm is not None and maxrss > hwm + 1024:
            self.inherited_kb = maxrss
        if self.clear_refs is not None or self.inherited_kb:
            return fd
        os.close(fd)
        return None

    def uninstall(self) -> None:
        self.on = False
        for fd in (self.statm, self.clear_refs, self.status):
            if fd is not None:
                os.close(fd)
        self.statm = self.clear_refs = self.status = None
        if self.mode == "tracemalloc" and self.started_tracing:
            import tracemalloc

            tracemalloc.stop()

    def sample(self) -> Sample:
        rss = None
        if self.statm is not None:
            rss = int(os.pread(self.statm, 128, 0).split(None, 2)[1]) * self.page_kb
        if resource is None:
            times = os.times()  # clock ticks: 10 ms resolution, the best Windows offers here
            return rss, None, times.user, times.system
        usage = resource.getrusage(WHO)  # microseconds, and the high-water mark in one call
        maxrss = usage.ru_maxrss // MAXRSS_DIVISOR
        # VmHWM costs ten times getrusage: read only where ru_maxrss may not be ours (peak mode, or not yet
        # above the peak this process inherited; once above it, ru_maxrss is this process's own again).
        if self.status is not None and (self.clear_refs is not None or maxrss <= self.inherited_kb):
            maxrss = vmhwm_kb(self.status) or maxrss
        return rss, maxrss, usage.ru_utime, usage.ru_stime

    def begin(self) -> None:
        if not self.on:
            return
        try:
            if self.clear_refs is not None:
                os.write(self.clear_refs, b"5")
            self.start = self.sample()
            if self.mode == "tracemalloc":
                import tracemalloc

                tracemalloc.reset_peak()
                self.snapshot = tracemalloc.take_snapshot()
        except Exception as exc:
            self.fail(exc)

    def end(self) -> Reading | None:
        """The attempt's readings as they are now; `measure` turns them into record fields when they are
        encoded (with the other records' work), except the traced allocations, which must be taken now."""
        start, self.start = self.start, None
        if not self.on or start is None:
            return None
        try:
            return start, self.sample(), self.traced() if self.mode == "tracemalloc" else (None, None)
        except Exception as exc:
            self.fail(exc)
            return None

    def measure(self, reading: Reading | None) -> tuple[TestMemory | None, TestCpu | None]:
        if reading is None:
            return None, None
        try:
            return self.fields(*reading)
        except Exception as exc:
            self.fail(exc)
            return None, None

    def encoded(self, reading: Reading | None) -> str:
        """`"memory":{…},"cpu":{…}` of an attempt: the JSON of `measure`'s fields, written with one format in
        the common case (both RSS readings, nothing traced), where encoding the two dicts took five times as
        long."""
        if reading is None:
            return NO_MEMORY_JSON
        start, end, traced = reading
        if start[0] is None or end[0] is None or traced != (None, None):
            memory, cpu = self.measure(reading)
            return f'"memory":{encode(memory)},"cpu":{encode(cpu)}'
        try:
            if self.clear_refs is not None:  # peak mode: the kernel forgets earlier peaks, so keep the highest
                self.peak(start, end)
            return rss_json(start, end, self.clear_refs is not None)
        except Exception as exc:
            self.fail(exc)
            return NO_MEMORY_JSON

    def deferrable(self, reading: Reading | None) -> bool:
        """Whether `rss_json` alone can write this reading later, with nothing of this object: RSS mode (the
        kernel's high-water mark is never reset, so it keeps the process's peak itself), both RSS values
        known, nothing traced."""
        if reading is None or self.clear_refs is not None:
            return False
        start, end, traced = reading
        return start[0] is not None and end[0] is not None and traced == (None, None)

    def peak(self, start: Sample, end: Sample) -> tuple[int | None, bool]:
        """The attempt's peak RSS and whether it is exact (`peak_of`), kept as the process's peak when higher."""
        peak, exact = peak_of(start, end, self.clear_refs is not None)
        if peak is not None and peak > self.peak_kb:
            self.peak_kb = peak
        return peak, exact

    def fields(
        self, start: Sample, end: Sample, traced: tuple[float | None, list[AllocationSite] | None]
    ) -> tuple[TestMemory, TestCpu]:
        peak, exact = self.peak(start, end)
        traced_peak, top = traced
        memory: TestMemory = {
            "rss_start_kb": start[0],
            "rss_end_kb": end[0],
            "rss_peak_kb": peak,
            "peak_exact": exact,
            "growth_kb": end[0] - start[0] if end[0] is not None and start[0] is not None else None,
            "traced_peak_kb": traced_peak,
            "top": top,
        }
        cpu: TestCpu = {
            "user_ms": round((end[2] - start[2]) * 1000, 3),
            "system_ms": round((end[3] - start[3]) * 1000, 3),
        }
        return memory, cpu

    def traced(self) -> tuple[float, list[AllocationSite]]:
        """Peak traced memory of the test, and the sites whose allocations grew most."""
        import tracemalloc

        peak = round(tracemalloc.get_traced_memory()[1] / 1024, 1)
        before, self.snapshot = self.snapshot, None
        if before is None:
            return peak, []
        ours = tracemalloc.Filter(False, os.path.dirname(os.path.dirname(os.path.dirname(__file__))) + "/*")
        after = tracemalloc.take_snapshot().filter_traces([ours, tracemalloc.Filter(False, tracemalloc.__file__)])
        top: list[AllocationSite] = []
        for stat in after.compare_to(before.filter_traces([ours]), "lineno")[:TOP_SITES]:
            if stat.size_diff <= 0:
                break
            frame = stat.traceback[0]
            top.append(
                {
                    "site": f"{self.relative(frame.filename)}:{frame.lineno}",
                    "size_kb": round(stat.size_diff / 1024, 1),
                    "count": stat.count_diff,
                }
            )
        return peak, top

    def relative(self, filename: str) -> str:
        """Project files relative to the root; others (site-packages, stdlib) by their last two parts only,
        so no path outside the project is recorded."""
        if self.root and filename.startswith(self.root + os.sep):
            return filename[len(self.root) + 1 :].replace(os.sep, "/")
        parts = filename.replace(os.sep, "/").rsplit("/", 2)
        return "/".join(parts[-2:])

    def process_peak_kb(self) -> int | None:
        """This process's peak RSS for the run record: what the kernel says now, or an earlier test's peak
        where the high-water mark was reset since."""
        known = [kb for kb in (own_peak_kb(), self.peak_kb or None) if kb is not None]
        return max(known) if known else None
