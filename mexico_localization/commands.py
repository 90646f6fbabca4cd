"""The app's bench commands: `bench --site SITE mexico-localization demo [start|stop|status]`."""

from __future__ import annotations

import click
from frappe.commands import get_site, pass_context

from mexico_localization.einvoice.pipeline import preload

if preload.is_worker():  # `bench worker` imports this module before it forks a process per job
    preload.preload()


@click.group("mexico-localization")
def mexico_localization() -> None:
    """CFDI 4.0 e-invoicing (mexico_localization)."""


@mexico_localization.command("demo")
@click.argument("action", type=click.Choice(["start", "stop", "status"]), default="start")
@click.option("--port", type=int, default=None, help="the sandbox's port on 127.0.0.1 (default 8787)")
@pass_context
def demo(context, action: str, port: int | None) -> None:
    """A working demo on the built-in sandbox FacturaAPI: no account, no fiscal validity."""
    import frappe

    from mexico_localization.demo import run

    site = get_site(context)
    frappe.init(site=site)
    frappe.connect()
    try:
        frappe.set_user("Administrator")
        report = {"start": lambda: run.start(port), "stop": run.stop, "status": run.status}[action]()
    except run.LiveKeyError as refusal:
        raise click.ClickException(str(refusal)) from None
    finally:
        frappe.destroy()
    for line in report.done:
        click.secho(f"✔ {line}", fg="green")
    for line in report.missing:
        click.secho(f"✘ {line}", fg="yellow")
    for number, line in enumerate(report.next_steps, start=1):
        click.echo(f"{number}. {line}")


commands = [mexico_localization]
