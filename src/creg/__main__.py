"""Command line: ``python -m creg COMMAND [options]``; ``--help`` lists
the commands and their options."""
import argparse
import os
import sys

from creg import _sweep_command, demo

_CONFIG_HELP = ("print how creg was built and what it will run with "
                "(creg.show_config)")


def _config(args, out=None):
    from creg import show_config
    show_config(file=out)


def build_parser():
    """The parser of every command, each with its options."""
    parser = argparse.ArgumentParser(
        prog="python -m creg",
        description="creg: fast CPU training of fully-connected networks "
                    "with exact regularizers.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     required=True)
    run_demo = commands.add_parser(
        "demo", help=demo.HELP, description=demo.DESCRIPTION)
    demo.add_arguments(run_demo)
    run_demo.set_defaults(run=demo.run, check=demo.check_arguments,
                          parser=run_demo)
    config = commands.add_parser("config", help=_CONFIG_HELP,
                                 description=_CONFIG_HELP)
    config.set_defaults(run=_config, check=lambda parser, args: None,
                        parser=config)
    run_sweep = commands.add_parser(
        "sweep", help=_sweep_command.HELP,
        description=_sweep_command.DESCRIPTION)
    _sweep_command.add_arguments(run_sweep)
    run_sweep.set_defaults(run=_sweep_command.run,
                           check=_sweep_command.check_arguments,
                           parser=run_sweep)
    usages = "\n".join("  " + sub.format_usage().strip()[len("usage: "):]
                       for sub in commands.choices.values())
    parser.epilog = ("commands and their options (python -m creg COMMAND "
                     f"--help says more):\n{usages}")
    return parser


def main(argv=None):
    """Run one command; returns the exit status: 2 for a usage error (from
    argparse), 1 for an error met while running (the message on stderr,
    no traceback), 130 for Ctrl-C, also where a sweep printed the runs it
    finished before it."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.check(args.parser, args)  # usage errors before any work
        outcome = args.run(args)
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except BrokenPipeError:  # the reader left (| head): nothing to say
        _discard_stdout()
        return 1
    except (OSError, MemoryError, ValueError, ArithmeticError,
            RuntimeError) as exc:
        _say(f"{args.parser.prog}: error: {exc}")
        return 1
    if getattr(outcome, "interrupted", False):
        _say("interrupted")
        return 130
    return 0


def _say(line):
    """A line on stderr, unless there is none (pythonw, 2>&-)."""
    if sys.stderr is not None:
        print(line, file=sys.stderr)


def _discard_stdout():
    """Points stdout at the null device, so that the flush at exit does not
    meet the broken pipe again (Python's advice for SIGPIPE)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
