"""What a tiled run (:mod:`ramancam.scale`) and the cube writers say of their outputs when
the run stops or the disk fills: the lines that say a file was written come once it is in
place, a full disk names the store, the page's images are drawn beside the page, and a
cube that cannot be opened for want of a resource says so."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("zarr")

from _stopped import Watched, failed_runs
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

    watched = Watched(there)
    with monkeypatch.context() as m:
        m.setattr(sys, "stdout", watched)
        assert main(argv) == 0
    lines = watched.getvalue().splitlines()
    done = there()
    assert "classes.png" in done[0] and "report.html" in done[0] and done[1]
    # the store is written in place tile by tile: said at once; the images and the page
    # once every one is in place
    store, *files = watched.seen
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
