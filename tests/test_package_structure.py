"""The package's shape: no import circle, no oversized module, documented import paths work.

The import graph is read from the source with :mod:`ast` (nothing is imported), and every
``import``/``from ... import`` statement counts, wherever it stands: at module level, inside a
function (an import deferred to break a circle is still a circle) or under
``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "ramancam"
MAX_LINES = 900


# ----------------------------------------------------------------------------- import graph
def module_files(src: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``src/<package>``."""
    out = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph(src: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package that it imports (anywhere in its code).

    ``from .x import y`` is an edge to ``x`` and, when ``x.y`` is a module, to ``x.y`` too;
    ``from . import y`` is an edge to the submodule ``y`` if there is one, else to the package.
    The implicit import of a module's parent packages is not counted.
    """
    files = module_files(src, package)
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if is_pkg else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = here[:len(here) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]
                named = [a.name for a in node.names]
                targets = subs + ([base] if len(subs) < len(named) or node.module else [])
            for t in targets:
                # `import ramancam.a.b` or a name below a module: the longest module prefix.
                parts = t.split(".")
                while parts and ".".join(parts) not in files:
                    parts.pop()
                if parts and ".".join(parts) != mod:
                    graph[mod].add(".".join(parts))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, ..., a]``, or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_circle_in_ramancam():
    graph = import_graph(SRC, "ramancam")
    assert len(graph) > 30 and graph["ramancam.cli.train"]  # the parser sees the package
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def test_circle_through_an_import_inside_a_function_is_found(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import g\n",
        "pkg/b.py": "def g():\n    from .c import h\n    return h\n",
        "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
    })
    assert find_cycle(import_graph(tmp_path, "pkg")) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_package_forms_of_import_are_resolved(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from .sub import f\n",
        "pkg/sub/__init__.py": "from .impl import f\nfrom .. import top\n",
        "pkg/sub/impl.py": "import pkg.top\nfrom ..top import X\ndef f(): ...\n",
        "pkg/top.py": "X = 1\n",
        "pkg/other.py": "from . import sub, top\nfrom pkg.sub import impl\nimport os\n",
    })
    g = import_graph(tmp_path, "pkg")
    assert g == {"pkg": {"pkg.sub"}, "pkg.sub": {"pkg.sub.impl", "pkg.top"},
                 "pkg.sub.impl": {"pkg.top"}, "pkg.top": set(),
                 "pkg.other": {"pkg.sub", "pkg.top", "pkg.sub.impl"}}
    assert find_cycle(g) is None
    # A submodule that imports a name from its own package's __init__ closes a circle.
    _write(tmp_path, {"pkg/top.py": "from .sub import f\nX = 1\n"})
    assert find_cycle(import_graph(tmp_path, "pkg")) is not None


# ----------------------------------------------------------------------------- module size
@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(SRC)))
def test_module_is_at_most_900_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, (f"{path.relative_to(SRC)} has {n} lines (limit {MAX_LINES}); "
                            "split it into a package (see README, Where does new code go).")


# ----------------------------------------------------------------------------- version
def test_the_version_has_one_source():
    # model files and result stores record the version that made them: every version had
    # called itself 0.1.0, in pyproject.toml and in ramancam.__version__ alike, so a file of
    # 2026-11-24 could not be told from one of today (a helper's audit)
    import tomllib

    import ramancam

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "ramancam.__version__"}
    # a release X.Y.Z, or between releases the next one's development version (X.Y.Z.devN)
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(\.dev\d+)?", ramancam.__version__)
    assert m is not None and tuple(map(int, m.groups()[:3])) >= (0, 2, 0)


def test_the_type_check_is_for_the_python_that_runs_it():
    # [tool.mypy] python_version = "3.11" made mypy on Python 3.12/3.13 read numpy 2.5's
    # stubs (PEP 695 generics, which need 3.12) as 3.11: `make lint` failed with 94 errors
    # there (a helper's audit). Without it mypy checks for the interpreter it runs on.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "python_version" not in project["tool"]["mypy"]


def test_the_classifiers_name_the_pythons_the_readme_says_were_tested():
    # the classifiers named no Python version; the suite passes on 3.11, 3.12 and 3.13
    # (a helper's audit). The README names them with a command that tests another one.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    named = [c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
             if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    said = re.search(r"Tested on Python ((?:3\.\d+(?:, | and )?)+)", readme)
    assert said is not None and re.findall(r"3\.\d+", said.group(1)) == named
    assert project["requires-python"] == f">={named[0]}"
    assert f"make test PY=python{named[-1]} VENV=.venv-{named[-1]}" in readme


# ----------------------------------------------------------------------------- start-up
def test_the_parser_imports_neither_pybaselines_nor_scikit_learn():
    # every command builds the whole parser: info's module imported the recipe module (and
    # so scikit-learn) and listing BASELINE_METHODS imported pybaselines (scipy.signal,
    # scipy.stats): `ramancam --help` took 1.15 CPU-s, 0.17 without them. Nor do a model
    # file's recipe check (every load) and the paper recipe (no pybaselines step) import
    # pybaselines, which a recipe with a pybaselines step still lists.
    import subprocess
    import sys

    code = ("import sys, numpy as np, ramancam.cli\n"
            "ramancam.cli.build_parser()\n"
            "print('pybaselines' in sys.modules, 'sklearn' in sys.modules)\n"
            "from ramancam.preprocess import paper_recipe\n"
            "from ramancam.spectra import Spectra\n"
            "axis = np.linspace(300.0, 1900.0, 400)\n"
            "X = np.exp(-0.5 * ((axis[None, :] - [[600.0], [1000.0]]) / 9.0) ** 2) + 0.2\n"
            "recipe = paper_recipe(grid=(400.0, 1800.0, 10.0))\n"
            "recipe.apply(Spectra(X, axis))\n"
            "from ramancam._bundle_info import newer_value\n"
            "assert newer_value({'format_version': 2, 'recipe': recipe.to_dict()}) is None\n"
            "print('pybaselines' in sys.modules)\n"
            "import ramancam.preprocess as pp\n"
            "print('asls' in pp.BASELINE_METHODS, 'pybaselines' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False", "False", "True", "True"]


def test_baseline_methods_are_listed_on_first_use_as_the_same_tuple():
    from ramancam import preprocess
    from ramancam.preprocess import BASELINE_METHODS, baselines

    assert BASELINE_METHODS is preprocess.BASELINE_METHODS is baselines.BASELINE_METHODS
    assert isinstance(BASELINE_METHODS, tuple) and "asls" in BASELINE_METHODS
    assert list(BASELINE_METHODS) == sorted(BASELINE_METHODS)
    assert "BASELINE_METHODS" in dir(preprocess) and "BASELINE_METHODS" in dir(baselines)
    with pytest.raises(AttributeError, match="has no attribute 'BASELINE_METHOD'"):
        preprocess.BASELINE_METHOD  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'BASELINE_METHOD'"):
        baselines.BASELINE_METHOD  # noqa: B018


# ----------------------------------------------------------------------------- documented paths
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_STATEMENT = re.compile(r"^\s*((?:from\s+ramancam[\w.]*\s+import\s+[\w, ]+)"
                        r"|(?:import\s+ramancam[\w.]*(?:\s+as\s+\w+)?))\s*$", re.M)
_DOTTED = re.compile(r"\bramancam(?:\.[A-Za-z_]\w*)+")


def _documented(pattern: re.Pattern[str], group: int) -> list[str]:
    found = set()
    for doc in DOCS:
        found.update(m.group(group).strip()
                     for m in pattern.finditer(doc.read_text(encoding="utf-8")))
    return sorted(found)


STATEMENTS = _documented(_STATEMENT, 1)
DOTTED = _documented(_DOTTED, 0)


def test_docs_show_import_paths():
    assert "from ramancam.preprocess import paper_recipe" in STATEMENTS
    assert "ramancam.preprocess" in DOTTED


@pytest.mark.parametrize("statement", STATEMENTS)
def test_documented_import_statement_works(statement):
    exec(statement, {})  # one of our own docs' import lines


@pytest.mark.parametrize("dotted", DOTTED)
def test_documented_dotted_name_resolves(dotted):
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ModuleNotFoundError:
            continue
        for attr in parts[k:]:
            assert hasattr(obj, attr), f"{dotted}: {'.'.join(parts[:k])} has no {attr}"
            obj = getattr(obj, attr)
        return
    pytest.fail(f"{dotted}: no module")


def test_tests_import_the_package_plainly():
    # pytest.importorskip("ramancam.x") turned a broken import of the package's own (required)
    # modules into a skip; importorskip is for the optional packages (zarr, dask, pandas).
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "importorskip" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).split(".")[0] == "ramancam"):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_tests_draw_torch_random_numbers_from_a_seeded_generator():
    # torch.randn(...) without generator= draws from torch's global generator, which no
    # test seeds for the others: "Tests use seeded synthetic data".
    draws = {"rand", "randn", "randint", "randperm", "normal", "rand_like", "randn_like"}
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in draws and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "torch"
                    and not any(k.arg == "generator" for k in node.keywords)):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
