"""benchmarks/novelty.py: the pooled calibration error (synthetic rounds), --specimens and
benchmarks/rruff_example.py on the real rruff-sample folder (skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest


def _pct(cell: str) -> float:
    return float(cell.split("%")[0])


def test_specimen_split_table(load_benchmark, shared_data, monkeypatch, capsys):
    bench = load_benchmark("novelty")
    monkeypatch.setattr(bench, "DATA", shared_data)
    assert bench.main(["--specimens", "--seeds", "0", "--no-docs"]) == 0
    rows = [ln.split(" | ") for ln in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 4
    (_, _, auc_sp, unk_sp, _), (_, _, auc_a, unk_a, known_a), \
        (_, _, auc_b, unk_b, known_b), (_, _, auc_c, unk_c, known_c) = rows
    # the same split and scores: only the threshold differs, and leaving whole specimens
    # out can only raise it (each score is over fewer references), so fewer are flagged
    assert auc_a == auc_b and _pct(unk_b) <= _pct(unk_a) and _pct(known_b) <= _pct(known_a)
    # leaving out the scores of spectra whose class is then missing (unknown-like) can only
    # lower that threshold again
    assert auc_c == auc_b and _pct(unk_c) >= _pct(unk_b) and _pct(known_c) >= _pct(known_b)
    assert unk_sp.endswith("of 84") and known_a.endswith(f"of {known_b.split('of ')[1]}")
    assert 0.9 <= float(auc_sp.split()[0]) <= 1.0


def test_rruff_example_folders(load_benchmark, shared_data, tmp_path, monkeypatch, capsys):
    ex = load_benchmark("rruff_example")
    data = shared_data / "rruff-sample"
    out = tmp_path / "ex"
    assert ex.main([str(out), "--data", str(data)]) == 0
    assert capsys.readouterr().out.startswith(f"{out}: 47 training spectra of 9 minerals")
    known = {p.name.split("__")[0] for p in (out / "known").iterdir()}
    query = [p.name.split("__")[0] for p in (out / "query").iterdir()]
    assert not known & set(ex.UNKNOWN) and len(known) == 9 and len(query) == 37
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex"]  # no temporary left
    # a folder that exists, or no spectra: one line, nothing written
    assert ex.main([str(out), "--data", str(data)]) == 2
    assert capsys.readouterr().err == f"error: {out} exists; give a new folder\n"
    assert ex.main([str(tmp_path / "new"), "--data", str(tmp_path / "none")]) == 2
    assert "no .txt files in" in capsys.readouterr().err
    # a failure half way removes what was linked so far
    monkeypatch.setattr(ex, "UNKNOWN", None)  # 'mineral in None' raises on the first file
    with pytest.raises(TypeError):
        ex.main([str(tmp_path / "half"), "--data", str(data)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex"]


def test_pooled_ece_and_the_floor_of_a_perfectly_calibrated_model(load_benchmark):
    bench = load_benchmark("novelty")
    rng = np.random.default_rng(0)
    rounds = []
    for _ in range(15):  # a calibrated model: right with probability = its confidence
        conf = rng.uniform(0.7, 1.0, 26)
        ok = rng.random(26) < conf
        rounds.append({"conf_before": conf.tolist(), "conf_after": conf.tolist(),
                       "correct": ok.astype(int).tolist(), "temperature": 1.0,
                       "ece_before": bench.calibration_error(conf, ok),
                       "ece_after": bench.calibration_error(conf, ok)})
    row = bench.calibration_row("sim", rounds)
    assert row["n_test"] == 390 and row["scaled"] == 0
    # 26 spectra per round: the per-round ECE is far from 0 for a calibrated model, and
    # its floor says so; pooling the 390 spectra brings both down
    assert row["floor_round"] > 2 * row["floor_pooled"]
    assert row["ece_after"] == pytest.approx(row["floor_round"], abs=0.03)
    assert row["ece_pooled_after"] < row["ece_after"]
    assert bench.ece_floor([np.ones(26)] * 3) == (0.0, 0.0)
    # an over-confident model stays far above its floor whichever way it is pooled
    for r in rounds:
        r["conf_before"] = r["conf_after"] = [0.999] * 26
    row = bench.calibration_row("sim", rounds)
    assert row["ece_pooled_after"] > 0.1 > 10 * row["floor_pooled"]
    assert bench.calibration_row("old", [{"ece_before": 0.1}]) is None  # results before
    table = bench.calibration_table([row | {"networks": "x"}]).splitlines()
    assert len(table) == 3 and table[2].startswith("| sim | x | 390 |")


def test_combined_score_uses_held_out_p_values(load_benchmark):
    bench = load_benchmark("novelty")
    rng = np.random.default_rng(1)

    def method(shift_unknown: float) -> dict:
        return {"held_out": rng.normal(0, 1, 60).tolist(),
                "known": rng.normal(0, 1, 40).tolist(),
                "unknown": rng.normal(shift_unknown, 1, 40).tolist()}

    methods = {"hqi": method(6.0), "knn": method(0.0)}  # knn does not tell them apart
    auc_h, unk_h, known_h = bench.combined_round(methods, ("hqi",), "max")
    assert auc_h > 0.99 and unk_h >= 38 and known_h <= 6
    # the mean of p-values dilutes the useful score with the useless one; the maximum
    # keeps every spectrum hqi flags
    auc_mean, unk_mean, _ = bench.combined_round(methods, ("hqi", "knn"), "mean")
    _, unk_max, known_max = bench.combined_round(methods, ("hqi", "knn"), "max")
    assert auc_mean < auc_h and unk_mean < unk_h
    assert unk_max >= 38 and known_max >= known_h


#: The twin's extra band, and the noise (sd), relative to the tallest band.
TWIN, NOISE = 0.03, 0.03


def _substances(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Five substances of 30 noisy spectra each: A, its near twin A2 (A's bands plus one weak
    band, as SAN is PS plus the nitrile band), and three distinct ones."""
    x = np.arange(400.0)
    band = lambda c, w=6.0: np.exp(-0.5 * ((x - c) / w) ** 2)  # noqa: E731
    pure = {"A": band(80) + 0.6 * band(200), "B": band(120) + 0.8 * band(330),
            "C": 0.7 * band(60) + band(260), "D": band(160) + 0.5 * band(370)}
    pure["A2"] = pure["A"] + TWIN * band(300)
    X = np.concatenate([p * rng.uniform(0.8, 1.2, (30, 1)) + rng.normal(0, NOISE, (30, x.size))
                        for p in pure.values()])
    return X, np.repeat(list(pure), 30)


