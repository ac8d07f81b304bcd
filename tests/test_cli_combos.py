"""Options in combination (an audit of the command line's combinations): a split column with
more than two values, a folder given as --recipe, copies under group folds, --groups-from
beside --group-col, and errors that name the option the user typed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import read

GRID = np.arange(400.0, 701.0, 4.0)


def _table(path: Path, n: int = 18, *, split: list[str] | None = None,
           batch: list[str] | None = None) -> Path:
    """``n`` spectra of classes A, B, C in turn (one band each), column ``label``, and the
    metadata columns given."""
    rng = np.random.default_rng(0)
    labels = ["ABC"[i % 3] for i in range(n)]
    centre = {"A": 450.0, "B": 550.0, "C": 650.0}
    cols = {"label": labels, **({"split": split} if split else {}),
            **({"batch": batch} if batch else {})}
    lines = [",".join([*cols, *(f"{v:g}" for v in GRID)])]
    for i in range(n):
        y = 1 + np.exp(-0.5 * ((GRID - centre[labels[i]]) / 8) ** 2) * 5 + rng.normal(
            0, 0.05, GRID.size)
        lines.append(",".join([*(str(c[i]) for c in cols.values()),
                               *(f"{v:.5f}" for v in y)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_label_and_group_errors_name_the_option_typed(tmp_path, capsys):
    """A regex that names no file: the command line says --labels-from / --groups-from (the
    options typed), Python says labels_from / groups_from (its keyword arguments)."""
    folder = tmp_path / "d"
    folder.mkdir()
    _table(folder / "g1.csv", 6)
    assert main(["baseline", str(folder), "--labels-from", "regex:(x\\d)",
                 "--model", "library"]) == 2
    err = capsys.readouterr().err
    # the pattern as typed (repr doubled each backslash), and how many files fail: the
    # first of several was named as if it were the only one
    assert err == ("error: file names must match the regex of --labels-from 'regex:(x\\d)' "
                   "with a non-empty group; got 'g1.csv'. Adjust the regex or the file "
                   "pattern.\n")
    for i in range(2, 6):
        _table(folder / f"g{i}.csv", 6)
    (folder / "x1.csv").write_bytes((folder / "g1.csv").read_bytes())
    assert main(["baseline", str(folder), "--labels-from", "regex:(x\\d)",
                 "--model", "library"]) == 2
    assert ("got 5 of 6 files that do not: 'g1.csv', 'g2.csv', 'g3.csv' and 2 more. "
            "Adjust") in capsys.readouterr().err
    assert main(["baseline", str(folder), "--label-col", "label", "--groups-from",
                 "regex:(x\\d)", "--model", "library"]) == 2
    err = capsys.readouterr().err
    assert "must match the regex of --groups-from 'regex:(x\\d)'" in err
    assert "groups_from" not in err
    with pytest.raises(RamancamError, match=r"must match the regex of groups_from=") as e:
        read(folder, label_col="label", groups_from="regex:(x\\d)")
    assert e.value.cli is not None and "--groups-from 'regex:(x" in e.value.cli
    with pytest.raises(RamancamError, match=r"got label_col='label' and labels_from="):
        read(folder, label_col="label", labels_from="folder")
    # an invalid pattern was shown through repr too: "got '(x\\d'" for '(x\d'
    assert main(["baseline", str(folder), "--labels-from", "regex:(x\\d",
                 "--model", "library"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: the regex of --labels-from 'regex:(x\\d' must be a valid regular expression "
        "(missing ), unterminated subpattern at position 0). Fix the expression")


def test_out_dir_errors_name_out(tmp_path):
    """reproduce's results folder: Python's message says out_dir, the command line's --out."""
    from ramancam.experiments._shared import _check_out

    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(RamancamError, match=r"^out_dir must be a folder") as e:
        _check_out(f)
    assert e.value.cli is not None and e.value.cli.startswith("--out must be a folder")
    assert "another --out." in e.value.cli and "out_dir must" not in e.value.cli


