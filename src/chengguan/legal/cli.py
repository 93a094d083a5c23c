"""`chengguan legal load|lookup|search`."""

from __future__ import annotations

from pathlib import Path

import typer

from chengguan.console import cli_session, reports_errors
from chengguan.legal import service

app = typer.Typer(help="Laws, articles and case causes / 法律法规与案由", no_args_is_help=True)


@app.command("load")
@reports_errors
def load(
    directory: Path | None = typer.Argument(None, help="folder of statute .md files (default: the shipped 31 texts)"),
) -> None:
    """Load the statute texts, then the shipped case causes (案由). Safe to run again."""
    with cli_session("legal load") as session:
        report = service.load_laws(session, directory)
        causes = service.load_causes(session)
        unlinked = service.unlinked_provisions(session)
    typer.echo(
        f"documents: {report.documents_added} added, {report.documents_updated} updated, "
        f"{report.documents_unchanged} unchanged; articles: {report.articles_added} added, "
        f"{report.articles_updated} updated, {report.articles_removed} removed"
    )
    typer.echo(f"case causes: {causes} added or updated")
    for code, provision in unlinked:
        typer.echo(f"  not among the loaded texts: {code} {provision.role} {provision.ref}")


@app.command("lookup")
@reports_errors
def lookup(ref: str = typer.Argument(..., help="e.g. 'BJ市容 35 para 5', '噪声法 77(二)', '法 51'")) -> None:
    """Print the exact text a citation names."""
    with cli_session("legal lookup") as session:
        resolved = service.lookup(session, ref)
        typer.echo(resolved.citation)
        typer.echo(resolved.text)


@app.command("search")
@reports_errors
def search(
    q: str = typer.Argument(..., help="words separated by spaces; all must occur"),
    document: int | None = typer.Option(None, help="only this document id"),
    limit: int = typer.Option(20, min=1, max=100),
) -> None:
    """Keyword search over article texts, the best matches first."""
    with cli_session("legal search") as session:
        results = service.search(session, q, document_id=document, limit=limit)
        for hit in results.hits:
            typer.echo(f"{hit.article.document.short_title}{hit.article.label} [{hit.score}] {hit.snippet}")
    typer.echo(f"{results.total} article(s) match")
