"""What every command shares: the app, global logging options, config loading, errors."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from dksync import jsonio, logformat, logs
from dksync.cli import params
from dksync.cli.argv import hoist_globals, split_globals
from dksync.errors import DksyncError, FatalError
from dksync.kinds import SYNCED_KINDS, ObjectKind
from dksync.logformat import LogFormat

if TYPE_CHECKING:
    from dksync.config import Config

# Each command imports what it uses inside its body, so that ``--version`` and ``--help``
# load Typer and nothing else (no requests, engine, config, rich); a test keeps it so.

log = logging.getLogger("dksync.cli")

EXIT_CODES = (
    (0, "everything eligible was written (status --check: ok)"),
    (
        1,
        "some records rejected or uncertain, check not ready, a record asked for does not "
        "exist, reconcile found a problem (status --check: records need attention)",
    ),
    (2, "wrong usage (status --check: the last run failed, is too old, or none ran)"),
    (3, "a service could not be reached, kept failing, or refused the credentials"),
    (4, "bad configuration"),
    (5, "the state file cannot be used (it is left untouched)"),
    (6, "another dksync run holds the lock on this state file"),
    (70, "an error dksync has no rule for (run again with -vv --log-file)"),
    (130, "stopped by Ctrl-C (143: by SIGTERM); the run is recorded as interrupted"),
)
ALIASES = {
    "sync": "run",
    "push": "run",
    "start": "run",
    "log": "history",
    "logs": "history",
    "runs": "history",
    "errors": "failures",
    "rejected": "failures",
}
GLOBAL_HELP = (
    "Global options, before or after the command: -c/--config PATH, -v/-vv, -q, "
    "--log-file PATH, --log-format text|json, --company NAME, --jobs N (see 'dksync --help')."
)


def plain_help(text: str) -> str:
    """Help in the words of the README, without the Python type names Typer adds
    (``<str>``, ``<list[str]>``, ``{KIND}``, ``[x>=1]``)."""
    text = re.sub(r"\{([A-Z]+)\}", r"\1", text)
    text = re.sub(r" <[a-z_|\[\]]+>", "", text)
    return re.sub(r"\s*\[(?:[\d.]+<=)?x(?:[<>]=[\d.]+)?\]", "", text)


class DksyncCommand(TyperCommand):
    """A command whose help shows no Python type names, and whose options are read without
    Typer's Pydantic adapters (see ``cli.params``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        params.install(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def get_help(self, ctx: Any) -> str:
        return plain_help(super().get_help(ctx))

    def get_usage(self, ctx: Any) -> str:
        return plain_help(super().get_usage(ctx))


class _Mode:
    """Whether this invocation asked for ``--json``: then every exit path, a usage or
    config error included, prints one JSON document on stdout."""

    json = False


def wants_json(args: list[str]) -> bool:
    """``--json`` among the options (not after ``--``)."""
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def error_document(message: str, exit_code: int) -> dict[str, Any]:
    return {"error": message, "exit_code": exit_code}


INTERRUPTED = "interrupted (Ctrl-C)"


