"""Every CSV ramancam writes reads back with the same rows whatever the names hold: a lone
carriage return, a line feed, a quote or a comma inside a class name or an id."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from _toy_sets import saved_with_data, tiny_network
from ramancam.cli import main
from ramancam.spectra import Spectra

N_POINTS = 40
#: A class name with each character a CSV row can break on.
ODD = 'cr\rlf\nquote"comma,end'
#: One with a lone carriage return only (csv.writer quotes ODD for its other characters).
CR = "lone\rcr"
CLASSES = ["alpha", CR, ODD]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.fixture
def setup(tmp_path, rng):
    """A saved 3-class model named with ODD and a labelled data file whose ids hold it."""
    model, grid = tiny_network(N_POINTS)
    data = Spectra(rng.random((5, N_POINTS)), grid,
                   labels=[ODD, "alpha", CR, ODD, CR],
                   meta={"id": [f"s{i}\r" for i in range(5)]})
    return saved_with_data(tmp_path, model, CLASSES, data)


def test_predictions_csv_reads_back_row_for_row(setup, tmp_path):
    # a lone '\r' was written unquoted: 5 spectra read back as more rows, cut at it
    model_path, data_path = setup
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model_path), str(data_path), "--label-col", "label",
                 "--out", str(out)]) == 0
    rows = _rows(out)
    assert len(rows) == 6 and len({len(r) for r in rows}) == 1
    assert rows[0][2:5] == [f"p_{c}" for c in CLASSES]
    assert [r[0] for r in rows[1:]] == [f"s{i}\r" for i in range(5)]
    at = rows[0].index("true")
    assert [r[at] for r in rows[1:]] == [ODD, "alpha", CR, ODD, CR]
    assert {r[1] for r in rows[1:]} <= set(CLASSES)


def test_maps_csv_reads_back_row_for_row(setup, tmp_path):
    model_path, data_path = setup
    out = tmp_path / "maps.csv"
    assert main(["explain", str(model_path), str(data_path), "--label-col", "label",
                 "--method", "fc", "--target", "true",
                 "--out", str(out)]) == 0
    rows = _rows(out)
    assert len(rows) == 6 and len({len(r) for r in rows}) == 1
    assert [r[0] for r in rows[1:]] == [f"s{i}\r" for i in range(5)]
    assert [r[1] for r in rows[1:]] == [ODD, "alpha", CR, ODD, CR]


@pytest.mark.filterwarnings("error:Glyph 13:UserWarning")  # the figures show "\\r"
def test_class_means_csv_reads_back_row_for_row(tmp_path, rng):
    from ramancam.maps import outputs
    from ramancam.maps.grid import MapGrid

    proba = np.eye(3)[np.arange(30) % 3] * 0.9 + 0.1 / 3
    outputs.write_explain_outputs(
        tmp_path, MapGrid.regular(6, 5), rng.random((30, 40)), rng.normal(size=(30, 40)),
        np.arange(400.0, 440.0), proba, CLASSES, method="fc", bands=[420.0])
    rows = _rows(tmp_path / "class_means.csv")
    assert len(rows) == 7 and len({len(r) for r in rows}) == 1
    assert [r[0] for r in rows[1:]] == [c for c in CLASSES for _ in (0, 1)]


def test_baseline_predictions_csv_reads_back_row_for_row(tmp_path):
    from ramancam.io import write_table

    rng = np.random.default_rng(2024)
    x = np.arange(400.0, 520.0)
    X, labels, ids = [], [], []
    for c, x0 in enumerate((420.0, 460.0, 500.0)):
        for i in range(6):
            s = 1.0 / (1.0 + ((x - x0) / 2.5) ** 2) + rng.uniform(0, 0.02, x.size)
            X.append(s / s.max())
            labels.append(CLASSES[c])
            ids.append(f"s{c}-{i}\r")
    path = tmp_path / "spectra.csv"
    write_table(Spectra(np.array(X), x, labels=labels, meta={"id": np.array(ids)}), path)
    out = tmp_path / "res"
    assert main(["baseline", str(path), "--label-col", "label",
                 "--recipe", "none", "--model", "pca-svm", "--folds", "3",
                 "--components", "2", "--out", str(out)]) == 0
    rows = _rows(out / "predictions.csv")
    assert len(rows) == 19 and len({len(r) for r in rows}) == 1
    assert sorted(r[0] for r in rows[1:]) == sorted(ids)
    assert sorted(r[2] for r in rows[1:]) == sorted(labels)


def test_an_excel_cell_with_a_carriage_return_stays_one_label(tmp_path):
    # the sheet is read through a CSV written in memory, which cut the row at the '\r'
    from openpyxl import Workbook

    from ramancam.io import read

    wb = Workbook()
    ws = wb.active
    for r in [["label", 400, 401, 402], [CR, 1, 2, 3], ["alpha", 4, 5, 6]]:
        ws.append(r)
    wb.save(tmp_path / "odd.xlsx")
    s = read(tmp_path / "odd.xlsx", label_col="label")
    assert s.X.shape == (2, 3) and s.labels[1] == "alpha"
    assert s.labels[0] in (CR, CR.replace("\r", "\n"))  # the table reader's line ends


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_shared_writer_quotes_what_csv_writer_leaves_bare(delimiter):
    from ramancam._csvout import csv_writer

    fh = io.StringIO()
    w = csv_writer(fh, delimiter=delimiter)
    rows = [["id", "p"], [ODD, 0.25], [CR, 1], [CR, np.float64(0.5)], ["plain", None], [""]]
    for r in rows:
        w.writerow(r)
    back = list(csv.reader(io.StringIO(fh.getvalue(), newline=""), delimiter=delimiter))
    assert back == [["id", "p"], [ODD, "0.25"], [CR, "1"], [CR, "0.5"], ["plain", ""], [""]]
    # rows without a carriage return are written as csv.writer writes them
    plain = io.StringIO()
    csv.writer(plain, delimiter=delimiter, lineterminator="\n").writerows(
        [["id", "p"], ["plain", None], [""]])
    assert fh.getvalue().endswith("plain" + delimiter + '\n""\n')
    assert fh.getvalue().startswith(plain.getvalue().split("plain")[0])


class _Screen(io.StringIO):
    """A standard output that is a terminal (or, ``tty=False``, a pipe)."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize("command", ["predict", "explain"])
