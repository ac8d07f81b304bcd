import numpy as np
import pytest

from ramancam import RamancamError, Spectra


def test_common_axis_roundtrip(rng):
    X = rng.normal(size=(3, 5))
    s = Spectra(X, [1, 2, 3, 4, 5], labels=["a", "b", "a"], meta={"c": [1, 2, 3]})
    assert s.X.shape == (3, 5) and s.n_points == 5 and len(s) == 3
    assert s.classes == ["a", "b"] and s.class_counts() == {"a": 2, "b": 1}
    assert not s.X.flags.writeable
    sub = s[[0, 2]]
    assert sub.labels.tolist() == ["a", "a"] and sub.meta["c"].tolist() == [1, 3]


def test_descending_axis_kept():
    s = Spectra(np.ones((1, 3)), [3.0, 2.0, 1.0])
    assert s.wavenumbers.tolist() == [3.0, 2.0, 1.0]


@pytest.mark.parametrize(
    ("axis", "match"),
    [([1, 2, 2], "must not repeat"), ([1, 3, 2], "strictly increasing"),
     ([1, np.nan, 3], "must be finite")],
)
def test_bad_axes(axis, match):
    with pytest.raises(RamancamError, match=match):
        Spectra(np.ones((1, 3)), axis)


def test_shape_mismatch_and_nan():
    with pytest.raises(RamancamError, match="X has 3 points but wavenumbers has 4"):
        Spectra(np.ones((1, 3)), [1, 2, 3, 4])
    with pytest.raises(RamancamError, match="must be finite"):
        Spectra(np.array([[1.0, np.inf, 2.0]]), [1, 2, 3])
    with pytest.raises(RamancamError, match=r"X\[None, :\]"):
        Spectra(np.ones(3), [1, 2, 3])


def test_ragged_axes_refuse_stacking():
    s = Spectra([np.ones(3), np.ones(4)], [np.arange(3.0), np.arange(4.0)], sources=["a", "b"])
    assert not s.has_common_axis
    with pytest.raises(RamancamError, match="Resample them onto a common grid"):
        _ = s.X
    same = Spectra([np.ones(3), np.zeros(3)], [np.arange(3.0), np.arange(3.0)])
    assert same.has_common_axis and same.X.shape == (2, 3)


def test_concat_and_meta_length():
    a = Spectra(np.ones((1, 3)), [1, 2, 3], labels=["x"], meta={"m": ["p"]})
    b = Spectra(np.zeros((2, 3)), [1, 2, 3], labels=["y", "y"])
    c = Spectra.concat([a, b])
    assert c.X.shape == (3, 3) and c.meta["m"].tolist() == ["p", "", ""]
    with pytest.raises(RamancamError, match="metadata column 'm'"):
        Spectra(np.ones((2, 3)), [1, 2, 3], meta={"m": [1]})


def test_ids_prefer_the_id_column_then_unique_file_names_then_row_numbers(rng):
    X, axis = rng.random((3, 4)), np.arange(4.0)
    assert Spectra(X, axis, meta={"id": ["a", "b", "c"]},
                   sources=["d/1.txt", "d/2.txt", "d/3.txt"]).ids == ["a", "b", "c"]
    assert Spectra(X, axis, sources=["d/1.txt", "e/2.txt", "3.txt"]).ids == [
        "1.txt", "2.txt", "3.txt"]
    # one file name in two folders: the paths below their common folder (row numbers
    # named nobody a user could find)
    assert Spectra(X, axis, sources=["d/t.csv", "e/t.csv", "e/u.csv"]).ids == [
        "d/t.csv", "e/t.csv", "e/u.csv"]
    # several spectra of one file among others: numbered within the file
    assert Spectra(X, axis, sources=["d/t.csv", "d/t.csv", "d/u.txt"]).ids == [
        "t.csv#1", "t.csv#2", "u.txt"]
    # an id column with empty cells (a folder where one table has one): the rest by file
    assert Spectra(X, axis, meta={"id": ["a", "", "c"]},
                   sources=["d/t.csv", "d/t.csv", "d/u.txt"]).ids == ["a", "t.csv#2", "c"]
    # all from one file, or from none: row numbers
    assert Spectra(X, axis, sources=["d/t.csv"] * 3).ids == ["0", "1", "2"]
    assert Spectra(X, axis).ids == ["0", "1", "2"]


