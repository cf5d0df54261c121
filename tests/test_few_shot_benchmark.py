"""``python -m sklabelfree.benchmarks few-shot`` on tiny configurations."""

import re

import pytest

from sklabelfree.benchmarks._few_shot import FewShotResult, few_shot_methods, run_few_shot
from sklabelfree.benchmarks.__main__ import SUBCOMMANDS, main

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def _rows(text):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method "))
    header = re.split(r"\s{2,}", lines[start].strip())
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return header, rows


def test_cli_tiny_run(capsys):
    assert "few-shot" in SUBCOMMANDS
    argv = ["few-shot", "--episodes", "4", "--methods", "pixels-nearest-centroid",
            "maml-random-init", "-q"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "command: python -m sklabelfree.benchmarks few-shot --episodes 4" in out
    assert "episodes: 4 per shot and seed, 5-way, 15 queries per class" in out
    header, rows = _rows(out)
    assert header == ["method", "1-shot", "5-shot", "meta-train s", "fit ms (1-shot)",
                      "fit ms (5-shot)", "protocol (1-shot / 5-shot)"]
    assert list(rows) == ["pixels-nearest-centroid", "maml-random-init"]
    acc, ci = rows["pixels-nearest-centroid"][0].split(" ± ")
    assert 0 < float(acc) <= 1 and float(ci) >= 0
    assert rows["pixels-nearest-centroid"][2] == "-"  # no meta-training
    assert rows["pixels-nearest-centroid"][-1] == "0.719 / 0.893"
    assert "maml above" not in out  # maml was not run


def test_the_same_episodes_for_every_method_and_seed_reproducible():
    a = run_few_shot(["pixels-nearest-centroid"], shots=[1], n_episodes=5, seeds=[3])
    b = run_few_shot(["pixels-nearest-centroid"], shots=[1], n_episodes=5, seeds=[3])
    assert a.records[0]["accuracy"] == b.records[0]["accuracy"]
    assert list(few_shot_methods())[:3] == ["pixels-nearest-centroid", "pixels-deformation",
                                            "protonet"]


def test_target_notes_follow_the_measurements():
    def rec(method, shot, acc, fit):
        return dict(method=method, seed=0, shot=shot, accuracy=acc, ci95=0.01, fit_ms=fit)

    methods = ["pixels-nearest-centroid", "protonet", "baseline++", "maml"]
    records = [rec("pixels-nearest-centroid", 1, 0.72, 1), rec("pixels-nearest-centroid", 5,
                                                                0.89, 1),
               rec("protonet", 1, 0.86, 3), rec("protonet", 5, 0.94, 4),
               rec("baseline++", 1, 0.75, 20), rec("baseline++", 5, 0.93, 60),
               rec("maml", 1, 0.70, 30), rec("maml", 5, 0.92, 50)]
    result = FewShotResult(methods, [1, 5], [0], 600, records,
                           {("protonet", 0): 20.0, ("baseline++", 0): 5.0,
                            ("maml", 0): 130.0},
                           {"pixels-nearest-centroid": None, "protonet": "protonet",
                            "baseline++": "baseline++", "maml": "maml"})
    notes = "\n".join(result.target_notes())
    assert ("protonet: 1-shot 0.860 (target 0.85: met), "
            "5-shot 0.940 (target 0.95: NOT met)") in notes
    assert "maml above nearest centroid on pixels at every shot: NOT met" in notes
    assert "baseline++ above nearest centroid on pixels at every shot: met" in notes
    assert "meta-training under 120 s for every encoder: NOT met (slower: maml)" in notes
    assert "baseline++ fit on a support set under 50 ms: NOT met (at most 60.0 ms)" in notes
    assert "protonet fit on a support set under 50 ms: met" in notes
    table = result.to_table(fmt="rst")
    assert table.startswith("=") and "0.860 ± 0.010" in table
