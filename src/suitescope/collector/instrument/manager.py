"""The instruments of one test process, as the runners use them: begin an attempt, move it through its phases,
end it and get its record fields.

Which instruments run is the user's choice (`db`, `net`, `mem`; all by default). One whose library is not
imported yet waits: `begin` looks at `sys.modules` (a few dictionary lookups) and installs it the first time its
library is there, so a suite that never imports SQLAlchemy never loads our SQLAlchemy code either. A library
imported in the middle of a test is seen from the next test on.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

from suitescope.collector.attempt import NO_EFFECTS, EncodedEffects, QuietEffects
from suitescope.collector.guard import Guard
from suitescope.collector.instrument.base import Instrument
from suitescope.collector.instrument.effects import TRACKER, Effects
from suitescope.collector.instrument.memory import NO_MEMORY_JSON, ProcessMemory, Reading
from suitescope.collector.instrument.options import InstrumentOptions
from suitescope.schema.codec import encode
from suitescope.schema.summary import DbFacts, db_facts, external


class Entry(NamedTuple):
    """An instrument not installed yet: its group, the library it waits for, and where its code is."""

    group: str
    library: str | None  # None: nothing to wait for
    module: str
    cls: str


# Our module of an instrument is imported only once its library is: importing ours imports theirs.
CATALOGUE = (
    Entry("db", "django.db", "django_db", "DjangoQueries"),
    Entry("db", "sqlalchemy", "sqlalchemy", "SqlAlchemyQueries"),
    Entry("db", "sqlite3", "sqlite3", "SqliteQueries"),
    Entry("db", "psycopg", "psycopg", "PsycopgQueries"),
    Entry("net", None, "network", "NetworkCalls"),  # sockets: every client, imported now or later
)


class Readings:
    """What the instruments saw of one attempt, kept as it ended. `fields()` makes its record fields when the
    attempt is encoded: counting queries by shape, finding N+1s and working out memory peaks then runs in the
    recorder's batch with the other records' work, not between two tests of the user's."""

    __slots__ = ("effects", "instruments", "memory")

    def __init__(self, instruments: Instruments, effects: Effects, memory: Reading | None) -> None:
        self.instruments = instruments
        self.effects = effects
        self.memory = memory

    def fields(self) -> dict[str, Any]:
        return self.instruments.fields(self.effects, self.memory)

    def encoded(self) -> tuple[str, DbFacts | None, bool | None]:
        return self.instruments.encoded(self.effects, self.memory)


