"""Command line: `python -m creg demo [--epochs N] [--seed S]`."""
import sys

from creg import demo

COMMANDS = {"demo": demo.main}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m creg demo [--epochs N] [--seed S]",
              file=sys.stderr)
        return 2
    COMMANDS[argv[0]](argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
