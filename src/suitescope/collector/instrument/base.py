"""What every instrument is: a named part that installs into one library, and switches itself off for good at
its first internal error, with one summary line.

An instrument patches nothing until its library has been imported by the suite (`manager.CATALOGUE` says which), so
a suite that never uses Django pays nothing for the Django instrument. Its wrappers check `on` at call time and
call straight through when it is off, because a patch may outlive `uninstall` where a library keeps a reference
to the patched function. The user's call always runs outside our bookkeeping: an exception of the user's query
propagates untouched, and an exception of ours never reaches the user.
"""

from __future__ import annotations

from suitescope.collector.guard import Guard
from suitescope.collector.instrument.effects import TRACKER, Tracker


class Instrument:
    """Base of all instruments (subclasses set `name`, `group` and the two hooks)."""

    name = ""
    group = ""  # what `--suitescope-instruments` selects: db, net or mem

    def __init__(self, guard: Guard, tracker: Tracker = TRACKER) -> None:
        self.guard = guard
        self.tracker = tracker
        self.on = False

    def install(self) -> None:
        """Hook into the library; called once, after the library was imported."""

    def uninstall(self) -> None:
        """Restore everything `install` changed; the wrappers stop recording even where a patch remains."""

    def fail(self, exc: BaseException) -> None:
        """Our bookkeeping raised: stop recording, for the rest of the run, and say so once at the end."""
        self.on = False
        self.guard.fail(f"instrument {self.name}", exc)