def test_asarray_and_shape_are_the_matrix_on_a_common_axis(rng):
    s = Spectra(rng.random((3, 5)), np.arange(5.0), labels=["a", "b", "a"])
    assert s.shape == (3, 5)
    np.testing.assert_array_equal(np.asarray(s), s.X)
    assert np.asarray(s, dtype=np.float32).dtype == np.float32
    assert np.array(s, copy=True) is not s.X
    ragged = Spectra([np.ones(4), np.ones(3)], [np.arange(4.0), np.arange(3.0)])
    with pytest.raises(RamancamError, match=r"np\.asarray\(spectra\) needs spectra on one"):
        np.asarray(ragged)
    with pytest.raises(RamancamError, match="a matrix shape needs spectra on one"):
        _ = ragged.shape


def test_copy_false_keeps_a_readers_array_and_makes_it_read_only(rng):
    # A reader hands its own array over, so that a large file is not held twice; anything
    # but a C-contiguous float array is still copied, and the default always copies.
    X = rng.random((4, 5))
    axis = np.arange(5.0)
    kept = Spectra(X, axis, copy=False)
    assert np.shares_memory(kept.X, X) and not X.flags.writeable
    Y = rng.random((4, 5))
    assert not np.shares_memory(Spectra(Y, axis).X, Y) and Y.flags.writeable
    Z = rng.random((5, 4)).T  # not C-contiguous
    copied = Spectra(Z, axis, copy=False)
    assert not np.shares_memory(copied.X, Z)
    ints = np.arange(20).reshape(4, 5)
    assert Spectra(ints, axis, copy=False).X.dtype == np.float64


def test_the_callers_arrays_stay_writable_and_unlinked():
    # Spectra froze the caller's own axis and metadata arrays (a notebook's w[0] = ...
    # then raised "assignment destination is read-only")
    w, m = np.linspace(400.0, 1800.0, 5), np.arange(3.0)
    s = Spectra(np.ones((3, 5)), w, meta={"c": m})
    w[0], m[0] = 1.0, 9.0
    assert s.wavenumbers[0] == 400.0 and s.meta["c"][0] == 0.0
    assert not s.wavenumbers.flags.writeable and not s.meta["c"].flags.writeable
    axes = [np.arange(4.0), np.arange(3.0)]
    r = Spectra([np.ones(4), np.ones(3)], axes)
    axes[0][0] = -1.0
    assert r.axes[0][0] == 0.0


def test_concat_keeps_the_type_of_columns_every_part_has():
    # x/y became objects: a map split and joined was no map any more
    from ramancam.maps.grid import has_positions

    def part(x):
        return Spectra(np.ones((2, 4)), np.arange(4.0),
                       meta={"x": np.array(x), "y": np.zeros(2), "id": np.array(["a", "bb"])})

    c = Spectra.concat([part([0.0, 1.0]), part([2.0, 3.0])])
    assert c.meta["x"].dtype == np.float64 and has_positions(c)
    assert c.meta["id"].tolist() == ["a", "bb", "a", "bb"]
    lone = Spectra.concat([part([0.0, 1.0]), Spectra(np.ones((1, 4)), np.arange(4.0))])
    assert lone.meta["x"].tolist() == [0.0, 1.0, ""]  # missing in a part: "" as before


def test_missing_labels_from_pandas_are_unlabelled_and_empty_selections_work():
    X = np.ones((3, 4))
    # an integer column with a missing value (pandas stores it as floats) names its classes
    # as the table reader does, '1', not '1.0'; other numbers as written
    assert Spectra(X, np.arange(4.0), labels=np.array([1.0, np.nan, 2.0])).labels.tolist() == [
        "1", "", "2"]
    assert Spectra(X, np.arange(4.0), labels=np.array([1.0, 3.0, 2.0])).labels.tolist() == [
        "1", "3", "2"]
    assert Spectra(X, np.arange(4.0), labels=np.array([1.5, np.nan, 2.0])).labels.tolist() == [
        "1.5", "", "2.0"]
    assert Spectra(X, np.arange(4.0), labels=np.array([np.inf, 1.0, 2.0])).labels.tolist() == [
        "inf", "1.0", "2.0"]
    assert Spectra(X, np.arange(4.0), labels=["a", None, "b"]).labels.tolist() == ["a", "", "b"]
    r = Spectra([np.ones(4), np.ones(3)], [np.arange(4.0), np.arange(3.0)], labels=["a", "b"])
    assert len(r[r.labels == "zz"]) == 0  # it raised "X must be 2-D"


