"""Entry point of the console script and of the PyInstaller binary.

The single mapping from exceptions to exit status lives here: an expected
failure prints one ``error:`` line (a traceback only with ``--debug``).
"""

from __future__ import annotations

import sys

import click

from .errors import ExitCode, InferCostError


def main(argv: list[str] | None = None) -> int:
    from .cli import root

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        status = root.main(args=args, prog_name="kubectl infercost", standalone_mode=False)
        if isinstance(status, int):
            return status
    except InferCostError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return int(ExitCode.ERROR)
    except click.UsageError as exc:
        # One line, as kubectl: what is wrong, then where the help is.
        command = exc.ctx.command_path if exc.ctx is not None else "kubectl infercost"
        click.echo(f"error: {exc.format_message()} (see '{command} --help')", err=True)
        return int(ExitCode.USAGE)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # A closed pipe (``| head``) is not an error of ours.
        sys.stderr.close()
        return int(ExitCode.OK)
    return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
