"""The benchmarks command line and functions, on tiny configurations."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from sklabelfree.benchmarks import (
    BenchmarkResult,
    Method,
    format_table,
    run_semi_supervised,
    semi_supervised_methods,
)
from sklabelfree.benchmarks.__main__ import SUBCOMMANDS, build_parser, main

FAST = ["svc-labeled", "sklearn-label-spreading", "lr-labeled", "svc-all-labels"]
ROOT = Path(__file__).resolve().parents[1]


def _table_rows(text):
    """The data rows of the plain text table of a report: {method: [cells]}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method "))
    header = re.split(r"\s{2,}", lines[start].strip())
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return header, rows


def test_cli_tiny_run(capsys):
    status = main(
        ["semi-supervised", "--labels", "20", "--seeds", "0", "--methods", *FAST, "--quiet"]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "command: python -m sklabelfree.benchmarks semi-supervised --labels 20" in out
    assert "seeds: 0" in out
    assert re.search(r"numpy \d", out) and re.search(r"scikit-learn \d", out)
    assert re.search(r"total wall time: \d+\.\d s", out)

    header, rows = _table_rows(out)
    assert header == ["method", "20 labels", "fit s (20)", "protocol (20)"]
    assert list(rows) == FAST
    for method, cells in rows.items():
        accuracy = float(cells[0])
        assert 0.0 <= accuracy <= 1.0
        assert float(cells[1]) >= 0.0
    assert rows["svc-all-labels"][0] == "0.987"
    assert rows["svc-labeled"][2] == "0.719"  # the protocol's number beside ours
    assert len(rows["lr-labeled"]) == 2  # no protocol number for it


def test_cli_rst_is_valid_restructuredtext(capsys):
    docutils_core = pytest.importorskip("docutils.core")
    argv = ["semi-supervised", "--labels", "20", "50", "--seeds", "0", "--std", "-q"]
    assert main([*argv, "--methods", "svc-labeled", "svc-all-labels", "--format", "rst"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^=+  =+", out, re.M)
    assert ":command: ``python -m sklabelfree.benchmarks semi-supervised" in out
    doctree = docutils_core.publish_doctree(
        out, settings_overrides={"report_level": 5, "halt_level": 5}
    )
    problems = [
        node.astext()
        for node in doctree.findall()
        if node.tagname == "system_message" and int(node.get("level", 0)) >= 2
    ]
    assert problems == []
    tables = [node for node in doctree.findall() if node.tagname == "table"]
    assert len(tables) == 1
    text = tables[0].astext()
    assert "svc-all-labels" in text and "0.987 ± 0.000" in text


def test_run_with_a_method_of_our_own_and_a_missing_one():
    quick = Method(
        "quick-lr",
        lambda seed: LogisticRegression(max_iter=50),
        "labeled",
        description="LogisticRegression on the labeled rows",
        protocol={20: 0.5},
    )
    missing = Method(
        "not-written-yet",
        lambda seed: None,
        "partial",
        requires=("sklabelfree.semi_supervised:NoSuchClassifier",),
    )
    lines = []
    result = run_semi_supervised(
        labels=[20, 30], seeds=[0, 1], methods=[quick, missing, "svc-labeled"],
        progress=lines.append,
    )
    assert isinstance(result, BenchmarkResult)
    assert result.methods == ["quick-lr", "svc-labeled"]
    assert "NoSuchClassifier" in result.skipped["not-written-yet"]
    assert len(result.records) == 2 * 2 * 2
    assert all(0 <= r["accuracy"] <= 1 and r["fit_seconds"] >= 0 for r in result.records)
    assert any("skipping not-written-yet" in line for line in lines)
    report = result.report()
    assert "skipped not-written-yet" in report
    header, rows = _table_rows(report)
    assert header[1:3] == ["20 labels", "30 labels"]
    assert rows["quick-lr"][-1] == "0.500 / -"


class _Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom")


def test_a_failing_method_is_reported_and_the_run_goes_on(capsys):
    broken = Method("broken", lambda seed: _Broken(), "partial")
    result = run_semi_supervised(labels=[20], seeds=[0], methods=[broken, "svc-labeled"])
    assert "RuntimeError: boom" in result.errors["broken"]
    _, rows = _table_rows(result.report())
    assert rows["broken"][0] == "error"
    assert 0 <= float(rows["svc-labeled"][0]) <= 1


def test_all_labels_methods_are_fitted_once_per_seed():
    calls = []

    def make(seed):
        calls.append(seed)
        return LogisticRegression(max_iter=50)

    ceiling = Method("ceiling", make, "all")
    result = run_semi_supervised(labels=[20, 50, 100], seeds=[0, 1], methods=[ceiling])
    assert sorted(calls) == [0, 1]
    acc = {(r["budget"], r["seed"]): r["accuracy"] for r in result.records}
    assert acc[20, 0] == acc[100, 0] and acc[20, 1] == acc[50, 1]


def test_registry():
    assert "semi-supervised" in SUBCOMMANDS
    assert list(semi_supervised_methods()) == [
        "svc-labeled",
        "sklearn-self-training-svc",
        "sklearn-label-spreading",
        "lr-labeled",
        "pseudo-label-lr",
        "co-training-lr",
        "noisy-student-lr",
        "svc-all-labels",
    ]
    for method in semi_supervised_methods().values():
        if method.missing() is None:
            estimator = method.make(0)
            assert hasattr(estimator, "fit") and hasattr(type(estimator), "predict")
    args = build_parser().parse_args(["semi-supervised", "--full"])
    assert args.full and args.labels == [20, 50, 100] and args.seeds == [0, 1, 2]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["semi-supervised", "--methods", "svm-magic"], "invalid choice: 'svm-magic'"),
        (["semi-supervised", "--labels", "25"], "25 is not a positive multiple of 10"),
        (["semi-supervised", "--labels", "0"], "0 is not a positive multiple of 10"),
        (["semi-supervised", "--labels", "twenty"], "not an integer: 'twenty'"),
        (["semi-supervised", "--labels", "5000"], "at most"),
        (["semi-supervised", "--seeds", "-1"], "a seed must be in [0, 2**32)"),
        (["semi-supervised", "--format", "html"], "invalid choice: 'html'"),
        (["semi-supervised", "--threads", "-2"], "threads must be >= 0"),
        (["no-such-benchmark"], "invalid choice: 'no-such-benchmark'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(labels=[15]), "multiple of 10"),
        (dict(labels=[]), "at least one label budget"),
        (dict(seeds=[-3]), "seed"),
        (dict(methods=["nope"]), "unknown method 'nope'"),
        (dict(methods=["svc-labeled", "svc-labeled"]), "given twice"),
        (dict(n_threads=0), "n_threads must be"),
    ],
)
def test_bad_options_of_the_function(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run_semi_supervised(**kwargs)


def test_format_table_checks_its_input():
    with pytest.raises(ValueError, match="fmt must be one of"):
        format_table(["a"], [["1"]], fmt="html")
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        format_table(["a", "b"], [["1"]])
    with pytest.raises(ValueError, match="first cell"):
        format_table(["a", "b"], [["", "1"]], fmt="rst")


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "sklabelfree.benchmarks", "semi-supervised", "--labels", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "usage: python -m sklabelfree.benchmarks semi-supervised" in proc.stderr
    assert "7 is not a positive multiple of 10" in proc.stderr
