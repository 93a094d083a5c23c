"""`chengguan user add|list|key`."""

from __future__ import annotations

import typer

from chengguan.auth import service
from chengguan.auth.roles import Role
from chengguan.auth.schemas import UserIn
from chengguan.console import cli_session, reports_errors
from chengguan.orgs import service as orgs_service

app = typer.Typer(help="Users and system accounts / 用户与系统账户", no_args_is_help=True)


@app.command("add")
@reports_errors
def add(
    username: str,
    role: list[Role] = typer.Option(..., "--role", "-r", help="repeat for several roles"),
    org: str | None = typer.Option(None, help="organisation code (omit for a citizen)"),
    name: str | None = typer.Option(None, help="display name (default: the username)"),
    system: bool = typer.Option(False, help="a system account (device, external system): API key, no password"),
    password: str | None = typer.Option(None, help="prompted for when omitted"),
) -> None:
    """Add a user (or a system account, which then gets an API key)."""
    if not system and password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with cli_session("user add") as session:
        org_id = orgs_service.get_by_code(session, org).id if org else None
        user = service.create_user(
            session,
            UserIn(
                username=username,
                display_name=name or username,
                kind="system" if system else "person",
                password=password,
                org_id=org_id,
                roles=role,
            ),
        )
        key = service.create_api_key(session, user, "cli", None)[1] if system else None
    typer.echo(f"created user {user.id} {username} ({', '.join(role)})")
    if key:
        typer.echo(f"API key (shown once): {key}")


@app.command("list")
def list_users(role: Role | None = None, limit: int = 100) -> None:
    """List users with their organisation and roles."""
    with cli_session("user list") as session:
        rows, total = service.list_users(session, role=role, limit=limit)
        for u in rows:
            typer.echo(
                f"{u.id:>6}  {u.username:<28} {u.display_name:<16} org={u.org_id} "
                f"roles={','.join(sorted(u.role_names))}{'' if u.active else '  (disabled)'}"
            )
    typer.echo(f"{total} user(s)")
