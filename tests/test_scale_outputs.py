"""What a tiled run (:mod:`ramancam.scale`) and the cube writers say of their outputs when
the run stops or the disk fills: the lines that say a file was written come once it is in
place, a full disk names the store, the page's images are drawn beside the page, and a
cube that cannot be opened for want of a resource says so."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

pytest.importorskip("zarr")

from _stopped import failed_runs, watched_run
from ramancam.cli import main
from test_scale import small_map as small_map  # the module's fixture, used here

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_zarr_predict_says_wrote_only_of_files_put_in_place(small_map, tmp_path, capsys,
                                                              monkeypatch):
    # a Zarr run printed 'wrote 6 images (...) and report.html to DIR' inside the group
    # that puts them in place, before the page was written: an interrupted (or failed) run
    # said it of files it then left as they were
    import ramancam.cli._scale as cli_scale

    _, model_path, cube_path, _ = small_map
    out, page = tmp_path / "d", tmp_path / "page.html"
    argv = ["predict", str(model_path), str(cube_path), "--out", str(out), "--report",
            str(page)]

    def there():
        return (sorted(p.name for p in out.iterdir() if p.is_file()) if out.is_dir() else [],
                page.is_file())

    lines, seen, done = watched_run(argv, there, monkeypatch)
    assert "classes.png" in done[0] and "report.html" in done[0] and done[1]
    # the store is written in place tile by tile: said at once; the images and the page
    # once every one is in place
    store, *files = seen
    assert store[0].startswith("wrote predictions of 99 spectra (9 tiles, ")
    assert [w for w, _ in files] == [
        f"wrote {len(done[0]) - 1} images (classes.png, confidence.png, ...) and report.html "
        f"to {out}", f"wrote the report {page}"]
    assert all(seen == done for _, seen in files), files
    assert lines[-2:] == [w for w, _ in files]

    def outputs():
        return {p.name: p.read_bytes() for p in (*out.iterdir(), page) if p.is_file()}

    failed_runs(argv, cli_scale, "_drawn_note", outputs, "predicted: ", monkeypatch, capsys,
                said=("wrote predictions of ",))  # the store: in place


def _full_disk(monkeypatch, code, *, after=0, done_tiles=None):
    """Make zarr's writes of files fail with ``OSError(code)`` (a full disk, the file size
    limit) after ``after`` writes, or, with ``done_tiles``, once that many tiles of a
    result store are marked done (a chunk of its 'done' array written)."""
    import zarr.storage._local as local

    real = local._put
    seen = {"writes": 0, "done": 0}

    def put(path, *args, **kwargs):  # zarr's private _put: (path, value, [start,] exclusive)
        full = (seen["done"] >= done_tiles if done_tiles is not None
                else seen["writes"] >= after)
        if full:
            raise OSError(code, os.strerror(code))
        seen["writes"] += 1
        seen["done"] += "/done/c/" in Path(path).as_posix()  # a tile marked done
        return real(path, *args, **kwargs)

    monkeypatch.setattr(local, "_put", put)


def test_a_cube_write_on_a_full_disk_names_the_cube_and_leaves_nothing(tmp_path, capsys,
                                                                      monkeypatch):
    # simulate map and convert said 'error: [Errno 28] No space left on device' (or
    # '[Errno 27] File too large'): no file named, no advice
    t = tmp_path / "t"
    t.mkdir()
    with monkeypatch.context() as m:
        _full_disk(m, errno.ENOSPC, after=20)
        assert main(["simulate", "map", "--shape", "8x8", "--chunk", "4x4", "--out",
                     str(t / "s.zarr")]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: Zarr cube {str(t / 's.zarr')!r} could not be written: the disk "
                   "is full (No space left on device); nothing of it was left behind. Free "
                   "space, or write it elsewhere.\n")
    assert list(t.iterdir()) == []
    # convert at the file size limit; the earlier cube at OUT is kept, and said so
    assert main(["simulate", "map", "--shape", "6x5", "--chunk", "3x3", "--out",
                 str(t / "m.zarr")]) == 0
    assert main(["convert", str(t / "m.zarr"), str(t / "c.zarr")]) == 0
    before = {p.relative_to(t): p.read_bytes() for p in t.rglob("*") if p.is_file()}
    capsys.readouterr()
    with monkeypatch.context() as m:
        _full_disk(m, errno.EFBIG, after=3)
        assert main(["convert", str(t / "m.zarr"), str(t / "c.zarr")]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: Zarr cube {str(t / 'c.zarr')!r} could not be written: a file "
                   "reached the file size limit (File too large); nothing of it was left "
                   "behind, the earlier cube there is kept. Raise the file size limit "
                   "(ulimit -f), or write it elsewhere.\n")
    assert {p.relative_to(t): p.read_bytes() for p in t.rglob("*") if p.is_file()} == before


def test_a_result_store_on_a_full_disk_is_named_and_resumed(small_map, tmp_path, capsys,
                                                            monkeypatch):
    # predict into a store on a full disk said 'error: [Errno 28] No space left on device',
    # though the tiles marked done are kept and the same command resumes them
    _, model_path, cube_path, _ = small_map
    t = tmp_path / "t"
    t.mkdir()
    store = t / "res.zarr"
    argv = ["predict", str(model_path), str(cube_path), "--out", str(store)]
    with monkeypatch.context() as m:
        _full_disk(m, errno.ENOSPC, done_tiles=3)
        assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "wrote" not in out
    assert err.splitlines()[-1] == (
        f"error: result store {str(store)!r} could not be written: the disk is full (No "
        "space left on device); the 3 tiles done are kept in it. Free space, then run the "
        "same command again: it resumes the store.")
    assert main(argv) == 0
    assert "; resumed, 3 of 9 tiles were already done" in capsys.readouterr().out
    # full before any tile was done: the store this run made is removed
    other = t / "other.zarr"
    with monkeypatch.context() as m:
        _full_disk(m, errno.ENOSPC, after=5)
        assert main(["predict", str(model_path), str(cube_path), "--out", str(other)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: result store {str(other)!r} could not be written: the disk is full (No "
        "space left on device); nothing of it was left behind. Free space, then run the "
        "same command again.")
    assert sorted(p.name for p in t.iterdir()) == ["res.zarr"]


def test_the_page_of_a_zarr_run_is_drawn_beside_it_not_in_tmpdir(small_map, tmp_path,
                                                                 capsys, monkeypatch):
    # --report with --out NAME.zarr drew its images in tempfile's folder: a full TMPDIR
    # failed the run, naming a hidden '/tmp/tmpvspag168/confidence.png'
    import tempfile

    import ramancam.cli._scale as cli_scale

    _, model_path, cube_path, _ = small_map
    o = tmp_path / "o"
    o.mkdir()
    page = o / "page.html"
    drawn = []
    real = cli_scale.write_images

    def write_images(folder, *args, **kw):
        drawn.append(Path(folder))
        return real(folder, *args, **kw)

    monkeypatch.setattr(cli_scale, "write_images", write_images)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-tmpdir"))  # unusable
    assert main(["predict", str(model_path), str(cube_path), "--out",
                 str(o / "s.zarr"), "--report", str(page)]) == 0
    assert f"wrote the report {page}" in capsys.readouterr().out
    assert drawn[0].parent == o and drawn[0].name.startswith(".page.html.")
    assert sorted(p.name for p in o.iterdir()) == ["page.html", "s.zarr"]
    assert "data:image/png;base64," in page.read_text()


@pytest.mark.parametrize("failure", [MemoryError(), RuntimeError("can't start new thread")])
def test_a_cube_not_opened_for_want_of_a_resource_fails_as_that(small_map, monkeypatch,
                                                                failure):
    # open_cube caught every exception: 'cube must be a Zarr group; got '.../map.zarr'
    # (can't start new thread).'
    import zarr

    from ramancam.io.zarr_cube import open_cube

    cube_path = small_map[2]

    def no_resource(*args, **kw):
        raise failure

    monkeypatch.setattr(zarr, "open_group", no_resource)
    with pytest.raises(type(failure)) as e:
        open_cube(cube_path)
    assert e.value is failure


@pytest.mark.parametrize("meta", [None, "{not json", '"a string"', '[1, 2]',
                                  '{"zarr_format": 7, "node_type": "group"}',
                                  '{"zarr_format": 3, "node_type": "group", "attributes": 5}',
                                  "[" * 100_000 + "]" * 100_000,  # RecursionError in json
                                  "array"])
def test_a_folder_that_is_no_zarr_group_is_still_refused_in_one_line(tmp_path, meta):
    import zarr

    from ramancam.errors import RamancamError
    from ramancam.io.zarr_cube import open_cube

    p = tmp_path / "x.zarr"
    if meta == "array":
        zarr.create_array(str(p), shape=(3,), dtype="f4")
    else:
        p.mkdir()
        if meta is not None:
            (p / "zarr.json").write_text(meta)
    with pytest.raises(RamancamError, match=r"^cube must be a Zarr group; got "):
        open_cube(p)