def test_a_terminal_is_shown_line_breaks_in_ids_and_labels_escaped(setup, tmp_path,
                                                                   monkeypatch, command):
    # predict without --out printed a lone '\r' of a label raw (the terminal went back over
    # the row's start) and a quoted '\n' as a line of its own
    import sys

    model_path, data_path = setup
    argv = [command, str(model_path), str(data_path), "--label-col", "label",
            *(["--method", "fc", "--target", "true"] if command == "explain" else [])]
    shown = {}
    for tty in (True, False):
        screen = _Screen(tty)
        with monkeypatch.context() as m:
            m.setattr(sys, "stdout", screen)
            assert main(argv) == 0
        shown[tty] = screen.getvalue()
    table = shown[True].split("\n\n")[0] if command == "predict" else shown[True]
    assert "\r" not in shown[True]
    rows = [line for line in table.splitlines() if line.startswith("s")]
    assert [r.split(",")[0] for r in rows] == [f"s{i}\\r" for i in range(5)]
    odd = ODD.replace("\r", "\\r").replace("\n", "\\n").replace('"', '""')
    assert sum(f'"{odd}"' in r for r in rows) == 2  # the true labels, one line each
    # a pipe gets the CSV that --out writes, byte for byte
    out = tmp_path / "t.csv"
    assert main([*argv, "--out", str(out)]) == 0
    assert shown[False].startswith(out.read_bytes().decode("utf-8"))
