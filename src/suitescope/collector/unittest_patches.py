"""What unittest does not report by itself: where each phase of a test ends, and how many `assert*` calls passed
and failed. Both come from thin wrappers put on the framework's classes, never on the user's, and removed at the
end of the run.

- **Phases.** `TestCase.run` calls `_callSetUp`, `_callTestMethod` and `_callTearDown` (since Python 3.8;
  `IsolatedAsyncioTestCase` overrides them). A wrapper notes when the first two return, so a test's time splits
  into setup (from `startTest`, Django's `_pre_setup` included), call, and teardown (`tearDown`, cleanups, up to
  `stopTest`), as pytest's phases do.
- **Assertions.** Every `assert*` method that `unittest.TestCase` and Django's test case classes define counts as
  one assertion, passed when it returns and failed when it raises. `assertEqual` calling `assertListEqual` is one
  assertion (only the outermost call counts). The context-manager forms (`with self.assertRaises(...)`,
  `assertLogs`, Django's `assertNumQueries`) count when their block ends: their class's `__exit__` is wrapped the
  first time one is returned.

Wrappers are installed lazily, per class, the first time a test of a new class starts, so a suite that never
uses Django's classes never touches them. Each wrapper calls the original with the same arguments and returns or
raises what it does.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any

# Modules whose test case classes get the wrappers: the standard library's and Django's, never the user's.
FRAMEWORK_MODULES = ("unittest.", "django.test.")
PHASE_METHODS = {"_callSetUp": "call", "_callTestMethod": "teardown"}  # the phase that starts once it returns


class Clock:
    """Where the running test is: when its setup and call ended, and how many assertions it made."""

    def __init__(self) -> None:
        self.on_phase: Callable[[str], None] | None = None  # told "call" / "teardown" (the instruments)
        self.reset()

    def reset(self) -> None:
        self.setup_end: float | None = None
        self.call_end: float | None = None
        self.passed = 0
        self.failed = 0
        self.depth = 0  # > 0 inside a counted assertion: what it calls is not counted again

    def mark(self, phase: str, raised: bool) -> None:
        now = time.perf_counter()
        if phase == "call":
            self.setup_end = now
            phase = "teardown" if raised else "call"  # a failed setUp: no call, the cleanups come next
        else:
            self.call_end = now
        if self.on_phase is not None:
            self.on_phase(phase)


CLOCK = Clock()
__unittest = True  # unittest leaves the wrappers' frames out of the tracebacks it prints, as its own


class Patches:
    """The wrappers in place, to be removed by `uninstall`."""

    def __init__(self) -> None:
        self.installed: list[tuple[type, str, Any]] = []
        self.seen: set[type] = set()

    def prepare(self, test_class: type) -> None:
        """Wrap the framework classes `test_class` inherits from, once per class."""
        if test_class in self.seen:
            return
        self.seen.add(test_class)
        for cls in test_class.__mro__:
            if cls in self.seen and cls is not test_class:
                continue
            self.seen.add(cls)
            if cls.__module__.startswith(FRAMEWORK_MODULES) or cls.__module__ == "unittest":
                self.wrap_class(cls)

    def wrap_class(self, cls: type) -> None:
        for name, value in list(vars(cls).items()):
            if not inspect.isfunction(value):
                continue
            if name.startswith("assert"):
                self.replace(cls, name, counted(value, self))
            elif name in PHASE_METHODS:
                self.replace(cls, name, marking(value, PHASE_METHODS[name]))

    def watch_context(self, cls: type) -> None:
        """Count a context-manager assertion when its block ends (its class's `__exit__`, wrapped once)."""
        if cls in self.seen:
            return
        self.seen.add(cls)
        original = vars(cls).get("__exit__")
        if original is None:  # inherited: wrap it where this class can see it
            original = cls.__exit__  # type: ignore[attr-defined]
        self.replace(cls, "__exit__", counted_exit(original))

    def replace(self, cls: type, name: str, wrapper: Any) -> None:
        self.installed.append((cls, name, vars(cls).get(name)))
        setattr(cls, name, wrapper)

    def uninstall(self) -> None:
        for cls, name, original in reversed(self.installed):
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)
        self.installed.clear()
        self.seen.clear()


def counted(method: Callable[..., Any], patches: Patches) -> Callable[..., Any]:
    @functools.wraps(method)
    def assertion(*args: Any, **kwargs: Any) -> Any:
        clock = CLOCK
        if clock.depth:
            return method(*args, **kwargs)
        clock.depth = 1
        try:
            result = method(*args, **kwargs)
        except BaseException:
            clock.failed += 1
            raise
        finally:
            clock.depth = 0
        if result is not None and hasattr(type(result), "__exit__"):
            patches.watch_context(type(result))  # the with-form: it passes or fails when its block ends
        else:
            clock.passed += 1
        return result

    return assertion


def counted_exit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __exit__(self: Any, exc_type: Any, exc: Any, tb: Any) -> Any:
        clock = CLOCK
        if clock.depth:
            return original(self, exc_type, exc, tb)
        clock.depth = 1
        try:
            handled = original(self, exc_type, exc, tb)
        except BaseException:
            clock.failed += 1
            raise
        finally:
            clock.depth = 0
        if exc_type is None or handled:  # an unrelated exception leaving the block decided nothing
            clock.passed += 1
        return handled

    return __exit__


def marking(method: Callable[..., Any], phase: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def phase_end(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except BaseException:
            CLOCK.mark(phase, raised=True)
            raise
        CLOCK.mark(phase, raised=False)
        return result

    return phase_end
