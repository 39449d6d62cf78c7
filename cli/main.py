"""Root of the CLI: sub-command registration and the one place errors become exit codes."""

from __future__ import annotations

import logging
import sys
import traceback

import typer

from cli import (
    accounts,
    accuracy,
    audit,
    caps,
    events,
    experiments,
    fit,
    ingest,
    jobs,
    keys,
    optimize,
    plot,
    policy,
    report,
    scheduler,
    serve,
    simulate,
    users,
)
from optimizer.errors import OptimizerError

__all__ = ["app", "main"]

EXIT_DOMAIN_ERROR = 1
EXIT_INTERNAL_ERROR = 70

app = typer.Typer(
    name="ppcopt",
    help="Split a capped PPC budget across campaigns and keywords, and prove why.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(message)s")


app.add_typer(accounts.app, name="accounts")
app.add_typer(plot.app, name="plot")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(caps.app, name="caps")
app.add_typer(events.app, name="events")
app.add_typer(policy.app, name="policy")
app.add_typer(audit.app, name="audit")
app.add_typer(experiments.app, name="experiments")
app.command("publish")(caps.publish_command)
app.command("ingest")(ingest.ingest_command)
app.command("simulate")(simulate.simulate_command)
app.command("fit")(fit.fit_command)
app.command("optimize")(optimize.optimize_command)
app.command("accuracy")(accuracy.accuracy_command)
app.command("backtest")(accuracy.backtest_command)
app.command("report")(report.report_command)
app.command("frontier")(optimize.frontier_command)
app.command("serve")(serve.serve_command)
app.add_typer(jobs.app, name="jobs")
app.command("scheduler")(scheduler.scheduler_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; domain errors print one line and exit 1, anything else exits 70."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as stop:
        return int(stop.code or 0) if not isinstance(stop.code, str) else 1
    except OptimizerError as error:
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(f"error: {error.message}", err=True)
        return EXIT_DOMAIN_ERROR
    except Exception as error:  # the last resort: never a bare traceback unless --debug
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(error).__name__}: {error} (rerun with --debug)", err=True
        )
        return EXIT_INTERNAL_ERROR
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
