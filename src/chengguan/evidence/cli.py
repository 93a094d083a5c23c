"""`chengguan evidence add|sth|rotate-key|bundle|verify|audit`."""

from __future__ import annotations

from pathlib import Path

import typer

from chengguan.config import get_settings
from chengguan.console import EXIT_INPUT, cli_session, reports_errors
from chengguan.evidence import bundle, integrity, service, sth
from chengguan.evidence import verify as verifier
from chengguan.evidence.models import EvidenceType
from chengguan.evidence.schemas import EvidenceIn
from chengguan.evidence.storage import blob_store
from chengguan.orgs import service as orgs_service

app = typer.Typer(help="Evidence ledger / 执法证据存证", no_args_is_help=True)


@app.command("add")
@reports_errors
def add(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    subject_id: str = typer.Option(..., "--case", help="the case number (or subject id with --subject-type)"),
    evidence_type: EvidenceType = typer.Option(..., "--type"),
    org: str = typer.Option(..., help="code of the collecting unit"),
    subject_type: str = typer.Option("case"),
    device: str | None = typer.Option(None),
    description: str | None = typer.Option(None),
) -> None:
    """Store a file as evidence and record it in the log."""
    settings = get_settings()
    with cli_session("evidence add") as session, file.open("rb") as stream:
        meta = EvidenceIn(
            subject_type=subject_type,
            subject_id=subject_id,
            evidence_type=evidence_type,
            org_id=orgs_service.get_by_code(session, org).id,
            device=device,
            description=description,
        )
        item = service.add_evidence(
            session, blob_store(settings), stream, file.name, meta, max_bytes=settings.evidence_max_mb * 2**20
        )
        typer.echo(f"evidence {item.id}: {item.sha256} {item.media_type} {item.size} bytes, log entry {item.log_index}")


@app.command("sth")
@reports_errors
def issue() -> None:
    """Sign a tree head now (the worker does this on a schedule)."""
    with cli_session("evidence sth") as session:
        head = sth.issue_sth(session, get_settings())
        typer.echo(f"tree size {head.tree_size} root {verifier.b64(head.root_hash)} key {head.key_id}")


@app.command("rotate-key")
@reports_errors
def rotate_key() -> None:
    """Make a new signing key; the change is itself logged under the old key."""
    with cli_session("evidence rotate-key") as session:
        key = sth.rotate_key(session, get_settings())
        typer.echo(f"new signing key {key.key_id} public {verifier.b64(key.public_key)}")


@app.command("bundle")
@reports_errors
def export(
    subject_id: str = typer.Argument(..., help="case number"),
    out: Path = typer.Option(..., "--out", "-o", dir_okay=False),
    subject_type: str = typer.Option("case"),
) -> None:
    """Export a subject's evidence, log entries, proofs, tree head and key as one zip."""
    settings = get_settings()
    with cli_session("evidence bundle") as session, out.open("wb") as stream:
        head = bundle.export_bundle(session, settings, blob_store(settings), subject_type, subject_id, stream)
    typer.echo(f"wrote {out} (tree size {head.tree_size}, key {head.key_id})")


@app.command("verify")
def verify_bundle(
    path: Path = typer.Argument(..., help="bundle zip"),
    key: list[str] = typer.Option([], "--key", help="trusted key id or base64 public key (as published)"),
) -> None:
    """Check a bundle offline (no database): exit 0 verified, 2 not verified."""
    verdict = verifier.verify_bundle(str(path), key)
    typer.echo(verdict.text())
    if not verdict.ok:
        raise typer.Exit(EXIT_INPUT)


@app.command("audit")
def audit(
    workers: int = typer.Option(0, min=0, help="worker processes sharing the hashing; pays only on idle cores"),
) -> None:
    """Recompute the whole log and every file hash; name the first entry that does not match."""
    settings = get_settings()
    with cli_session("evidence audit") as session:
        report = integrity.audit(session, blob_store(settings), workers=workers)
    typer.echo(
        f"{report.entries} entries, {report.tiles} tiles, {report.tree_heads} tree heads, {report.files} files checked"
    )
    if report.ok:
        typer.echo("the log is intact / 存证日志完整")
        return
    typer.echo(f"first entry that does not match: {report.first_bad_index}")
    for index, problem in report.problems:
        typer.secho(f"  [{'-' if index is None else index}] {problem}", err=True, fg=typer.colors.RED)
    raise typer.Exit(EXIT_INPUT)