def test_recipe_folder_is_called_a_folder(tmp_path, capsys):
    """An existing folder given as --recipe is said to be a folder, not 'no such file'."""
    table = _table(tmp_path / "t.csv")
    (tmp_path / "bl").mkdir()
    assert main(["baseline", str(table), "--label-col", "label", "--model", "library",
                 "--recipe", str(tmp_path / "bl")]) == 2
    err = capsys.readouterr().err
    assert "(a folder)" in err and "no such file" not in err
    assert main(["baseline", str(table), "--label-col", "label", "--model", "library",
                 "--recipe", str(tmp_path / "none.json")]) == 2
    assert "(no such file)" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["baseline", "train"])
def test_groups_from_beside_group_col_is_refused(tmp_path, capsys, command):
    """--groups-from beside --group-col: refused in one line naming both (the run used
    --group-col's column without a word), as --groups-from beside --split-col is."""
    table = _table(tmp_path / "t.csv", batch=[f"b{i // 3}" for i in range(18)])
    more = (["--model", "library"] if command == "baseline"
            else ["--epochs", "1", "--out", str(tmp_path / "m.ramancam")])
    assert main([command, str(table), "--label-col", "label", "--group-col", "batch",
                 "--groups-from", "regex:(t)", *more]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--groups-from" in err[0] and "--group-col" in err[0]


def test_a_split_column_whose_test_part_pools_values_says_so(tmp_path, capsys):
    """A third value in the split column ('val') counts as test, as every value other than
    the train value does: said in a note naming each pooled value and its count."""
    split = ["train"] * 10 + ["test"] * 5 + ["val"] * 3
    table = _table(tmp_path / "t.csv", split=split)
    assert main(["baseline", str(table), "--label-col", "label", "--split-col", "split",
                 "--model", "library"]) == 0
    out = capsys.readouterr().out
    assert ("note: the test part pools 'test' (5) and 'val' (3) of split column 'split': "
            "every value other than the train value 'train' counts as test.") in out
    assert "(10 train / 8 test;" in out
    # the train value given: 'test' trains, 'train' and 'val' are pooled as test
    assert main(["baseline", str(table), "--label-col", "label", "--split-col", "split",
                 "--train-value", "test", "--model", "library"]) == 0
    assert "pools 'train' (10) and 'val' (3) of split column 'split': every value other " \
           "than the train value 'test'" in capsys.readouterr().out
    # two values: nothing pooled, no note
    two = _table(tmp_path / "two.csv", split=["train"] * 12 + ["test"] * 6)
    assert main(["baseline", str(two), "--label-col", "label", "--split-col", "split",
                 "--model", "library"]) == 0
    assert "pools" not in capsys.readouterr().out


def test_copies_across_groups_are_not_told_to_use_groups(tmp_path, capsys):
    """Group folds whose copies sit in different groups (one file copied as g1, g2, g3): the
    duplicates note names the groups instead of advising --group-col / --groups-from, which
    the user gave."""
    folder = tmp_path / "d"
    folder.mkdir()
    one = _table(tmp_path / "one.csv", 6).read_text()
    for g in ("g1", "g2", "g3"):
        (folder / f"{g}.csv").write_text(one)
    assert main(["baseline", str(folder), "--label-col", "label", "--groups-from",
                 r"regex:(g\d)", "--folds", "3", "--model", "library"]) == 0
    note = next(ln for ln in capsys.readouterr().out.splitlines() if "exact copy" in ln)
    assert note.endswith("The copies sit in different groups ('g1', 'g2', 'g3'), which group "
                         "folds keep apart: remove the copies, or check the groups.")
    assert "--group" not in note
    # random folds: the advice to group them stays
    assert main(["baseline", str(folder), "--label-col", "label", "--folds", "3",
                 "--model", "library"]) == 0
    out = capsys.readouterr().out
    assert "keep them together with --group-col (a folder: --groups-from)." in out