class DksyncGroup(TyperGroup):
    """The top-level group: global options are accepted after the command too, and help
    shows no Python type names."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As Click's, but with ``--json`` a usage error (exit 2) also prints its JSON
        error document, so a program reading stdout always gets one."""
        given = list(sys.argv[1:] if args is None else args)
        _Mode.json = wants_json(given)
        if not _Mode.json or not standalone_mode:
            return super().main(given, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(given, prog_name, complete_var, False, **extra)
        except typer.TyperException as exc:  # Click's own: usage errors, bad values
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            else:
                say_error(exc.format_message())
            print_json(error_document(exc.format_message(), exc.exit_code))
            sys.exit(exc.exit_code)
        except typer.Abort:
            print_json(error_document("aborted", 1))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        """As Click's, but a Ctrl-C outside a run (a run handles its own signals) is one
        line and exit 130, with ``--json`` its error document too, where Click would say
        "Aborted!" and exit 1, the code for rejected records."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            say_error(INTERRUPTED)
            if _Mode.json:
                print_json(error_document(INTERRUPTED, 130))
            raise typer.Exit(130) from None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        params.install(self.get_params(ctx))
        if ctx.parent is None:
            ctx.meta[ARGS_KEY] = list(args)
        return super().parse_args(ctx, hoist_globals(args))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As Click's, but a word people use for a command names it (``dksync sync``: did
        you mean 'run'?), where Click would guess by spelling alone ('resync')."""
        name = args[0] if args else ""
        if ctx.parent is None and name in ALIASES and self.get_command(ctx, name) is None:
            ctx.fail(f"No such command '{name}'. Did you mean '{ALIASES[name]}'?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Each command with its whole first sentence, wrapped, not cut at the width."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        """The top-level help ends with the exit codes (the README's table, shorter)."""
        super().format_epilog(ctx, formatter)
        if ctx.parent is None:
            with formatter.section("Exit codes"):
                formatter.write_dl([(str(code), words) for code, words in EXIT_CODES])

    def get_help(self, ctx: Any) -> str:
        return plain_help(super().get_help(ctx))

    def get_usage(self, ctx: Any) -> str:
        return plain_help(super().get_usage(ctx))


app = typer.Typer(
    name="dksync",
    cls=DksyncGroup,
    help="Sync customers, projects and invoices from Moment to DK+ (dkPlus).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)

ARGS_KEY = "dksync.args"
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@dataclass(frozen=True)
class Globals:
    """What the global options asked for, kept on the Click context for every command."""

    config: Path | None = None
    verbosity: int = 0
    quiet: bool = False
    company: str | None = None


def _version(value: bool) -> None:
    if value:
        from dksync import __version__

        sys.stdout.write(f"dksync {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Config file (default: $DKSYNC_CONFIG, else ./dksync.yaml).",
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            show_default=False,
            help="More detail: log lines on stderr (-vv for debug); 'run' lists every record.",
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Nothing on stdout, only errors on stderr.")
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH", help="Also write the log to this file (INFO, or DEBUG with -v)."
        ),
    ] = None,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            metavar="text|json",
            help="Log lines as text (default) or one JSON object per line (time, level, "
            "company, run id, message and fields).",
        ),
    ] = LogFormat.TEXT,
    company: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="With -c naming a folder of companies: only this one (its file's stem).",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            min=1, max=64, metavar="N", help="With a folder of companies: how many at once."
        ),
    ] = 2,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and stop."
        ),
    ] = False,
) -> None:
    """Sync customers, projects and invoices from Moment to DK+ (dkPlus). Global options
    may also be written after the command."""
    ctx.obj = Globals(config, verbose, quiet, company)
    with errors():
        logs.setup(verbose, quiet, log_file, log_format)
        if "--help" in ctx.meta.get(ARGS_KEY, []):
            return  # help reads no config (nor imports its reader)
        from dksync import config as config_module

        folder = config_module.find_config(config, os.environ)
        if company is None and ctx.invoked_subcommand is not None and folder.is_dir():
            from dksync.cli import companies  # only a folder of companies needs it

            front, rest = split_globals(ctx.meta.get(ARGS_KEY, []))
            companies.dispatch(folder, front, rest, jobs, quiet)


def globals_of(ctx: typer.Context) -> Globals:
    """The global options, from whichever command or sub-command is running."""
    found = ctx.find_object(Globals)
    return found if found is not None else Globals()


def object_type(value: str, hint: str = "KIND") -> ObjectKind:
    """An object kind from its singular or its plural, as the user wrote it."""
    name = value.strip().lower()
    for kind in SYNCED_KINDS:
        if name in (kind.value, kind.singular):
            return kind
    raise typer.BadParameter(
        f"unknown object type {value!r}; use customer(s), project(s) or invoice(s)",
        param_hint=hint,
    )


@contextmanager
def errors() -> Iterator[None]:
    """dksync's own errors become one plain line on stderr and their exit code."""
    try:
        yield
    except FatalError as exc:
        log.debug("the error and its causes: %s", logs.causes(exc))
        fail(str(exc), exc.exit_code)
    except DksyncError as exc:
        log.debug("the error and its causes: %s", logs.causes(exc))
        fail(str(exc), 3)


def fail(message: str, exit_code: int) -> NoReturn:
    """Stop with ``message`` on stderr and ``exit_code``; under ``--json`` also the error
    document on stdout."""
    say_error(message)
    if _Mode.json:
        print_json(error_document(message, exit_code))
    raise typer.Exit(exit_code)


def say_error(message: str) -> None:
    """One error line on stderr (with journald's error level when stderr is the journal),
    never hard-wrapped (cron mail and journald keep it whole)."""
    from rich.console import Console

    level = "<3>" if logformat.to_journal(os.environ) else ""
    Console(stderr=True).print(
        f"{level}dksync: {message}", markup=False, highlight=False, soft_wrap=True
    )


def load(ctx: typer.Context) -> Config:
    """The validated config named by ``-c`` (wherever it was written); its secrets are
    registered so no log line can show them."""
    from dksync import config as config_module

    with errors():
        chosen = globals_of(ctx)
        settings = config_module.load(chosen.config, company=chosen.company)
        logs.refuse_state(settings.state_path)
    secrets = [settings.moment.api_key.reveal(), settings.dkplus.token.reveal()]
    if settings.email is not None and settings.email.password is not None:
        secrets.append(settings.email.password.reveal())
    secrets.extend(url.reveal() for url in settings.notify.urls)
    if settings.monitor is not None:
        secrets.append(settings.monitor.ping_url.reveal())
    logs.forget_secrets(secrets)
    logformat.bind(company=settings.label)
    return settings


def load_for_reading(ctx: typer.Context) -> Config:
    """The config for a command that only reads the state: no secret is looked up, so it
    works where the secrets live only in the crontab line."""
    from dksync import config as config_module

    with errors():
        chosen = globals_of(ctx)
        settings = config_module.load_without_secrets(chosen.config, company=chosen.company)
        logs.refuse_state(settings.state_path)
    logformat.bind(company=settings.label)
    return settings


def print_json(document: Any) -> None:
    sys.stdout.write(jsonio.dumps(document) + "\n")