class Instruments:
    """Installs the chosen instruments and turns their events into each attempt's record fields."""

    def __init__(self, guard: Guard, options: InstrumentOptions, root: str = "") -> None:
        self.guard = guard
        self.groups = groups = options.groups
        self.db, self.net = "db" in groups, "net" in groups
        TRACKER.settings = options.settings
        TRACKER.current = None
        self.waiting = [entry for entry in CATALOGUE if entry.group in groups]
        self.installed: list[Instrument] = []
        self.modules_seen = -1  # len(sys.modules) at the last poll: an import since makes it differ
        self.network: Any = None  # the network instrument, which has libraries of its own to look for
        self.memory = ProcessMemory(guard, mode=options.memory, root=root) if "mem" in groups else None
        if self.memory is not None:
            self.install(self.memory)
        self.spare = Effects()  # the counters of the next attempt: one that made no query and no call leaves them empty
        quiet = self.effect_fields(self.spare)  # the fields of an attempt that made no query and no call
        self.quiet_json = encode(quiet)[1:-1]
        self.quiet_json_no_memory = f"{self.quiet_json},{NO_MEMORY_JSON}"
        self.quiet_facts = (
            None if quiet["db"] is None else db_facts(quiet["db"]),
            None if quiet["network"] is None else external(quiet["network"]),
        )
        self.poll()

    def install(self, instrument: Instrument) -> None:
        try:
            instrument.install()
        except Exception as exc:
            instrument.fail(exc)
        self.installed.append(instrument)
        if instrument.group == "net":
            self.network = instrument

    def poll(self) -> None:
        """Install the instruments whose library has been imported since the last look."""
        modules = sys.modules
        self.modules_seen = len(modules)
        for entry in [entry for entry in self.waiting if entry.library is None or entry.library in modules]:
            self.waiting.remove(entry)
            try:
                module = importlib.import_module(f"{__package__}.{entry.module}")
                instrument: Instrument = getattr(module, entry.cls)(self.guard)
            except Exception as exc:
                self.guard.fail(f"instrument {entry.module}", exc)
                continue
            self.install(instrument)
        if self.network is not None:
            self.network.poll()

    def begin(self) -> None:
        """An attempt starts (its setup phase)."""
        if len(sys.modules) != self.modules_seen and (self.waiting or self.network is not None):
            self.poll()
        TRACKER.db_depth = 0  # nothing can be in flight between two tests; heals a count a BaseException broke
        effects = self.spare
        if effects.queries or effects.calls:  # a thread of the last attempt wrote after it ended: start afresh
            effects = self.spare = Effects()
        effects.phase = "setup"
        TRACKER.current = effects
        if self.memory is not None:
            self.memory.begin()

    def phase(self, name: str) -> None:
        effects = TRACKER.current
        if effects is not None:
            effects.phase = name

    def end(self) -> Readings | EncodedEffects | QuietEffects | dict[str, Any]:
        """The attempt is over: what was seen of it (`NO_EFFECTS` when nothing was).

        Most tests make no query and open no connection: their first four fields are the same text every time,
        and what they keep until their batch is encoded is that text and their two memory readings, numbers in
        plain tuples (`QuietEffects`), which the garbage collector stops tracking at its first look. Objects kept
        until the batch is encoded outlive the collector's young collections; moved to its oldest generation,
        they brought on one more full collection of the whole heap in a 5,000-test run (40 ms, 10 us a test,
        counted in no hook of ours). Their counters are left empty, and serve the next attempt. Tests with
        queries or connections keep their readings, and their shapes, N+1s and peaks are worked out with the
        batch."""
        effects, TRACKER.current = TRACKER.current, None
        if effects is None:
            return NO_EFFECTS
        memory = self.memory
        reading = memory.end() if memory is not None else None
        if effects.queries or effects.calls:
            self.spare = Effects()
            return Readings(self, effects, reading)
        db, network = self.quiet_facts
        if reading is None:
            return self.quiet_json_no_memory, db, network
        if memory is not None and memory.deferrable(reading):
            return self.quiet_json, db, network, reading[0], reading[1]
        return f"{self.quiet_json},{memory.encoded(reading) if memory else NO_MEMORY_JSON}", db, network

    def fields(self, effects: Effects, memory_reading: Reading | None) -> dict[str, Any]:
        """An attempt's record fields (None for the groups not chosen), in the schema's order."""
        memory, cpu = self.memory.measure(memory_reading) if self.memory is not None else (None, None)
        return {**self.effect_fields(effects), "memory": memory, "cpu": cpu}

    def encoded(self, effects: Effects, memory_reading: Reading | None) -> tuple[str, DbFacts | None, bool | None]:
        """`fields` as the inside of a JSON object, with the tally's facts of them. Most tests make no query
        and open no connection: their first four fields are the same text every time."""
        memory = self.memory.encoded(memory_reading) if self.memory is not None else NO_MEMORY_JSON
        fields = self.effect_fields(effects)
        db, network = fields["db"], fields["network"]
        facts = None if db is None else db_facts(db), None if network is None else external(network)
        return f"{encode(fields)[1:-1]},{memory}", *facts

    def effect_fields(self, effects: Effects) -> dict[str, Any]:
        """The queries and network fields of an attempt."""
        db = queries = calls = urls = None
        try:
            if self.db:
                db, queries = effects.db_summary(TRACKER.settings.n_plus_one)
            if self.net:
                calls = effects.network()
                urls = list(dict.fromkeys(call["url"] for call in calls if call["url"])) if calls else []
        except Exception as exc:
            self.guard.fail("instruments", exc)
        return {"db": db, "db_queries": queries, "network": calls, "net_urls": urls}

    def process_peak_kb(self) -> int | None:
        return self.memory.process_peak_kb() if self.memory is not None else None

    def close(self) -> None:
        """The run is over: restore everything that was patched."""
        TRACKER.current = None
        for instrument in reversed(self.installed):
            try:
                instrument.uninstall()
            except Exception as exc:
                instrument.fail(exc)
        self.installed.clear()
        self.network = None
