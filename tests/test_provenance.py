"""``ramancam.provenance``: the version a development checkout gives itself, the git commit
read without running git, and the UTC time and command line recorded in outputs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

import ramancam
from ramancam.provenance import command_line, git_commit, utc_now

ROOT = Path(__file__).resolve().parent.parent
A, B = "a" * 40, "b" * 40


def test_the_development_version_does_not_call_itself_the_last_release():
    # ~400 commits after 0.2.0 every output still said "ramancam 0.2.0", as every version
    # after 0.1.0 had said 0.1.0 (CHANGELOG): a development version says it is one
    v = Version(ramancam.__version__)
    assert v > Version("0.2.0") and v.is_devrelease
    assert str(v) == ramancam.__version__  # PEP 440's normal form


def _repo(tmp_path: Path, head: str) -> Path:
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text(head + "\n")
    return tmp_path


def test_git_commit_reads_a_loose_ref_packed_refs_and_a_detached_head(tmp_path):
    root = _repo(tmp_path / "loose", "ref: refs/heads/main")
    (root / ".git" / "refs" / "heads" / "main").write_text(A + "\n")
    assert git_commit(root) == A
    root = _repo(tmp_path / "packed", "ref: refs/heads/main")
    (root / ".git" / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/other\n"
        f"{A} refs/heads/main\n")
    assert git_commit(root) == A
    assert git_commit(_repo(tmp_path / "detached", B)) == B


def test_git_commit_of_a_worktree_reads_the_main_repositorys_refs(tmp_path):
    main = _repo(tmp_path / "main", "ref: refs/heads/main")
    (main / ".git" / "refs" / "heads" / "fix").write_text(B + "\n")
    wt_git = main / ".git" / "worktrees" / "wt"
    wt_git.mkdir(parents=True)
    (wt_git / "HEAD").write_text("ref: refs/heads/fix\n")
    (wt_git / "commondir").write_text("../..\n")
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text(f"gitdir: {wt_git}\n")
    assert git_commit(tmp_path / "wt") == B


def test_git_commit_outside_a_checkout_or_of_a_branch_without_commits_is_none(tmp_path):
    assert git_commit(tmp_path) is None
    assert git_commit(_repo(tmp_path / "new", "ref: refs/heads/main")) is None  # git init
    root = _repo(tmp_path / "bad", "ref: refs/heads/main")
    (root / ".git" / "refs" / "heads" / "main").write_text("not a commit\n")
    assert git_commit(root) is None


def test_git_commit_of_this_checkout_is_gits_own():
    if not (ROOT / ".git").exists() or Path(ramancam.__file__).resolve().parent.parent.parent \
            != ROOT:
        pytest.skip("ramancam is not imported from a git checkout")
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git program")
    assert git_commit() == head


def test_utc_now_and_the_command_line():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc_now())
    assert command_line(["train", "my data.csv", "--labels-from", "regex:_(a|b)_"]) == \
        "ramancam train 'my data.csv' --labels-from 'regex:_(a|b)_'"


def test_a_vendored_copy_records_no_commit_of_the_project_around_it(tmp_path):
    # 'pip install --target vendor' inside another project's git checkout: the folder two
    # up from the package held that project's .git, whose commit was recorded as ramancam's
    from ramancam.provenance import own_checkout

    proj = _repo(tmp_path / "proj", A)
    (proj / "vendor" / "ramancam").mkdir(parents=True)
    (proj / "pyproject.toml").write_text('[project]\nname = "ramancam"\n')  # even so named
    assert own_checkout(proj / "vendor" / "ramancam") is None
    (proj / "src" / "ramancam").mkdir(parents=True)
    (proj / "pyproject.toml").write_text('[project]\nname = "labtools"\n')
    assert own_checkout(proj / "src" / "ramancam") is None  # another project's src layout
    (proj / "pyproject.toml").write_text('[project]\nname = "ramancam"\nversion = "1"\n')
    assert own_checkout(proj / "src" / "ramancam") == proj
    assert own_checkout(Path(ramancam.__file__).parent) == ROOT
