"""What a user can choose about the instruments, checked before any of them is loaded, so that a typo is a
usage error naming the bad value rather than a silent default."""

from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = ("db", "net", "mem")
MEMORY_MODES = ("rss", "peak", "tracemalloc")


@dataclass
class Settings:
    """What the user chose for the instruments; here, not with them, so that checking options loads none."""

    n_plus_one: int = 5  # the same SELECT shape this many times in one test is an N+1 finding
    record_params: bool = False  # a sample of bound parameters per query shape (off: values never leave)
    block_network: bool = False  # fail a test that connects to a host that is not loopback


@dataclass(frozen=True)
class InstrumentOptions:
    groups: frozenset[str]
    settings: Settings = field(default_factory=Settings)
    memory: str = "rss"


def parse_groups(text: str | None) -> frozenset[str]:
    """`db,net,mem`, `all` or `none` (spaces and case ignored); raises ValueError naming a bad name."""
    names = {part.strip().lower() for part in (text or "all").split(",") if part.strip()}
    if names <= {"all"}:
        return frozenset(GROUPS)
    if names == {"none"}:
        return frozenset()
    unknown = names - set(GROUPS)
    if unknown:
        raise ValueError(
            f"unknown instrument {', '.join(sorted(unknown))}: choose from {', '.join(GROUPS)}, all or none"
        )
    return frozenset(names)


def instrument_options(
    groups: str | None, n_plus_one: str | int | None, memory: str | None, record_params: bool, block_network: bool
) -> InstrumentOptions:
    """Checked options; raises ValueError with a message that says what is wrong and what is allowed."""
    try:
        threshold = int(n_plus_one if n_plus_one is not None else 5)
    except ValueError:
        raise ValueError(f"the N+1 threshold must be a whole number, not {n_plus_one!r}") from None
    if threshold < 2:
        raise ValueError(f"the N+1 threshold must be 2 or more, not {threshold}")
    mode = (memory or "rss").strip().lower()
    if mode not in MEMORY_MODES:
        raise ValueError(f"the memory mode must be one of {', '.join(MEMORY_MODES)}, not {memory!r}")
    settings = Settings(n_plus_one=threshold, record_params=record_params, block_network=block_network)
    return InstrumentOptions(parse_groups(groups), settings, mode)