def test_per_class_rounds_leave_families_out_whole(load_benchmark, rng):
    bench = load_benchmark("novelty")
    X, y = _substances(rng)
    fam = np.where(y == "A2", "A", y)
    by_class = [r for s in range(4) for r in bench.class_rounds(X, y, y, 2, s)]
    by_family = [r for s in range(4) for r in bench.class_rounds(X, y, fam, 2, s)]
    # the scores are the shipped score's (computed beside the nearest spectrum's class)
    r0 = by_class[0]
    tr = np.setdiff1d(np.arange(y.size), np.r_[r0["unknown"]["index"], r0["known"]["index"]])
    y_tr = np.unique(y[tr], return_inverse=True)[1]
    sc = bench.NoveltyScorer(bench.DEFAULT_METHOD).fit(X[tr], y_tr, np.zeros((tr.size, 0)))
    idx = r0["unknown"]["index"]
    np.testing.assert_allclose(r0["unknown"]["score"],
                               sc.score(X[idx], np.zeros((idx.size, 1)), None), atol=1e-12)
    for rounds, units in ((by_class, y), (by_family, fam)):
        for r in rounds:  # what is left out is never known, and every unit once per seed
            left = np.isin(units, r["left_out"])
            assert left[r["unknown"]["index"]].all() and not left[r["known"]["index"]].any()
        assert sum(r["unknown"]["index"].size for r in rounds) == 4 * y.size
    rows, summary = bench.per_class_tables(y, by_class)
    cells = {r.split(" | ")[0]: r.split(" | ") for r in rows}
    assert sorted(cells) == ["A", "A2", "B", "C", "D"]
    assert summary.split(" | ")[1].endswith("of 600")
    # the twins hide behind each other when left out one by one: their missed spectra are
    # nearest to the other twin; the distinct substances are flagged
    assert _pct(cells["A2"][1].split("(")[1]) < 90 and cells["A2"][2].startswith("A ")
    assert all(_pct(cells[c][1].split("(")[1]) == 100 for c in "BCD")
    fam_cells = {r.split(" | ")[0]: r for r in bench.per_class_tables(y, by_family)[0]}
    assert _pct(fam_cells["A2"].split(" | ")[1].split("(")[1]) == 100


