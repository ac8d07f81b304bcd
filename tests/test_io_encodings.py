"""Text files whose numbers or bytes were misread without a word (an audit of encodings and
locales): each is now read right or refused in one line naming the file and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from ramancam import RamancamError
from ramancam.cli import main
from ramancam.io import read
from ramancam.io.longrows import open_long_rows


def _one_line(e: pytest.ExceptionInfo[RamancamError]) -> str:
    msg = str(e.value)
    assert "\n" not in msg and msg.strip() == msg
    return msg


def _band(n: int = 60) -> list[int]:
    """Whole counts over 1000 at a band in the middle, under 1000 elsewhere."""
    return [int(800 + 7 * (k % 5) + 600 * np.exp(-(((k - n / 2) / 6) ** 2))) for k in range(n)]


def _de(v: int) -> str:
    """A count as a spreadsheet in a German locale writes it: 1251 as '1.251'."""
    return f"{v:,}".replace(",", ".")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_counts_grouped_with_thousands_points_are_refused_not_read_1000_times_off(
        tmp_path, sep):
    # '1.251' for 1251 beside '987' (no decimal comma anywhere) was read as 1.251: every
    # value of 1000 or more a thousand times too small, the band a dip
    counts = _band()
    shifts = [400 + 2 * k for k in range(len(counts))]
    first = next(k for k, v in enumerate(counts) if v >= 1000)
    wide = tmp_path / "wide_de.csv"
    wide.write_text(sep.join(["id", "label", *map(str, shifts)]) + "\n"
                    + "".join(sep.join([f"s{i}", "A", *(_de(v + i) for v in counts)]) + "\n"
                              for i in range(3)), encoding="ascii")
    with pytest.raises(RamancamError, match=(
            rf"wide_de\.csv, line 2: a number must read one way; got "
            rf"'{_de(counts[first])}' in column '{shifts[first]}', {counts[first]} with a "
            rf"thousands separator or {counts[first] / 1000:.3f} with a decimal point, and no "
            r"cell of the file says which.* Save the file again without thousands "
            r"separators")) as e:
        read(wide, label_col="label")
    _one_line(e)
    two = tmp_path / "xy_de.txt"
    two.write_text(f"Raman Shift{sep}Intensity\n"
                   + "".join(f"{w}{sep}{_de(v)}\n" for w, v in zip(shifts, counts, strict=True)),
                   encoding="ascii")
    with pytest.raises(RamancamError, match=(
            rf"xy_de\.txt, line {first + 2}: a number must read one way; got "
            rf"'{_de(counts[first])}' as the intensity, {counts[first]} with a thousands "
            rf"separator or {counts[first] / 1000:.3f} with a decimal point")) as e:
        read(two)
    _one_line(e)
    # one spectrum per column under names: its first number with a point decides (as a
    # table with decimal commas: DecimalCommas), so the counts read right
    cols = tmp_path / "cols_de.csv"
    cols.write_text(f"shift{sep}a{sep}b\n" + "".join(
        f"{w}{sep}{_de(v)}{sep}{_de(v + 5)}\n" for w, v in zip(shifts, counts, strict=True)),
        encoding="ascii")
    assert read(cols).X.tolist() == [counts, [v + 5 for v in counts]]
    # between spaces nothing decides: refused
    cols.write_text("shift a b\n" + "".join(
        f"{w} {_de(v)} {_de(v + 5)}\n" for w, v in zip(shifts, counts, strict=True)),
        encoding="ascii")
    with pytest.raises(RamancamError, match=rf"cols_de\.csv, line {first + 2}: a number must "
                                            rf"read one way; got '{_de(counts[first])}' in "
                                            r"column 'a'"):
        read(cols)


def test_whole_counts_and_genuine_decimal_points_are_still_read(tmp_path):
    counts = _band()
    shifts = [400 + 2 * k for k in range(len(counts))]
    # the same counts without grouping
    plain = tmp_path / "plain.txt"
    plain.write_text("".join(f"{w};{v}\n" for w, v in zip(shifts, counts, strict=True)),
                     encoding="ascii")
    assert read(plain).X[0].tolist() == counts
    # a decimal point that only a decimal point can be ('12.5') says how the others read
    dec = tmp_path / "dec.txt"
    dec.write_text("400;987\n402;1.251\n404;12.5\n", encoding="ascii")
    assert read(dec).X[0].tolist() == [987.0, 1.251, 12.5]
    # a plain count over 1000 in the same column: this file groups no thousands
    big = tmp_path / "big.txt"
    big.write_text("400;987\n402;1.251\n404;1300\n", encoding="ascii")
    assert read(big).X[0].tolist() == [987.0, 1.251, 1300.0]
    # three decimals throughout, no whole number: decimal points
    three = tmp_path / "three.csv"
    three.write_text("id;400;402\na;1.251;2.500\nb;3.000;4.125\n", encoding="ascii")
    assert read(three).X.tolist() == [[1.251, 2.5], [3.0, 4.125]]
    # shifts as %g writes 100-999 cm-1 (three decimals, whole ones bare) beside whole
    # counts: the shifts' points are decimal ones (grouped, they would exceed 100,000 cm-1)
    axis = np.linspace(400.0, 500.0, 20)
    xy = tmp_path / "g.txt"
    xy.write_text("".join(f"{x:g}\t{v}\n" for x, v in zip(axis, counts, strict=False)),
                  encoding="ascii")
    s = read(xy)
    np.testing.assert_allclose(s.wavenumbers, axis, atol=1e-3)
    assert s.X[0].tolist() == counts[:20]
    # comma-separated files never group with points
    comma = tmp_path / "comma.csv"
    comma.write_text("id,400,402\na,987,1.251\nb,950,1.300\n", encoding="ascii")
    assert read(comma).X.tolist() == [[987.0, 1.251], [950.0, 1.3]]


def test_averaged_counts_written_with_three_decimals_read_as_decimals(tmp_path):
    # means of three whole counts ('313.667' beside '356', all 100-999) were refused as
    # thousands points in wide tables, tables of columns and two-column files: read as
    # thousands they jump by 300,000 at every third point, read as decimals they are smooth
    rng = np.random.default_rng(0)
    counts = rng.poisson(300 + 60 * np.exp(-(((np.arange(300) - 150) / 10.0) ** 2)),
                         (3, 3, 300)).mean(axis=0)
    cells = [[f"{v:g}" for v in row] for row in counts]
    assert any(c.endswith(".667") for c in cells[0]) and any("." not in c for c in cells[0])
    wide = tmp_path / "wide.tsv"
    wide.write_text("\t".join(["label", *(str(400 + k) for k in range(300))]) + "\n"
                    + "".join("\t".join(["a", *row]) + "\n" for row in cells),
                    encoding="ascii")
    np.testing.assert_allclose(read(wide, label_col="label").X, counts, atol=1e-3)
    cols = tmp_path / "cols.tsv"
    cols.write_text("shift\ts1\ts2\ts3\n" + "".join(
        "\t".join([str(400 + k), *(row[k] for row in cells)]) + "\n" for k in range(300)),
        encoding="ascii")
    np.testing.assert_allclose(read(cols).X, counts, atol=1e-3)
    xy = tmp_path / "int.txt"
    xy.write_text("".join(f"{400 + k}\t{c}\n" for k, c in enumerate(cells[0])),
                  encoding="ascii")
    np.testing.assert_allclose(read(xy).X[0], counts[0], atol=1e-3)
    # counts grouped with points around 1000 (a baseline near 1000 counts): read as
    # decimals they jump a thousandfold at every crossing, so the file is refused
    noisy = [int(v) for v in rng.normal(1000, 30, 200)]
    assert min(noisy) < 1000 < max(noisy)
    de = tmp_path / "de.txt"
    de.write_text("".join(f"{400 + k};{_de(v)}\n" for k, v in enumerate(noisy)),
                  encoding="ascii")
    with pytest.raises(RamancamError, match="a number must read one way"):
        read(de)


@pytest.mark.parametrize("sep", [";", "\t", " "])
def test_long_maps_and_long_tables_of_counts_grouped_with_thousands_points_are_refused(
        tmp_path, sep, capsys):
    # the wide-table and two-column readers refused '1.251' beside '987'; a long map (x, y,
    # shift, intensity rows) and a long table (a row per point) read it as 1.251, every
    # value of 1000 or more a thousand times too small, without a word
    counts = _band()
    shifts = [400 + 2 * k for k in range(len(counts))]
    first = next(k for k, v in enumerate(counts) if v >= 1000)
    msg = (rf"a number must read one way; got '{_de(counts[first])}' {{}}, {counts[first]} "
           rf"with a thousands separator or {counts[first] / 1000:.3f} with a decimal point, "
           r"and no cell of the file says which.* Save the file again without thousands "
           r"separators\.$")
    pixels = [(x, y) for y in range(2) for x in range(2)]
    long = tmp_path / "map_de.txt"
    long.write_text(sep.join(["#X", "#Y", "#Wave", "#Intensity"]) + "\n" + "".join(
        sep.join([str(x), str(y), str(w), _de(v + x)]) + "\n"
        for x, y in pixels for w, v in zip(shifts, counts, strict=True)), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"map_de\.txt, line {first + 2}: "
                                            + msg.format("as the intensity")) as e:
        read(long)
    _one_line(e)
    assert open_long_rows(long, block_bytes=300) is None  # the whole read tells it
    assert main(["convert", str(long), str(tmp_path / "map.zarr")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "a number must read one way" in err
    assert err.count("\n") == 1 and not (tmp_path / "map.zarr").exists()
    tidy = tmp_path / "tidy_de.txt"
    tidy.write_text(sep.join(["id", "label", "shift", "intensity"]) + "\n" + "".join(
        sep.join([f"s{i}", "A", str(w), _de(v + i)]) + "\n"
        for i in range(3) for w, v in zip(shifts, counts, strict=True)), encoding="ascii")
    with pytest.raises(RamancamError, match=rf"tidy_de\.txt, line {first + 2}: "
                                            + msg.format("in column 'intensity'")) as e:
        read(tidy, label_col="label")
    _one_line(e)


def test_long_maps_and_long_tables_with_decimal_points_are_still_read(tmp_path):
    counts = _band()
    # shifts with decimals, as WiRE writes them: the file's points are decimal ones
    long = tmp_path / "map.txt"
    long.write_text("#X\t#Y\t#Wave\t#Intensity\n" + "".join(
        f"{x}\t0\t{1802.15 - k}\t{_de(v)}\n" for x in range(2) for k, v in enumerate(counts)),
        encoding="ascii")
    assert read(long).X.tolist() == [[float(_de(v)) for v in counts]] * 2
    assert open_long_rows(long, block_bytes=300) is not None
    # a long table's values with a decimal point only a decimal point can be ('12.5')
    tidy = tmp_path / "tidy.txt"
    tidy.write_text("id;shift;intensity\na;400;987\na;402;1.251\na;404;12.5\n",
                    encoding="ascii")
    assert read(tidy).X.tolist() == [[987.0, 1.251, 12.5]]
    # comma-separated files never group with points
    tidy.write_text("id,shift,intensity\na,400,987\na,402,1.251\na,404,950\n",
                    encoding="ascii")
    assert read(tidy).X.tolist() == [[987.0, 1.251, 950.0]]


def test_utf8_text_with_one_windows_byte_keeps_its_utf8_labels(tmp_path):
    # one stray cp1252 byte (a header 'Temp (°C)' typed in a Windows editor) made the whole
    # file cp1252: every UTF-8 label became mojibake ('KÃ¤se'), extra classes, silently
    body = "a,K\u00e4se,20,1.5,2.5\nb,M\u00fcsli \u00b5,21,2.5,3.5\nc,K\u00e4se,22,3.5,4.5\n"
    p = tmp_path / "mixed.csv"
    p.write_bytes("id,label,Temp (\u00b0C),400,402\n".encode("cp1252") + body.encode("utf-8"))
    s = read(p, label_col="label")
    assert s.labels.tolist() == ["K\u00e4se", "M\u00fcsli \u00b5", "K\u00e4se"]
    assert "Temp (\u00b0C)" in s.meta
    # a whole cp1252 file reads as before, its undefined bytes (0x81) as latin-1
    q = tmp_path / "cp.csv"
    q.write_bytes(b"id,label,400,402\na,K\xe4se \x96 1,1,2\nb,x\x81y,2,3\n")
    assert read(q, label_col="label").labels.tolist() == ["K\u00e4se \u2013 1", "x\x81y"]


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-be"])
def test_utf32_with_a_byte_order_mark_is_read(tmp_path, encoding):
    # FF FE 00 00 was taken for UTF-16's FF FE: garbled cells
    text = "# glycine\n450\t0.25\n451\t0.5\n452\t0.75\n"
    raw = text.encode(encoding)
    if encoding == "utf-32-be":
        raw = b"\x00\x00\xfe\xff" + raw
    p = tmp_path / "u32.txt"
    p.write_bytes(raw)
    assert read(p).X.tolist() == [[0.25, 0.5, 0.75]]
    w = tmp_path / "u32.csv"
    w.write_bytes(b"\xff\xfe\x00\x00" + "id,label,400,402\na,K\u00e4se,1,2\n"
                  .encode("utf-32-le"))
    assert read(w, label_col="label").labels.tolist() == ["K\u00e4se"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named(tmp_path, encoding):
    # it was 'must be a text file; got binary content (NUL bytes). Known types: ...'
    p = tmp_path / "nobom.txt"
    p.write_bytes("# glycine\n450\t0.25\n451\t0.5\n452\t0.75\n".encode(encoding))
    end = "little" if encoding.endswith("le") else "big"
    with pytest.raises(RamancamError, match=(
            rf"nobom\.txt must be text with a byte-order mark if it is UTF-16; got what looks "
            rf"like UTF-16 \({end}-endian\) without one \(a NUL byte beside every character\)\."
            r" Save it as UTF-8, or as UTF-16 with a byte-order mark")) as e:
        read(p)
    _one_line(e)