def test_concat_of_columns_whose_types_do_not_join_gives_objects():
    a = Spectra(np.ones((1, 4)), np.arange(4.0), meta={"t": np.array(["2026-01-01"],
                                                                     dtype="datetime64[D]")})
    b = Spectra(np.ones((1, 4)), np.arange(4.0), meta={"t": np.array(["later"])})
    c = Spectra.concat([a, b])  # a DTypePromotionError from numpy before
    assert c.meta["t"].dtype == object and c.meta["t"][1] == "later"
    pd = pytest.importorskip("pandas")
    labels = pd.array(["a", None, "b"], dtype="string").to_numpy(dtype=object)
    assert Spectra(np.ones((3, 4)), np.arange(4.0), labels=labels).labels.tolist() == [
        "a", "", "b"]


def test_an_empty_id_never_takes_another_rows_id():
    s = Spectra(np.ones((4, 3)), np.arange(3.0), meta={"id": ["x", "", "1", "y"]})
    assert s.ids == ["x", "1 (row 1)", "1", "y"]


def test_a_subset_keeps_the_row_names_of_the_whole_set():
    # spectra without ids are named by row number; a subset taken after leaving out
    # unlabelled or flat spectra renumbered the rest, so predictions.csv named the wrong
    # rows (and one id twice)
    w = np.linspace(400.0, 1800.0, 50)
    s = Spectra(np.random.default_rng(0).random((6, 50)), w, labels=list("aabbcc"),
                sources=["t.csv"] * 6)
    assert s.ids == ["0", "1", "2", "3", "4", "5"]
    sub = s[np.array([1, 3, 4, 5])]
    assert sub.ids == ["1", "3", "4", "5"]
    assert sub[np.array([0, 2])].ids == ["1", "4"]  # a subset of a subset
    assert sub.replace(X=sub.X * 2).ids == sub.ids  # same rows, new values
    # a full id column still rules, and a partial one keeps its fallbacks per row
    named = Spectra(s.X, w, meta={"id": ["a", "", "c", "", "e", "f"]}, sources=["t.csv"] * 6)
    assert named[np.array([1, 3])].ids == ["1", "3"]
    assert named[np.array([0, 2])].ids == ["a", "c"]


def test_the_same_axis_written_descending_in_one_file_is_one_common_axis():
    # one file ascending, one descending, on the same points: 'axes: differ (2 distinct)',
    # convert and train refused them ("give --grid") and forced a resampling
    a = np.linspace(400.0, 1800.0, 50)
    y = np.sin(a / 90.0)
    s = Spectra([y, y[::-1] * 2], [a, a[::-1]], sources=["up.txt", "down.txt"])
    assert s.wavenumbers.tolist() == a.tolist()
    assert np.array_equal(s.X, np.stack([y, y * 2]))
    s = Spectra([y[::-1], y], [a[::-1], a])  # the first one's direction is kept
    assert s.wavenumbers[0] == 1800.0 and np.array_equal(s.X[1], y[::-1])
    # different points stay separate axes, each as written
    b = np.linspace(400.0, 1800.0, 40)
    s = Spectra([y, np.ones(40)], [a, b[::-1]])
    assert s.axes[1][0] == 1800.0 and len(s.axes) == 2


def test_the_only_spectrum_of_a_file_is_named_by_the_file(tmp_path):
    # predict on one .wdf or .spc file wrote the id "0": files predicted one by one lost
    # which file each row came from
    from ramancam.io import read

    p = tmp_path / "sample_07.txt"
    p.write_text("".join(f"{400 + i}\t{1 + (i % 7)}\n" for i in range(50)))
    assert read(p).ids == ["sample_07.txt"]
    two = Spectra(np.ones((2, 5)), np.arange(5.0), sources=["t.csv", "t.csv"])
    assert two.ids == ["0", "1"]  # the rows of one table
    assert Spectra(np.ones((1, 5)), np.arange(5.0)).ids == ["0"]  # no file


