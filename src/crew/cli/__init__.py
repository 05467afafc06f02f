"""The `crew` command line: one Typer app, one module per command group."""

from __future__ import annotations

from pathlib import Path

import typer

from crew.cli.alerts import alerts_app
from crew.cli.audit import audit_app
from crew.cli.blacklist import blacklist_app
from crew.cli.cases import cases_app, playbooks_app
from crew.cli.evaluating import backtest_command, report_command
from crew.cli.importing import import_command
from crew.cli.indicators import indicators_app
from crew.cli.models import (
    evaluate_command,
    explain_command,
    models_command,
    score_command,
    train_command,
)
from crew.cli.notify import notify_app
from crew.cli.replaying import replay_command
from crew.cli.run import run_command
from crew.cli.serving import serve_command, worker_command
from crew.cli.silences import silence_command, silences_command, unsilence_command
from crew.cli.simulating import simulate_command
from crew.cli.text import text_app
from crew.cli.thresholds import thresholds_app
from crew.cli.tokens import tokens_app
from crew.cli.users import users_app
from crew.cli.weights import weights_app
from crew.cli.workspace import init_command, status_command

app = typer.Typer(
    name="crew",
    help="CREW - Customer Relationship Early Warning (客户关系风险预警).\n\n"
    "Warns early, and with reasons, that a customer relationship is going bad.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Path = typer.Option(
        None,
        "--workspace",
        "-w",
        envvar="CREW_WORKSPACE",
        help="Workspace folder (default: the current folder).",
        show_default=False,
    ),
) -> None:
    ctx.obj = workspace if workspace is not None else Path.cwd()


app.command("init")(init_command)
app.command("import")(import_command)
app.command("simulate")(simulate_command)
app.command("status")(status_command)
app.add_typer(indicators_app, name="indicators")
app.add_typer(weights_app, name="weights")
app.add_typer(text_app, name="text")
app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
app.command("score")(score_command)
app.command("explain")(explain_command)
app.command("models")(models_command)
app.command("run")(run_command)
app.add_typer(thresholds_app, name="thresholds")
alerts_app.command("silence")(silence_command)
alerts_app.command("silences")(silences_command)
alerts_app.command("unsilence")(unsilence_command)
app.add_typer(alerts_app, name="alerts")
app.add_typer(notify_app, name="notify")
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(cases_app, name="cases")
app.add_typer(blacklist_app, name="blacklist")
app.command("serve")(serve_command)
app.command("worker")(worker_command)
app.add_typer(tokens_app, name="tokens")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.command("backtest")(backtest_command)
app.command("report")(report_command)
app.command("replay")(replay_command)


def main() -> None:
    """Entry point of the `crew` script."""
    app()


__all__ = ["app", "main"]
