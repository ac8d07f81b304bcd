"""``ramancam demo``: the main job, with no data and no options (shrunk here for speed)."""

from __future__ import annotations

import json

from ramancam.cli import demo, main
from ramancam.experiments import COMMON


def test_demo_defaults_are_the_papers_settings():
    # The demo must run the paper's settings; only tests shrink them.
    assert demo.SETTINGS == {}
    assert (COMMON["n_train_per_class"], COMMON["epochs"], COMMON["lr"], COMMON["n_filters"],
            COMMON["filter_size"], COMMON["n_random_peaks"]) == (100, 100, 1e-4, 64, 8, 3)


def test_demo_prints_table_and_report_path(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "SETTINGS", {"quick": True})
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "FC-importance" in text and "Grad-CAM" in text
    assert "test accuracy" in text and "pointing at the class peak" in text
    assert text.rstrip().endswith(f"report: {out}/report.html")
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    fc = doc["results"]["maps"]["fc"]["defined"]["pointing"]
    assert f"{fc:.3f}" in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in html and "<script" not in html.lower()
    assert (out / "fig3_common.png").is_file()


def test_demo_default_out_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "SETTINGS", {"quick": True, "epochs": 1})
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert (tmp_path / "ramancam-demo" / "report.html").is_file()
    assert "report: ramancam-demo/report.html" in capsys.readouterr().out


def test_the_demo_says_whether_each_claim_of_the_paper_is_borne_out():
    # it printed the paper's claims under numbers that contradicted one of them
    from ramancam.cli.demo import verdict

    line = verdict(1.0, 0.067, 0.383, 0.317)
    assert "class peak (reproduced: 1.000 vs 0.067 at a random peak)" in line
    assert "random peaks (not reproduced: 0.317 at a random peak vs 0.383 at the class" in line
    assert "Grad-CAM at the random peaks (reproduced" in verdict(1.0, 0.0, 0.1, 0.9)


def test_a_failed_demo_leaves_no_empty_folder(tmp_path, monkeypatch, capsys):
    # the output folder (and its missing parents) stayed behind, empty
    import sys

    from ramancam.errors import RamancamError

    def fail(run):
        raise RamancamError("boom")

    monkeypatch.setattr(sys.modules["ramancam.experiments.common"], "_common", fail)
    monkeypatch.setattr(demo, "SETTINGS", {"quick": True})
    assert main(["demo", "--out", str(tmp_path / "a" / "b" / "demo")]) == 2
    assert capsys.readouterr().err == "error: boom\n"
    assert list(tmp_path.iterdir()) == []
