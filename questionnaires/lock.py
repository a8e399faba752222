"""The lock file of published questionnaire versions (published versions are immutable).

``questionnaires/lock.json`` records, for every published or retired file, the
SHA-256 of the file bytes and the :func:`definition_hash` of its content. Run
``python -m questionnaires check-lock`` (also a test) to verify it, and
``python -m questionnaires lock`` after adding a new version: it adds entries but
refuses to change an existing one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import LockError
from .loader import DEFAULT_ROOT, load_all
from .serialize import definition_hash

__all__ = ["LOCK_NAME", "check_lock", "compute_lock", "read_lock", "update_lock"]

LOCK_NAME = "lock.json"
LockEntries = dict[str, dict[str, str]]


def compute_lock(root: Path | str | None = None) -> LockEntries:
    """Return the lock entries of every non-draft file under ``root``.

    Returns
    -------
    dict
        ``"<key>/v<N>.json"`` → ``{"sha256": file hash, "definition_hash": ...}``.
    """
    base = Path(root) if root is not None else DEFAULT_ROOT
    entries: LockEntries = {}
    for defn in load_all(base):
        if defn.status == "draft":
            continue
        name = f"{defn.key}/v{defn.version}.json"
        file_hash = hashlib.sha256((base / name).read_bytes()).hexdigest()
        entries[name] = {"sha256": file_hash, "definition_hash": definition_hash(defn)}
    return entries


def read_lock(root: Path | str | None = None) -> LockEntries:
    """Read ``lock.json`` (an empty lock if the file does not exist)."""
    path = (Path(root) if root is not None else DEFAULT_ROOT) / LOCK_NAME
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    files: LockEntries = data["files"]
    return files


def _broken(locked: LockEntries, actual: LockEntries) -> list[str]:
    """Return the problems with locked entries (changed or missing files)."""
    problems = []
    for name, entry in sorted(locked.items()):
        if name not in actual:
            problems.append(f"{name}: locked but missing (or turned back into a draft)")
        elif actual[name] != entry:
            problems.append(f"{name}: changed since it was locked; publish a new version instead")
    return problems


def check_lock(root: Path | str | None = None) -> list[str]:
    """Compare the files with the lock; return the problems (empty if all is well).

    A locked file that changed or disappeared, and a published file that is not in
    the lock, are problems.
    """
    locked, actual = read_lock(root), compute_lock(root)
    unlocked = [f"{n}: published but not in {LOCK_NAME}" for n in sorted(set(actual) - set(locked))]
    return _broken(locked, actual) + unlocked


def update_lock(root: Path | str | None = None) -> list[str]:
    """Add new published files to the lock; never change an existing entry.

    Returns
    -------
    list of str
        The names that were added.

    Raises
    ------
    LockError
        If a locked file changed or disappeared.
    """
    base = Path(root) if root is not None else DEFAULT_ROOT
    locked, actual = read_lock(base), compute_lock(base)
    broken = _broken(locked, actual)
    if broken:
        raise LockError("; ".join(broken))
    added = sorted(set(actual) - set(locked))
    merged = {**locked, **{name: actual[name] for name in added}}
    text = json.dumps({"files": merged, "format": 1}, indent=2, sort_keys=True)
    (base / LOCK_NAME).write_text(text + "\n", encoding="utf-8")
    return added