def test_repr_is_cheap_and_says_the_axis_of_an_empty_set():
    # the range was taken over the common axis's n copies (2 s for 10^6 spectra, paid at
    # every notebook display); an empty subset printed nan-nan
    s = Spectra(np.zeros((200_000, 4)), np.arange(4.0) + 100)
    assert repr(s) == "Spectra(200000 spectra, 4 points, 100-103)"
    assert repr(s[[]]) == "Spectra(0 spectra, 4 points, 100-103)"
    both = Spectra([np.zeros(3), np.zeros(5)], [np.arange(3.0), np.arange(5.0) + 10])
    assert repr(both) == "Spectra(2 spectra, per-spectrum axes, 0-14)"
    # points are not taken by indexing a Spectra (numpy's bare "too many indices" before)
    with pytest.raises(RamancamError, match=r"select spectra \(rows\) only; got 2 indices\. "
                                            r"Take points by Raman shift"):
        both[:, 1:2]
    # rows with every point (scikit-learn's cross validation indexes s[rows, ...])
    assert len(both[[1], ...]) == 1 and len(both[[0, 1], :]) == 2
    assert len(both[[1], 0:]) == 1 and len(both[[1], ::1]) == 1
    for points in (np.arange(2), np.array([True, False, True])):  # numpy's "ambiguous" before
        with pytest.raises(RamancamError, match=r"select spectra \(rows\) only"):
            both[:, points]
    one = Spectra(np.zeros((2, 4)), np.arange(4.0), labels=["a", "a"])
    assert repr(one) == "Spectra(2 spectra, 4 points, 0-3, 1 class)"  # not "1 classes"


def test_two_shifts_much_closer_than_the_step_are_refused_like_a_repeat():
    # 550 and 550.01 cm-1 on a 2 cm-1 axis (stitched detector windows): the cubic spline
    # onto the grid swings between them and draws a band that is not there
    w = np.arange(350, 1801, 2.0)
    w2 = np.insert(w, 101, 550.01)
    y = 0.3 + 1 / (1 + ((w2 - 1000) / 8) ** 2)
    y[101] *= 1.1
    msg = (r"wavenumbers must not hold two points much closer than its median step \(2 cm-1\); "
           r"got 550 and 550\.01 \(points 100 and 101\), between which the resampling would "
           r"swing into a false band\. Average or drop one of the two points\.$")
    with pytest.raises(RamancamError, match=msg):
        Spectra(y[None], w2)
    with pytest.raises(RamancamError, match=r"got 550\.01 and 550 \(points 625 and 626\)"):
        Spectra(y[None, ::-1], w2[::-1])  # descending
    with pytest.raises(RamancamError, match=r"file b\.txt: wavenumbers must not hold two"):
        Spectra([y[:-1], y], [w, w2], sources=["a.txt", "b.txt"])
    with pytest.raises(RamancamError, match=r"^wavenumbers of spectrum 1 must not hold two"):
        Spectra([y[:-1], y], [w, w2])
    from ramancam.preprocess import paper_recipe
    with pytest.raises(RamancamError, match="must not hold two points"):
        paper_recipe().apply_arrays(y[None], w2)
    # real uneven axes (CCD, stitched ranges) vary their step a few times over: kept
    uneven = np.cumsum(np.r_[350.0, np.geomspace(0.5, 3.0, 700)])
    assert Spectra(np.ones((1, uneven.size)), uneven).n_points == uneven.size
    assert Spectra(np.ones((1, 3)), [1.0, 1.05, 2.0]).n_points == 3


def test_the_near_repeat_message_shows_the_two_shifts_apart():
    # printed with :g, 1001 and 1001.001 read "1001 and 1001"
    axis = np.r_[np.arange(990.0, 1002.0), 1001.001, np.arange(1002.0, 1010.0)]
    with pytest.raises(RamancamError, match=r"got 1001 and 1001\.001 \(points 11 and 12\)"):
        Spectra(np.ones((1, axis.size)), axis)