def test_per_class_table_on_microplastics(load_benchmark, shared_data, monkeypatch, capsys,
                                         tmp_path):
    bench = load_benchmark("novelty")
    monkeypatch.setattr(bench, "DATA", shared_data)
    png = tmp_path / "look-alikes.png"
    assert bench.main(["--per-class", "--sets", "microplastics", "--seeds", "0",
                       "--no-docs", "--figure", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    out = capsys.readouterr().out.splitlines()
    one, whole = (ln.split(" | ") for ln in out[2:4])
    assert one[1].startswith("one by one") and whole[1].startswith("families whole")
    # every spectrum is unknown once per seed either way
    assert one[3].endswith("of 129") and whole[3].endswith("of 129")
    # the styrenics left out together are flagged more than when a twin stays known
    tables = "\n".join(out).split("microplastics, classes left out")
    styrenic = [[_pct(ln.split(" | ")[1].split("(")[1]) for ln in t.splitlines()
                 if ln.startswith(("| ABS |", "| PS |", "| SAN |"))] for t in tables[1:]]
    assert len(styrenic[0]) == len(styrenic[1]) == 3
    assert sum(styrenic[1]) > sum(styrenic[0]) and "FW flagged" in tables[1]


def test_other_thresholds(load_benchmark, rng):
    bench = load_benchmark("novelty")
    scores = rng.lognormal(-2.0, 0.5, 35)
    conformal, plain, robust = (f(scores) for f in bench.THRESHOLDS.values())
    # with 35 scores the conformal rank is the largest; np.quantile interpolates below it
    assert conformal == scores.max() and plain < conformal
    # one odd score moves the conformal threshold all the way, the robust fit hardly
    odd = np.r_[scores[:-1], 0.95]
    assert bench.THRESHOLDS["split-conformal quantile (the default)"](odd) == 0.95
    assert abs(bench._lognormal_robust(odd) - robust) < 0.1 * robust
    # on log-normal scores the robust point is near the true 95 % point
    big = rng.lognormal(-2.0, 0.5, 20000)
    assert abs(bench._lognormal_robust(big) - np.exp(-2.0 + 1.645 * 0.5)) < 0.01


def test_threshold_table_on_rruff(load_benchmark, shared_data, monkeypatch, capsys):
    bench = load_benchmark("novelty")
    monkeypatch.setattr(bench, "DATA", shared_data)
    assert bench.main(["--thresholds", "--sets", "rruff-sample", "--seeds", "0",
                       "--no-docs"]) == 0
    rows = [ln.split(" | ") for ln in capsys.readouterr().out.splitlines()[2:]]
    assert [r[1] for r in rows] == list(bench.THRESHOLDS)
    (_, _, u_conf, k_conf), (_, _, u_plain, k_plain) = (r[:4] for r in rows[:2])
    # the conformal rank is never below np.quantile's: it flags no more, of either kind
    assert _pct(u_conf) <= _pct(u_plain) and _pct(k_conf) <= _pct(k_plain.rstrip(" |"))
    assert u_conf.endswith("of 84")


def test_simca_scores_residuals_from_the_class_models(load_benchmark, rng):
    """The SIMCA-like candidate: a new substance scores above the known classes' spectra,
    and a leave-one-out score is the residual from its own class refitted without it (or
    from another class, whichever is smaller)."""
    bench = load_benchmark("novelty")
    axis = np.arange(200.0)

    def band(c, n):
        return (1 / (1 + ((axis - c + rng.uniform(-1, 1, (n, 1))) / 4) ** 2)
                * rng.uniform(0.8, 1.2, (n, 1)) + rng.normal(0, 0.01, (n, 200)))

    R = np.vstack([band(50, 8), band(120, 8)])
    yR = np.repeat(["a", "b"], 8)
    known, new = band(50, 5), band(160, 5)
    s_known = bench._simca(R, yR, known, k=2)
    s_new = bench._simca(R, yR, new, k=2)
    assert s_new.min() > s_known.max()
    loo = bench._simca(R, yR, None, k=2)
    D = bench._derivative_rows(R, bench.HQI_WINDOW, 2)
    rest = D[1:8]
    m = rest.mean(axis=0)
    V = np.linalg.svd(rest - m, full_matrices=False)[2][:2]
    c = D[0] - m
    own = np.linalg.norm(c - (c @ V.T) @ V)
    other = bench._simca(R[8:], yR[8:], R[:1], k=2)[0]  # class b alone, fitted on all of it
    assert loo[0] == pytest.approx(min(own, other), rel=1e-9)
    # a spectrum's own class always counts: the leave-one-out score is no lower than a
    # test score against the full models
    assert (loo >= bench._simca(R, yR, R, k=2) - 1e-12).all()


def test_nap_k_table_on_rruff(load_benchmark, shared_data, monkeypatch, capsys):
    bench = load_benchmark("novelty")
    monkeypatch.setattr(bench, "DATA", shared_data)
    assert bench.main(["--nap-k", "--sets", "rruff-sample", "--seeds", "0", "--no-docs"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [ln.rstrip(" |").split(" | ") for ln in out[-7:]]
    assert [r[1] for r in rows] == ["0 (= hqi-halves)", "1", "2 (the default)", "3", "4",
                                    *bench.NAP_CHOICES]
    # a choice is made in every round (3 for one seed), only among its own candidates
    for r, ks in zip(rows[5:], bench.NAP_CHOICES.values(), strict=True):
        counts = [int(c) for c in r[5].split(" / ")]
        assert sum(counts) == 3
        assert all(c == 0 for k, c in zip(bench.NAP_KS, counts, strict=True) if k not in ks)
    # no directions is hqi-halves, and two the shipped default, on the same split
    flagged = {"hqi-halves": 0, bench.DEFAULT_METHOD: 0}
    for R, yR, _, Xu in bench.split_rounds("rruff-sample", 0):
        for method in flagged:
            sc = bench.model_free(R, method, labels=yR)
            thr = bench.conformal_threshold(sc.loo_scores(), bench.RATE)
            flagged[method] += int((bench.free_scores(sc, Xu) > thr).sum())
    assert rows[0][3] == f"{flagged['hqi-halves'] / 84:.1%} of 84"
    assert rows[2][3] == f"{flagged[bench.DEFAULT_METHOD] / 84:.1%} of 84"


def test_scores_of_one_set_keep_the_other_sets_results(load_benchmark, tmp_path, monkeypatch,
                                                        rng):
    # --scores --sets X wrote novelty-scores.json with X alone, although --sets says that
    # earlier runs' results of other sets are kept (the other modes do keep them)
    import json

    bench = load_benchmark("novelty")
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "docs" / "novelty.md").write_text(
        f"# n\n{bench.SCORES_BEGIN}\nold\n{bench.SCORES_END}\n")

    def rounds(name, seed):
        r = np.random.default_rng(seed)
        yield r.normal(0, 1, (12, 5)), np.repeat([0, 1], 6), r.normal(0, 1, (6, 5)), \
            r.normal(3, 1, (6, 5))

    monkeypatch.setattr(bench, "split_rounds", rounds)
    monkeypatch.setattr(bench, "CANDIDATES", {"dist": lambda R, yR, X: np.linalg.norm(
        (R if X is None else X) - R.mean(0), axis=1)})
    path = tmp_path / "benchmarks" / "results" / "novelty-scores.json"
    assert bench.main(["--scores", "--sets", "rruff-sample", "microplastics", "--seeds", "0",
                       "1", "--no-docs"]) == 0
    first = json.loads(path.read_text())
    assert bench.main(["--scores", "--sets", "drug-mabs", "--seeds", "2"]) == 0
    saved = json.loads(path.read_text())
    assert list(saved) == ["_settings", "rruff-sample", "microplastics", "drug-mabs"]
    assert saved["rruff-sample"] == first["rruff-sample"]
    assert saved["_settings"]["seeds"] == [2]
    assert saved["_settings"]["seeds_by_set"] == {"rruff-sample": [0, 1],
                                                 "microplastics": [0, 1], "drug-mabs": [2]}
    doc = (tmp_path / "docs" / "novelty.md").read_text()
    assert "--scores --seeds 2 --sets drug-mabs`" in doc
    assert "rruff-sample kept from an earlier run (seeds 0 1)" in doc
    assert [ln.split(" | ")[0] for ln in doc.splitlines() if ln.startswith("| ")][2:] == [
        "| rruff-sample", "| microplastics", "| drug-mabs"]


@pytest.mark.parametrize("flag", ["--specimens", "--per-class", "--thresholds"])
def test_help_names_the_score_each_mode_runs(flag, load_benchmark, shared_data, monkeypatch,
                                             capsys):
    # --per-class and --specimens said hqi but ran hqi-nap; --thresholds said "the default
    # score" but runs hqi: the help must name the method the mode hands to model_free
    import re

    bench = load_benchmark("novelty")
    monkeypatch.setattr(bench, "DATA", shared_data)
    with pytest.raises(SystemExit):
        bench.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    helps = re.split(r" (?=--[a-z-]+\b(?: [A-Z]+)? [a-z(])", text)
    (help_,) = [h for h in helps if h.startswith(flag + " ")]
    used = []

    class Stop(Exception):
        pass

    def spy(R, method=bench.DEFAULT_METHOD, *args, **kwargs):
        used.append(method)
        raise Stop

    monkeypatch.setattr(bench, "model_free", spy)
    with pytest.raises(Stop):
        bench.main([flag, "--sets", "rruff-sample", "--seeds", "0", "--no-docs"])
    assert re.search(rf"\b{re.escape(used[0])}\b(?!-)", help_), (used[0], help_)
