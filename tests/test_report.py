"""ramancam.report: one self-contained, escaped HTML file."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from ramancam import RamancamError
from ramancam.report import Figure, Section, Table, format_value, software_versions, write_report

EVIL = "<script>alert(1)</script>"


def _figure() -> Figure:
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    return Figure.from_matplotlib(fig, caption=f"caption {EVIL}")


def test_report_is_self_contained_and_escapes_user_text(tmp_path):
    sections = [
        Section(f"class {EVIL}", [
            f"paragraph {EVIL}",
            Table(["class", "accuracy"], [[EVIL, 0.98765], ["B", None]], caption=EVIL),
            {"label": EVIL, "epochs": 100},
            _figure(),
        ]),
        Section("sub", ["NOTE: skipped because <data> was absent"], level=3),
    ]
    path = write_report(tmp_path / "r.html", f"title {EVIL}", sections,
                        settings={"data": f"/tmp/{EVIL}.csv"}, seed=7)
    text = path.read_text(encoding="utf-8")
    assert EVIL not in text
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    assert "<script" not in text.lower()
    # self-contained: no external resources of any kind
    assert not re.search(r"(src|href)=\"(?!data:|#)", text)
    assert "http://" not in text and "https://" not in text
    assert 'src="data:image/png;base64,' in text
    # numbers, seed and versions
    assert "0.9877" in text
    assert "<td>seed</td><td class=\"num\">7</td>" in text
    for name in ("ramancam", "python", "numpy", "torch", "scikit-learn", "platform"):
        assert f"<td>{name}</td>" in text
    assert 'class="note"' in text and "&lt;data&gt;" in text
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind


def test_links_point_inside_the_reports_folder_and_are_escaped(tmp_path):
    from ramancam.report import Links

    path = write_report(tmp_path / "r.html", "t", [Section("s", [
        Links([(f"sub {EVIL}", "mixing/report.html"), ("odd", 'a b/"x".html')])])])
    text = path.read_text(encoding="utf-8")
    assert '<a href="mixing/report.html">sub &lt;script&gt;' in text
    assert '<a href="a%20b/%22x%22.html">odd</a>' in text
    for bad in ("/etc/passwd", "../up.html", "javascript:alert(1)", "https://x.org/a"):
        with pytest.raises(RamancamError, match="report link must be a relative path"):
            Links([("x", bad)])


def test_software_versions_names_everything():
    v = software_versions()
    assert {"ramancam", "python", "numpy", "torch", "scikit-learn", "platform"} <= set(v)
    assert v["torch"] != "not installed"


@pytest.mark.parametrize(("value", "text"), [
    (0.123456, "0.1235"), (1234567.0, "1.235e+06"), (None, "–"), (float("nan"), "–"),
    (3, "3"), (True, "yes"), ((0.5, 1), "0.5, 1"), (0.0, "0")])
def test_format_value(value, text):
    assert format_value(value) == text


def test_table_row_length_error():
    with pytest.raises(RamancamError, match="table row 1 must have 2 cells"):
        Table(["a", "b"], [[1, 2], [3]])


def test_figure_must_be_png():
    with pytest.raises(RamancamError, match="figure must be PNG bytes"):
        Figure(b"GIF89a")


def test_bad_block_and_section_errors(tmp_path):
    with pytest.raises(RamancamError, match="report block must be str, Table, Figure"):
        write_report(tmp_path / "r.html", "t", [Section("s", [42])])  # type: ignore[list-item]
    with pytest.raises(RamancamError, match=r"sections\[0\] must be a ramancam.report.Section"):
        write_report(tmp_path / "r.html", "t", ["not a section"])  # type: ignore[list-item]
    with pytest.raises(RamancamError, match="section level must be 2 or 3"):
        write_report(tmp_path / "r.html", "t", [Section("s", [], level=5)])
    assert not (tmp_path / "r.html").exists()


def test_missing_folder_error(tmp_path):
    with pytest.raises(RamancamError, match="report folder must exist"):
        write_report(tmp_path / "nope" / "r.html", "t", [])


def test_failed_write_keeps_old_file(tmp_path):
    path = tmp_path / "r.html"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(RamancamError):
        write_report(path, "t", [Section("s", [object()])])  # type: ignore[list-item]
    assert path.read_text(encoding="utf-8") == "old"


def test_a_run_without_seed_or_settings_has_no_settings_table():
    from ramancam.report import Section, render_report

    html = render_report("t", [Section("A", ["text"])])
    assert "not set" not in html and 'class="tcap">Settings<' not in html
    assert 'class="tcap">Software versions<' in html
    seeded = render_report("t", [Section("A", ["text"])], seed=3, settings={"epochs": 2})
    assert 'class="tcap">Settings<' in seeded
    assert "<tr><td>seed</td><td class=\"num\">3</td></tr>" in seeded


def test_class_names_keep_their_whitespace_in_table_cells(tmp_path):
    # "Quartz\talpha", "Quartz  alpha" and "Quartz alpha" are three classes; a browser
    # collapsed their whitespace into three identical rows with different numbers
    names = ["Quartz\talpha", "Quartz  alpha", "Quartz alpha"]
    path = write_report(tmp_path / "r.html", "t", [
        Section("Classes", [Table(["class", "spectra"], [[n, 3] for n in names])])])
    html = path.read_text()
    for n in names:
        assert f"<td>{n}</td>" in html
    rule = re.search(r"(?:^|\})\s*td\s*\{([^}]*)\}", html)
    assert rule is not None and "white-space:pre-wrap" in rule.group(1)
