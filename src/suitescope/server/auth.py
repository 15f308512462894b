"""Who may do what. Tokens come as `Authorization: Bearer <token>`; the store keeps only their hash.

- an **ingest** token writes runs, JUnit files and annotations of its own project, and reads the status of what
  it sent;
- a **read** token reads its (private) project; public projects need no token;
- an **admin** token does all of that for every project, and creates projects.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from suitescope.server.errors import ApiError
from suitescope.server.ratelimit import retry_after
from suitescope.server.state import ServerState, state_of
from suitescope.server.store.accounts import Principal, Project, find_project


@dataclass(frozen=True)
class Caller:
    principal: Principal | None
    state: ServerState

    def may_read(self, project: Project) -> bool:
        p = self.principal
        if project.public:
            return True
        return p is not None and (p.scope == "admin" or (p.scope == "read" and p.project_id == project.id))

    def may_write(self, project: Project) -> bool:
        p = self.principal
        return p is not None and (p.scope == "admin" or (p.scope == "ingest" and p.project_id == project.id))

    def may_see_status(self, project_id: int) -> bool:
        p = self.principal
        return p is not None and (p.scope == "admin" or p.project_id == project_id)

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.scope == "admin"


def caller(request: Request) -> Caller:
    """FastAPI dependency: the request's token checked (401 if unknown), and the caller's rate limit (429)."""
    state = state_of(request)
    token, from_cookie = _bearer(request)
    found = None
    if token is not None:
        found = state.accounts.principal(state.store, token)
        if found is None and not from_cookie:  # a revoked token in a cookie: the pages ask for another
            raise ApiError(
                401,
                "the token is not valid: it was revoked or never made",
                [{"loc": ["header", "authorization"], "msg": "make one with `suitescope token create`"}],
                {"WWW-Authenticate": "Bearer"},
            )
    key = f"token:{found.token_id}" if found else f"addr:{request.client.host if request.client else '-'}"
    wait = state.limiter.check(key)
    if wait:
        raise ApiError(
            429,
            "too many requests for this token: slow down",
            [{"loc": ["header", "authorization"], "msg": f"retry in {retry_after(wait)} s"}],
            {"Retry-After": retry_after(wait)},
        )
    return Caller(found, state)


TOKEN_COOKIE = "suitescope_token"  # the dashboard keeps a read token here (HttpOnly, SameSite=Strict)


def _bearer(request: Request) -> tuple[str | None, bool]:
    """The request's token, and whether it came from the dashboard's cookie."""
    header = request.headers.get("authorization")
    if header is None:  # the dashboard's cookie serves pages and reads only, never a write
        cookie = request.cookies.get(TOKEN_COOKIE) if request.method in ("GET", "HEAD") else None
        return cookie or None, True
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "the Authorization header must be `Bearer <token>`",
            [{"loc": ["header", "authorization"], "msg": "expected `Bearer <token>`"}],
            {"WWW-Authenticate": "Bearer"},
        )
    return token.strip(), False


def project_for_write(who: Caller, name: str | None) -> Project:
    """The project a write goes to: the token's own (or `name`, which must be it); admins must name one."""
    p = who.principal
    if p is None:
        raise ApiError(
            401,
            "writing needs a token",
            [{"loc": ["header", "authorization"], "msg": "send `Authorization: Bearer <ingest token>`"}],
            {"WWW-Authenticate": "Bearer"},
        )
    if name is None and p.project_id is None:
        raise ApiError(422, "an admin token must name the project", [{"loc": ["query", "project"], "msg": "required"}])
    project = who.state.accounts.project(who.state.store, name, p.project_id)
    if project is None and p.scope == "admin":
        raise ApiError(404, f"no project named {name!r}", [{"loc": ["query", "project"], "msg": "create it first"}])
    if project is None or not who.may_write(project):
        raise ApiError(
            403,
            f"this token cannot write to project {name!r}",
            [{"loc": ["query", "project"], "msg": "an ingest token writes only its own project"}],
        )
    return project


def project_for_read(who: Caller, name: str) -> Project:
    """A project the caller may read; 404 for one that does not exist *or* that it may not see (no oracle)."""
    with who.state.store.read() as conn:
        project = find_project(conn, name)
    if project is None or not who.may_read(project):
        raise ApiError(
            404,
            f"no project named {name!r} that this token can read",
            [{"loc": ["query", "project"], "msg": "private projects need a read token of the project"}],
        )
    return project
