"""Published versions are immutable: the lock file must match the files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from questionnaires import DEFAULT_ROOT, LockError, check_lock, compute_lock, update_lock
from questionnaires.__main__ import main

pytestmark = pytest.mark.filterwarnings("error")


def test_shipped_files_match_the_lock() -> None:
    assert check_lock() == [], "a published questionnaire changed: publish a new version instead"


def test_every_published_file_is_locked() -> None:
    assert set(compute_lock()) == {
        f"{p.parent.name}/{p.name}" for p in DEFAULT_ROOT.glob("*/v*.json")
    }


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "q"
    shutil.copytree(DEFAULT_ROOT, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy


def test_a_changed_file_is_detected(root: Path) -> None:
    path = root / "desk_rating" / "v1.json"
    path.write_text(path.read_text(encoding="utf-8").replace("Hài lòng", "Hai long"), "utf-8")
    assert check_lock(root) == [
        "desk_rating/v1.json: changed since it was locked; publish a new version instead"
    ]
    with pytest.raises(LockError):
        update_lock(root)


def test_whitespace_change_is_detected(root: Path) -> None:
    path = root / "sipas_2023" / "v1.json"
    path.write_text(path.read_text(encoding="utf-8") + "\n", "utf-8")
    assert len(check_lock(root)) == 1


def test_new_version_must_be_locked(root: Path) -> None:
    source = (root / "desk_rating" / "v1.json").read_text(encoding="utf-8")
    (root / "desk_rating" / "v2.json").write_text(
        source.replace('"version": 1', '"version": 2'), "utf-8"
    )
    assert check_lock(root) == ["desk_rating/v2.json: published but not in lock.json"]
    assert update_lock(root) == ["desk_rating/v2.json"]
    assert check_lock(root) == []


def test_draft_is_not_locked(root: Path) -> None:
    source = (root / "desk_rating" / "v1.json").read_text(encoding="utf-8")
    draft = source.replace('"version": 1', '"version": 2').replace(
        '"status": "published"', '"status": "draft"'
    )
    (root / "desk_rating" / "v2.json").write_text(draft, "utf-8")
    assert check_lock(root) == []


def test_removed_file_is_detected(root: Path) -> None:
    (root / "sipas_2017" / "v1.json").unlink()
    assert check_lock(root) == [
        "sipas_2017/v1.json: locked but missing (or turned back into a draft)"
    ]


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-lock"]) == 0
    assert main(["check"]) == 0
    assert main(["list"]) == 0
    assert "sipas_2023/v1" in capsys.readouterr().out
    assert main(["nope"]) == 2
