"""What every request of one server process shares: settings, store, queue, metrics, rate limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from suitescope.server.accountcache import AccountCache
from suitescope.server.findcache import FindingsCache
from suitescope.server.metrics import Metrics
from suitescope.server.queue import Queue
from suitescope.server.ratelimit import RateLimiter
from suitescope.server.settings import ServerSettings
from suitescope.server.store import Store


@dataclass
class ServerState:
    settings: ServerSettings
    store: Store
    queue: Queue
    metrics: Metrics
    limiter: RateLimiter
    findings: FindingsCache = field(default_factory=FindingsCache)
    accounts: AccountCache = field(default_factory=AccountCache)


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.suitescope
    return state
