"""Command line: ``python -m questionnaires {list,check,check-lock,lock}``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .errors import DefinitionError, LockError
from .loader import load_all
from .lock import check_lock, update_lock
from .serialize import definition_hash


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` and return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "check"
    try:
        if command == "list":
            for d in load_all():
                print(f"{d.ref}\t{d.status}\t{definition_hash(d)[:12]}\t{d.title.vi}")
        elif command == "check":
            print(f"{len(load_all())} definitions load")
        elif command == "check-lock":
            problems = check_lock()
            for p in problems:
                print(p, file=sys.stderr)
            return 1 if problems else 0
        elif command == "lock":
            for name in update_lock():
                print(f"locked {name}")
        else:
            print("usage: python -m questionnaires {list,check,check-lock,lock}", file=sys.stderr)
            return 2
    except (DefinitionError, LockError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
