"""Projects and tokens. A token is shown once, when made; the store keeps only its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, insert, select, update

from suitescope.server.clock import now_iso
from suitescope.server.store.tables import projects, tokens

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")
TOKEN_PREFIX = "sst_"


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    public: bool
    anonymous: bool


@dataclass(frozen=True)
class Principal:
    """Who a request's token says it is."""

    token_id: int
    scope: Scope
    project_id: int | None  # None for an admin token: every project


@dataclass(frozen=True)
class TokenInfo:
    id: int
    scope: str
    project: str | None
    prefix: str
    note: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _project(row: object) -> Project:
    return Project(row.id, row.name, bool(row.public), bool(row.anonymous))  # type: ignore[attr-defined]


def find_project(conn: Connection, name: str) -> Project | None:
    row = conn.execute(select(projects).where(projects.c.name == name)).first()
    return _project(row) if row else None


def project_by_id(conn: Connection, project_id: int) -> Project | None:
    row = conn.execute(select(projects).where(projects.c.id == project_id)).first()
    return _project(row) if row else None


def list_projects(conn: Connection) -> list[Project]:
    return [_project(row) for row in conn.execute(select(projects).order_by(projects.c.name))]


def create_project(conn: Connection, name: str, *, public: bool | None = None, anonymous: bool = False) -> Project:
    """The project named `name`, made if new (private unless `public`); for one that exists, only an explicit
    `public` changes anything (making a token for a public project must not make it private)."""
    found = find_project(conn, name)
    if found is not None:
        if public is not None and found.public != public:
            conn.execute(update(projects).where(projects.c.id == found.id).values(public=public))
            return Project(found.id, found.name, public, found.anonymous)
        return found
    made = bool(public)
    result = conn.execute(insert(projects).values(name=name, public=made, anonymous=anonymous, created_at=now_iso()))
    assert result.inserted_primary_key is not None
    return Project(int(result.inserted_primary_key[0]), name, made, anonymous)


def create_token(conn: Connection, scope: Scope, project_id: int | None, note: str | None = None) -> str:
    """A new token; the caller shows it once. Project tokens need a project, admin tokens have none."""
    if (scope == "admin") != (project_id is None):
        raise ValueError("an admin token has no project; ingest and read tokens need one")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(tokens).values(
            project_id=project_id,
            scope=scope,
            token_hash=hash_token(token),
            prefix=token[:12],
            note=note,
            created_at=now_iso(),
        )
    )
    return token


def principal(conn: Connection, token: str) -> Principal | None:
    row = conn.execute(
        select(tokens.c.id, tokens.c.scope, tokens.c.project_id).where(
            tokens.c.token_hash == hash_token(token), tokens.c.revoked_at.is_(None)
        )
    ).first()
    return Principal(row.id, row.scope, row.project_id) if row else None


def list_tokens(conn: Connection) -> list[TokenInfo]:
    query = (
        select(tokens, projects.c.name.label("project"))
        .select_from(tokens.outerjoin(projects, tokens.c.project_id == projects.c.id))
        .order_by(tokens.c.id)
    )
    return [
        TokenInfo(r.id, r.scope, r.project, r.prefix, r.note, r.created_at, r.last_used_at, r.revoked_at)
        for r in conn.execute(query)
    ]


def revoke_token(conn: Connection, token_id: int) -> bool:
    result = conn.execute(
        update(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None)).values(revoked_at=now_iso())
    )
    return result.rowcount == 1


def touch_token(conn: Connection, token_id: int) -> None:
    conn.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=now_iso()))


def set_webhook_secret(conn: Connection, project_id: int) -> str:
    """A new secret for the project's GitHub webhook (the old one stops working)."""
    secret = secrets.token_hex(32)
    conn.execute(update(projects).where(projects.c.id == project_id).values(webhook_secret=secret))
    return secret


def webhook_secret(conn: Connection, project_id: int) -> str | None:
    value = conn.execute(select(projects.c.webhook_secret).where(projects.c.id == project_id)).scalar_one_or_none()
    return str(value) if value else None
