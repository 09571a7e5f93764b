"""Entry point of the console script and of the PyInstaller binary.

The single mapping from exceptions to exit status lives here: an expected
failure prints one ``error:`` line (a traceback only with ``--debug``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

import click

from .errors import ExitCode, InferCostError

# Variables PyInstaller's bootloader points at the bundle; it keeps what the user had in ``<NAME>_ORIG``.
_BOOTLOADER_PATHS = ("LD_LIBRARY_PATH", "LIBPATH", "DYLD_LIBRARY_PATH")


def restore_user_environment(environ: MutableMapping[str, str], bundle: str) -> None:
    """Give child processes (exec credential plugins such as ``aws eks get-token``) the user's environment.

    Without this they would load the bundle's libraries (libssl, libpython) instead of their own, and a
    child that is itself a PyInstaller program (the AWS CLI v2) would mistake our bundle for its own.
    """
    for name in _BOOTLOADER_PATHS:
        original = environ.pop(f"{name}_ORIG", None)
        if original is not None:
            environ[name] = original
        elif name in environ:
            kept = [p for p in environ[name].split(os.pathsep) if p and not p.startswith(bundle)]
            if kept:
                environ[name] = os.pathsep.join(kept)
            else:
                del environ[name]
    for name in [key for key in environ if key.startswith("_PYI_") or key == "_MEIPASS2"]:
        del environ[name]


def matplotlib_cache(environ: MutableMapping[str, str], version: str) -> None:
    """A frozen binary's matplotlib keeps its font cache per release, where the user's caches live.

    Created by matplotlib only when a command draws (the board report); a per-release folder never
    holds font paths of another release's bundle.
    """
    if "MPLCONFIGDIR" not in environ:
        home = environ.get("HOME") or os.path.expanduser("~")
        base = environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
        environ["MPLCONFIGDIR"] = os.path.join(base, "kubectl-infercost", f"matplotlib-{version}")


def main(argv: list[str] | None = None) -> int:
    if getattr(sys, "frozen", False):
        from .buildinfo import VERSION

        restore_user_environment(os.environ, getattr(sys, "_MEIPASS", sys.prefix))
        matplotlib_cache(os.environ, VERSION)
    from .cli import root

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["__complete"]:
        from .cli.completion import complete_for_kubectl

        return complete_for_kubectl(root, args[1:])
    if "_KUBECTL_INFERCOST_COMPLETE" in os.environ:
        from .cli.completion import complete_for_shell

        return complete_for_shell(root)
    return _run(root, args)


def _run(root: click.Group, args: list[str]) -> int:
    """The command's exit code; every error becomes one ``error: ...`` line on stderr."""
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


def complete() -> int:
    """The ``kubectl_complete-infercost`` console script: kubectl's plugin completion of a pip install."""
    return main(["__complete", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
