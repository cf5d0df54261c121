"""``python -m sklabelfree.benchmarks transfer``: a small run, the report, bad options."""

import pytest

from sklabelfree.benchmarks.__main__ import SUBCOMMANDS, main
from sklabelfree.benchmarks._transfer import SECTIONS, run_domain_shift, run_transfer


def _rows(out):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method "))
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return lines[start].split("  "), rows


def test_transfer_subcommand_runs_and_reports_the_targets(capsys):
    assert "transfer" in SUBCOMMANDS and "domain-shift" in SECTIONS
    assert main(["transfer", "--seeds", "1", "--sections", "domain-shift", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Transfer learning")
    assert ("command: python -m sklabelfree.benchmarks transfer --seeds 1 --sections "
            "domain-shift -q") in out
    assert "Domain shift on digits" in out
    _, rows = _rows(out)
    assert list(rows) == ["source-only", "iw-classifier", "iw-kmm", "iw-kliep", "coral",
                          "tca", "target-labeled"]
    base = float(rows["source-only"][0])
    for key in ("iw-classifier", "iw-kmm", "iw-kliep", "coral", "tca", "target-labeled"):
        acc, gain = float(rows[key][0]), float(rows[key][1])
        assert 0 <= acc <= 1
        assert gain == pytest.approx(acc - base, abs=2e-3)
    assert float(rows["coral"][0]) > base + 0.05
    assert "the best adaptation beats source-only by >= 0.05" in out
    assert "failed" not in out


def test_sections_and_the_rst_report():
    docutils_core = pytest.importorskip("docutils.core")
    result = run_transfer(["domain-shift"], seeds=[0], std=True)
    assert [s.name for s in result.sections] == ["domain-shift"]
    assert result.errors == {}
    report = result.report(fmt="rst", command="python -m sklabelfree.benchmarks transfer")
    doctree = docutils_core.publish_doctree(
        report, settings_overrides={"report_level": 5, "halt_level": 5})
    problems = [node.astext() for node in doctree.findall()
                if node.tagname == "system_message" and int(node.get("level", 0)) >= 2]
    assert problems == []
    assert len([n for n in doctree.findall() if n.tagname == "table"]) == 1
    assert "±" in report


def test_a_failing_method_is_reported(monkeypatch):
    from sklabelfree.benchmarks import _transfer

    def broken(seed):
        raise RuntimeError("boom")

    monkeypatch.setitem(_transfer.DOMAIN_SHIFT_METHODS, "coral", (broken, "broken"))
    section = run_domain_shift(seeds=[0], methods=["source-only", "coral"])
    assert section.rows[1][:2] == ["coral", "error"]
    assert "coral failed: seed=0: RuntimeError: boom" in section.notes


@pytest.mark.parametrize(
    "argv, message",
    [
        (["transfer", "--sections", "net3net"], "invalid choice: 'net3net'"),
        (["transfer", "--seeds", "-2"], "a seed must be in [0, 2**32)"),
    ],
)
def test_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_net2net_section_tiny():
    pytest.importorskip("torch")
    from sklabelfree.benchmarks._transfer import run_net2net_section

    section = run_net2net_section(seeds=[0], epochs=2, teacher_epochs=1)
    assert section.name == "net2net"
    assert [row[0].split()[0] for row in section.rows] == ["scratch", "grown"]
    assert len(section.scores["scratch"][0]) == 2 == len(section.scores["grown"][0])
    assert "function preserving" in section.notes[0]


def test_multitask_section_reports_task_a_accuracy_per_weighting():
    from sklabelfree.benchmarks._transfer import run_multitask_section

    assert "multi-task" in SECTIONS
    section = run_multitask_section(seeds=[0], weightings=["equal", "pcgrad"],
                                    max_epochs=5)
    assert section.name == "multi-task" and section.errors == {}
    assert [row[0] for row in section.rows] == ["single-task", "equal", "pcgrad"]
    base = section.scores["single-task"][0]
    for row in section.rows[1:]:
        acc = float(row[1])
        assert 0.1 < acc <= 1 and float(row[3]) > 0.5  # task B is learned
        assert float(row[2]) == pytest.approx(acc - base, abs=2e-3)
    assert any(n.startswith("target: the shared trunk beats the single-task net")
               for n in section.notes)
    assert "task-A accuracy" in section.table()
