"""requirements-min.txt (``make test-min``) holds pyproject.toml's minimum versions.

The suite runs on the lowest versions pyproject allows only where ``make test-min`` installs
them; a minimum raised in one file and not the other would test versions no user gets.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: Installed before the constraints, as 2.13.0 (the CPU build): requirements-min.txt says why.
NOT_CONSTRAINED = {"torch"}


def pyproject_minimums() -> dict[str, Version]:
    """Name -> the ``>=`` version of every dependency, test and maps extra included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    out = {}
    for text in [*project["dependencies"], *extras["test"], *extras["maps"]]:
        req = Requirement(text)
        if req.name == "ramancam":  # the test extra's ramancam[maps]
            continue
        specs = list(req.specifier)
        # a minimum with its reason, no upper pin (../shared/STYLE.md)
        assert [s.operator for s in specs] == [">="], f"pyproject.toml: {text!r}"
        out[canonicalize_name(req.name)] = Version(specs[0].version)
    return out


def constraints(path: Path) -> dict[str, Version]:
    """Name -> version of each ``NAME==VERSION`` line (comments and blank lines skipped)."""
    out: dict[str, Version] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and name.strip(), f"{path.name}: {line!r} must be NAME==VERSION"
        key = canonicalize_name(name.strip())
        assert key not in out, f"{path.name}: {name.strip()} is listed twice"
        out[key] = Version(version.strip())
    return out


def test_requirements_min_holds_the_minimums_of_pyproject():
    want = {k: v for k, v in pyproject_minimums().items() if k not in NOT_CONSTRAINED}
    assert constraints(ROOT / "requirements-min.txt") == want


def test_constraint_lines_are_read_by_normalised_name_and_version(tmp_path):
    # "Scikit_Learn==1.8" is scikit-learn 1.8.0: a difference of spelling is no drift
    path = tmp_path / "min.txt"
    path.write_text("numpy==1.26.0  # c\n\nScikit_Learn==1.8\n", encoding="utf-8")
    got = constraints(path)
    assert got == {"numpy": Version("1.26"), "scikit-learn": Version("1.8.0")}
    assert got != {"numpy": Version("1.26"), "scikit-learn": Version("1.7")}
