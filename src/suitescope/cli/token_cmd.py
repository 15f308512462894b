"""`suitescope token` and `suitescope project`: who may send and read, managed on the store directly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from suitescope.cli.server_options import server_options

if TYPE_CHECKING:
    from suitescope.server.settings import ServerSettings


@click.group()
def token() -> None:
    """Make, list and revoke API tokens (shown once; the store keeps only their hash)."""


@token.command("create")
@server_options
@click.option("--project", help="the project the token is for (made if new); not for --scope admin.")
@click.option("--scope", type=click.Choice(["ingest", "read", "admin"]), required=True, help="what the token may do.")
@click.option("--note", help="a reminder of where the token is used.")
def token_create(settings: ServerSettings, project: str | None, scope: str, note: str | None) -> None:
    """Make a token and print it, once: ingest (send runs of PROJECT), read (read private PROJECT) or admin."""
    from suitescope.server.store.accounts import create_project, create_token

    if (scope == "admin") == (project is not None):
        raise click.UsageError("--project is required for ingest and read tokens, and not allowed for admin ones")
    store = _store(settings)
    with store.begin() as conn:
        project_id = create_project(conn, project).id if project else None
        made = create_token(conn, scope, project_id, note)  # type: ignore[arg-type]
    click.echo(made)
    click.echo(f"{scope} token{' for ' + project if project else ''}: shown once, keep it now.", err=True)


@token.command("ls")
@server_options
def token_ls(settings: ServerSettings) -> None:
    """List tokens: id, scope, project, prefix, when made, last used, revoked."""
    from suitescope.server.store.accounts import list_tokens

    with _store(settings).read() as conn:
        found = list_tokens(conn)
    table = Table("id", "scope", "project", "prefix", "note", "created", "revoked")
    for t in found:
        table.add_row(
            str(t.id), t.scope, t.project or "-", t.prefix + "...", t.note or "", t.created_at, t.revoked_at or ""
        )
    Console().print(table)


@token.command("revoke")
@server_options
@click.argument("token_id", type=int)
def token_revoke(settings: ServerSettings, token_id: int) -> None:
    """Revoke token TOKEN_ID (see `suitescope token ls`): requests with it get 401 from now on."""
    from suitescope.server.store.accounts import revoke_token

    with _store(settings).begin() as conn:
        if not revoke_token(conn, token_id):
            raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"token {token_id} revoked")


@click.group()
def project() -> None:
    """Create projects and set whether anyone may read them."""


@project.command("create")
@server_options
@click.argument("name")
@click.option(
    "--public/--private", default=False, show_default=True, help="public projects are readable without a token."
)
def project_create(settings: ServerSettings, name: str, public: bool) -> None:
    """Create project NAME (`vendor/name`), or change whether it is public."""
    from suitescope.server.store.accounts import create_project

    with _store(settings).begin() as conn:
        made = create_project(conn, name, public=public)
    click.echo(f"project {made.name}: {'public' if made.public else 'private'}")


@project.command("webhook")
@server_options
@click.argument("name")
def project_webhook(settings: ServerSettings, name: str) -> None:
    """Make a new secret for project NAME's GitHub webhook and print it, once (the old one stops working).

    On GitHub: Settings > Webhooks > Add webhook; payload URL https://YOUR-SERVER/api/v1/hooks/github?project=NAME,
    content type application/json, this secret, and the "Releases" event.
    """
    from suitescope.server.store.accounts import find_project, set_webhook_secret

    with _store(settings).begin() as conn:
        found = find_project(conn, name)
        if found is None:
            raise click.ClickException(f"no project {name!r}: create it with `suitescope project create {name}`")
        secret = set_webhook_secret(conn, found.id)
    click.echo(secret)
    click.echo(f"webhook secret for {name}: shown once, paste it into GitHub now.", err=True)


def _store(settings: ServerSettings):  # type: ignore[no-untyped-def]
    from suitescope.server.store import open_store
    from suitescope.server.store.migrate import StoreVersionError

    store = open_store(settings.database)
    try:
        store.migrate()
    except StoreVersionError as exc:
        raise click.ClickException(str(exc)) from None
    return store
