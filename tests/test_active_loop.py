"""The active-learning loop, its label journal, the console oracle and the
stopping criteria: no answered label is lost or asked twice."""

import json
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score

from sklabelfree.active import (
    ActiveLearner,
    ActiveLearningRun,
    ConsoleOracle,
    LabelJournal,
    MaxUncertaintyStopping,
    OracleQuit,
    StabilizingPredictions,
    pool_fingerprint,
    run_active_learning,
)

N = 120


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=N, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=3, random_state=0)
    return X, y


def seed_labels(y_true, per_class=2, classes=None):
    """``-1`` everywhere except ``per_class`` rows of each class."""
    y = np.full(y_true.shape[0], -1)
    for c in np.unique(y_true) if classes is None else classes:
        rows = np.flatnonzero(y_true == c)[:per_class]
        y[rows] = c
    return y


def make_learner(X, y, batch_size=3):
    return ActiveLearner(LogisticRegression(max_iter=300), batch_size=batch_size,
                         random_state=0).fit(X, y)


def as_numpy(rows):
    if isinstance(rows, torch.Tensor):
        return rows.numpy()
    if isinstance(rows, pd.DataFrame):
        return rows.to_numpy()
    if sp.issparse(rows):
        return rows.toarray()
    return np.asarray(rows)


class TableOracle:
    """Answers with the true labels; records the pool rows it was shown.

    Rows are recognised by their values. ``crash_after=k`` raises
    ``KeyboardInterrupt`` when asked for answer ``k + 1`` (the whole batch is
    lost, as when the process dies); ``quit_after=k`` raises
    :class:`OracleQuit` with the answers of the batch given so far.
    ``skip`` holds pool ids to answer with -1.
    """

    def __init__(self, X, y_true, crash_after=None, quit_after=None, skip=(),
                 relabel=None):
        self.lookup = {np.asarray(r, dtype=float).tobytes(): i
                       for i, r in enumerate(np.asarray(X))}
        self.y_true = y_true
        self.crash_after = crash_after
        self.quit_after = quit_after
        self.skip = set(skip)
        self.relabel = relabel
        self.asked = []      # pool ids shown, in order
        self.answered = []   # pool ids whose answers were returned
        self.n_calls = 0

    def __call__(self, rows):
        self.n_calls += 1
        batch = []
        labels = []
        for r in as_numpy(rows):
            i = self.lookup[np.asarray(r, dtype=float).tobytes()]
            n_so_far = len(self.answered) + len(labels)
            if self.crash_after is not None and n_so_far >= self.crash_after:
                raise KeyboardInterrupt
            if self.quit_after is not None and n_so_far >= self.quit_after:
                self.answered.extend(batch)
                raise OracleQuit(labels)
            self.asked.append(i)
            batch.append(i)
            label = -1 if i in self.skip else self.y_true[i]
            labels.append(self.relabel(label) if self.relabel else label)
        self.answered.extend(batch)
        return labels


def journal_ids(path):
    return [i for i, _ in LabelJournal(path).entries()]


# ---------------------------------------------------------------------------
# Resuming from the journal
# ---------------------------------------------------------------------------
def test_crashed_loop_resumes_with_every_answer_and_asks_nothing_twice(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"

    oracle = TableOracle(X, y_true, crash_after=7)
    with pytest.raises(KeyboardInterrupt):
        run_active_learning(make_learner(X, y), None, oracle, budget=15,
                            journal=path)
    # Two batches of 3 were answered; the third died before it returned.
    assert len(oracle.answered) == 6
    assert journal_ids(path) == oracle.answered

    oracle2 = TableOracle(X, y_true)
    learner = make_learner(X, y)
    run = run_active_learning(learner, None, oracle2, budget=15, journal=path)
    assert run.stopped_by == "budget"
    assert run.n_resumed == 6
    assert not set(oracle.answered) & set(oracle2.asked)
    assert len(oracle2.asked) == 9
    assert list(run.queried) == oracle.answered + oracle2.asked
    np.testing.assert_array_equal(run.labels, y_true[run.queried])
    # Every answer reached the learner and the journal, once.
    np.testing.assert_array_equal(learner.y_[run.queried], y_true[run.queried])
    assert int((learner.y_ != -1).sum()) == 6 + 15
    assert not np.isin(run.queried, learner.pool_indices_).any()
    assert journal_ids(path) == list(run.queried)


def test_oracle_quit_keeps_partial_batch_and_resume_continues(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    oracle = TableOracle(X, y_true, quit_after=4)
    learner = make_learner(X, y)
    run = run_active_learning(learner, None, oracle, budget=10, journal=path)
    assert run.stopped_by == "oracle quit"
    assert len(run.queried) == 4 and run.n_rounds == 2
    assert journal_ids(path) == oracle.answered == list(run.queried)
    np.testing.assert_array_equal(learner.y_[run.queried], y_true[run.queried])

    oracle2 = TableOracle(X, y_true)
    run2 = run_active_learning(make_learner(X, y), None, oracle2, budget=10,
                               journal=path)
    assert run2.n_resumed == 4 and run2.n_labeled == 10
    assert not set(oracle2.asked) & set(run.queried)


def test_rerun_with_the_same_taught_learner_does_not_teach_twice(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    learner = make_learner(X, y)
    run_active_learning(learner, None, TableOracle(X, y_true), budget=6,
                        journal=path)
    oracle = TableOracle(X, y_true)
    run = run_active_learning(learner, None, oracle, budget=9, journal=path)
    assert run.n_resumed == 6 and len(oracle.asked) == 3
    assert int((learner.y_ != -1).sum()) == 6 + 9

    # A learner whose labels contradict the journal is refused.
    y_other = y.copy()
    first = run.queried[0]
    y_other[first] = (y_true[first] + 1) % 3
    with pytest.raises(ValueError, match=f"answers .* for row {first}, but that row"):
        run_active_learning(make_learner(X, y_other), None, TableOracle(X, y_true),
                            budget=10, journal=path)


def test_budget_reached_by_the_journal_asks_nothing(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    run_active_learning(make_learner(X, y), None, TableOracle(X, y_true), budget=5,
                        journal=path)
    oracle = TableOracle(X, y_true)
    learner = make_learner(X, y)
    run = run_active_learning(learner, None, oracle, budget=5, journal=path)
    assert oracle.n_calls == 0
    assert (run.stopped_by, run.n_rounds, run.n_resumed) == ("budget", 0, 5)
    assert int((learner.y_ != -1).sum()) == 6 + 5


def test_journal_is_on_disk_before_teach(data, tmp_path, monkeypatch):
    X, y_true = data
    path = tmp_path / "labels.jsonl"
    learner = make_learner(X, seed_labels(y_true))
    events = []
    real_fsync, real_teach = os.fsync, learner.teach

    def fsync(fd):
        events.append("fsync")
        return real_fsync(fd)

    def teach(X_rows, y_rows, pool_indices=None):
        # Read the file afresh, as a new process would after a crash.
        on_disk = dict(LabelJournal(path).entries())
        assert all(on_disk[int(i)] == lab for i, lab in zip(pool_indices, y_rows))
        events.append("teach")
        return real_teach(X_rows, y_rows, pool_indices=pool_indices)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(learner, "teach", teach)
    run = run_active_learning(learner, None, TableOracle(X, y_true), budget=7,
                              journal=path)
    assert events.count("teach") == run.n_rounds == 3
    for k, event in enumerate(events):
        if event == "teach":
            assert events[k - 1] == "fsync"


# ---------------------------------------------------------------------------
# The journal file
# ---------------------------------------------------------------------------
def test_journal_format_and_types(tmp_path):
    X = np.arange(20.0).reshape(10, 2)
    path = tmp_path / "j.jsonl"
    journal = LabelJournal(path)
    assert journal.header is None and journal.entries() == []
    with pytest.raises(ValueError, match="call journal.check_pool"):
        journal.append([0], [1])
    assert not path.exists()
    journal.check_pool(X)
    journal.append(np.array([1, 2, 3]), [np.int64(4), np.float32(0.5), np.str_("dog")])
    journal.append([4], np.array([-1]))
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "sklabelfree.label_journal"
    assert header["version"] == 1
    assert header["pool_size"] == 10
    assert header["pool_fingerprint"] == pool_fingerprint(X)
    records = [json.loads(line) for line in lines[1:]]
    assert [(r["id"], r["label"]) for r in records] == [(1, 4), (2, 0.5), (3, "dog"),
                                                        (4, -1)]
    assert all(r["time"].endswith("+00:00") for r in records)
    assert LabelJournal(path).entries() == [(1, 4), (2, 0.5), (3, "dog"), (4, -1)]
    # Pickles (for a learner or loop state saved with it).
    assert pickle.loads(pickle.dumps(journal)).entries() == journal.entries()

    with pytest.raises(ValueError, match="outside the pool of 10 rows"):
        journal.append([10], [1])
    with pytest.raises(ValueError, match="NaN"):
        journal.append([0], [np.nan])
    with pytest.raises(ValueError, match="None"):
        journal.append([0], [None])
    with pytest.raises(TypeError, match="cannot be written"):
        journal.append([0], [(1, 2)])
    with pytest.raises(ValueError, match="2 pool ids and 1 labels"):
        journal.append([0, 1], [1])
    assert len(LabelJournal(path)) == 4


def test_torn_last_line_is_warned_skipped_and_cut_at_next_append(tmp_path):
    X = np.zeros((6, 2))
    path = tmp_path / "j.jsonl"
    LabelJournal(path).check_pool(X).append([0, 1], [1, 2])
    with open(path, "ab") as f:
        f.write(b'{"id": 2, "label": 1, "ti')  # the crash cut this write
    journal = LabelJournal(path)
    with pytest.warns(RuntimeWarning, match=r'line 4 .*torn.*\{"id": 2, "label": 1'):
        assert journal.entries() == [(0, 1), (1, 2)]
    journal.append([3], [0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LabelJournal(path).entries() == [(0, 1), (1, 2), (3, 0)]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])

    # NUL bytes left by a crash, with the same outcome.
    with open(path, "ab") as f:
        f.write(b"\x00" * 12)
    with pytest.warns(RuntimeWarning, match="line 5"):
        LabelJournal(path).append([4], [2])
    assert LabelJournal(path).entries()[-1] == (4, 2)


def test_complete_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "j.jsonl"
    LabelJournal(path).check_pool(np.zeros((3, 1))).append([0], [1])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    journal = LabelJournal(path)
    journal.append([1], [0])
    assert LabelJournal(path).entries() == [(0, 1), (1, 0)]


def test_torn_header_is_rewritten(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"format": "sklabelfree.label_jou')
    with pytest.warns(RuntimeWarning, match="line 1"):
        journal = LabelJournal(path).check_pool(np.zeros((3, 1)))
    journal.append([2], [1])
    assert LabelJournal(path).entries() == [(2, 1)]


def test_damaged_middle_line_is_an_error(tmp_path):
    path = tmp_path / "j.jsonl"
    LabelJournal(path).check_pool(np.zeros((5, 1))).append([0, 1, 2], [1, 1, 0])
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:10]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 3 is damaged .*Repair or delete"):
        LabelJournal(path).entries()
    # A complete last line that is valid JSON but no entry was not torn.
    path.write_text("\n".join(lines[:2]) + '\n{"id": "x", "label": 1}\n')
    with pytest.raises(ValueError, match="line 3 is damaged .*not an integer"):
        LabelJournal(path).entries()


def test_a_file_that_is_not_a_journal_is_never_overwritten(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list")
    with pytest.raises(ValueError, match="notes.txt is not a label journal: line 1"):
        LabelJournal(path).check_pool(np.zeros((2, 1)))
    assert path.read_text() == "shopping list"


def test_journal_for_another_pool_is_refused(data, tmp_path):
    X, y_true = data
    path = tmp_path / "labels.jsonl"
    LabelJournal(path).check_pool(X)
    X_other = X.copy()
    X_other[5, 0] += 1.0
    with pytest.raises(ValueError, match="this journal was written for another pool"):
        LabelJournal(path).check_pool(X_other)
    with pytest.raises(ValueError, match="this journal was written for another pool"):
        LabelJournal(path).check_pool(X.astype(np.float32))
    oracle = TableOracle(X, y_true)
    with pytest.raises(ValueError, match="this journal was written for another pool"):
        run_active_learning(make_learner(X_other, seed_labels(y_true)), None, oracle,
                            budget=3, journal=path)
    assert oracle.n_calls == 0


def test_pool_fingerprint_containers(data):
    X, _ = data
    fp = pool_fingerprint(X)
    assert fp == pool_fingerprint(X.copy()) == pool_fingerprint(list(map(list, X)))
    assert fp != pool_fingerprint(X[:-1])
    assert fp != pool_fingerprint(X.reshape(-1, 3))
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    assert pool_fingerprint(df) == pool_fingerprint(df.set_index(df.index + 100))
    assert pool_fingerprint(df) != pool_fingerprint(df[df.columns[::-1]])
    assert pool_fingerprint(df) != pool_fingerprint(df.rename(columns={"f0": "g"}))
    assert pool_fingerprint(sp.coo_matrix(X)) == pool_fingerprint(sp.csc_matrix(X))
    assert pool_fingerprint(sp.csr_matrix(X)) != fp
    t = torch.from_numpy(X)
    assert pool_fingerprint(t) == pool_fingerprint(t.clone())
    assert pool_fingerprint(t) != pool_fingerprint(t.float())
    assert pool_fingerprint(["a text", "another"]) != pool_fingerprint(["a text", "x"])


class _Picture:
    """An image-like entry (as a PIL image): values through the array
    interface, and the default repr, with a memory address."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


def test_pool_fingerprint_of_object_entries_reads_their_values():
    # Records holding large arrays: numpy's repr abridges them, so two pools
    # that differ in one value far inside had the same fingerprint.
    a = np.arange(5000.0)
    b = a.copy()
    b[2500] = -1.0
    assert pool_fingerprint([{"x": a}, {"x": a}]) == pool_fingerprint([{"x": a.copy()}, {"x": a}])
    assert pool_fingerprint([{"x": a}, {"x": a}]) != pool_fingerprint([{"x": b}, {"x": a}])
    assert pool_fingerprint([[torch.zeros(3000)], [1]]) != pool_fingerprint(
        [[torch.zeros(3000).index_fill(0, torch.tensor([1500]), 1.0)], [1]])
    # Images of different sizes (a ragged pool): the same values give the same
    # fingerprint, whatever the objects' addresses (another process).
    pictures = [np.full((8 + i, 8), i, np.uint8) for i in range(3)]
    assert pool_fingerprint([_Picture(p) for p in pictures]) == pool_fingerprint(
        [_Picture(p.copy()) for p in pictures])
    pictures[1][0, 0] = 9
    assert pool_fingerprint([_Picture(p) for p in pictures]) != pool_fingerprint(
        [_Picture(np.full((8 + i, 8), i, np.uint8)) for i in range(3)])
    # An entry known only by its address cannot be recognised later: refused.
    with pytest.raises(TypeError, match="holds a memory address"):
        pool_fingerprint([object(), object()])


# ---------------------------------------------------------------------------
# Errors before any work
# ---------------------------------------------------------------------------
def test_bad_budget_and_unfitted_learner(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    learner = make_learner(X, y)
    oracle = TableOracle(X, y_true)
    path = tmp_path / "labels.jsonl"
    n_pool = int((y == -1).sum())
    with pytest.raises(ValueError, match=rf"budget={n_pool + 1} is larger than the "
                                         rf"pool \({n_pool} rows\)"):
        run_active_learning(learner, None, oracle, budget=n_pool + 1, journal=path)
    with pytest.raises(ValueError, match=r"budget=11 is larger than the pool \(10"):
        run_active_learning(learner, X[:10], oracle, budget=11)
    with pytest.raises(ValueError, match="budget must be at least 1"):
        run_active_learning(learner, None, oracle, budget=0)
    with pytest.raises(ValueError, match="budget must be an integer"):
        run_active_learning(learner, None, oracle, budget=2.5)
    with pytest.raises(ValueError, match="not fitted yet: call learner.fit"):
        run_active_learning(ActiveLearner(), None, oracle, budget=2)
    with pytest.raises(TypeError, match="needs an ActiveLearner"):
        run_active_learning(LogisticRegression().fit(X, y_true), None, oracle, budget=2)
    assert oracle.n_calls == 0 and not path.exists()
    assert int((learner.y_ != -1).sum()) == 6


def test_wrong_oracle_answers(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    with pytest.raises(ValueError, match="returned 2 labels for 3 rows"):
        run_active_learning(make_learner(X, y), None, lambda rows: [0, 1], budget=5,
                            journal=path)
    with pytest.raises(ValueError, match="sequence with one label per row"):
        run_active_learning(make_learner(X, y), None, lambda rows: 1, budget=5)
    with pytest.raises(ValueError, match="learner's classes are numbers"):
        run_active_learning(make_learner(X, y), None, lambda rows: ["cat"] * 3,
                            budget=5, journal=path)
    with pytest.raises(ValueError, match="NaN"):
        run_active_learning(make_learner(X, y), None, lambda rows: [np.nan] * 3,
                            budget=5, journal=path)
    with pytest.raises(ValueError, match="at most one per row"):
        def too_many(rows):
            raise OracleQuit([0] * 5)

        run_active_learning(make_learner(X, y), None, too_many, budget=5)
    # Nothing bad reached the journal.
    assert LabelJournal(path).entries() == []


def test_answers_the_learner_refuses_never_reach_the_journal(data, tmp_path):
    # Answers of the right type that teach would refuse (2.5 next to integer
    # classes; the string '-1' next to string classes) are refused before
    # they are journaled: a journal holding them could never be resumed.
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    with pytest.raises(ValueError, match="none of this batch was recorded"):
        run_active_learning(make_learner(X, y), None, lambda rows: [0, 2.5, 1],
                            budget=5, journal=path)
    assert LabelJournal(path).entries() == []
    names = np.array(["ant", "bee", "cat"], dtype=object)
    y_str = np.where(y == -1, -1, names[np.maximum(y, 0)]).astype(object)
    path_str = tmp_path / "strings.jsonl"
    with pytest.raises(ValueError, match="string '-1'"):
        run_active_learning(make_learner(X, y_str), None,
                            lambda rows: ["-1"] + ["bee"] * (len(rows) - 1),
                            budget=5, journal=path_str)
    assert LabelJournal(path_str).entries() == []
    # The same journals resume with good answers.
    oracle = TableOracle(X, y_true)
    run = run_active_learning(make_learner(X, y), None, oracle, budget=9, journal=path)
    assert run.stopped_by == "budget" and len(LabelJournal(path).entries()) == 9


def test_a_float_minus_one_is_a_skip_for_the_loop_as_for_the_learner(data, tmp_path):
    # Labels read from a CSV file are floats: -1.0 skips a row, as the
    # learner reads it, and costs nothing from the budget.
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    skip = set(range(0, N, 2))
    oracle = TableOracle(X, y_true.astype(float), skip=skip,
                         relabel=lambda label: float(label))
    learner = make_learner(X, y)
    run = run_active_learning(learner, None, oracle, budget=9, journal=path)
    answered = dict(zip(run.queried.tolist(), run.labels.tolist()))
    skipped = [i for i in answered if i in skip]
    assert skipped  # the test meets skipped rows
    assert run.n_labeled == 9 == int((learner.y_ != -1).sum()) - int((y != -1).sum())
    assert all(learner.y_[i] == -1 for i in skipped)
    # Journaled as the integer -1, a skip when resumed.
    entries = dict(LabelJournal(path).entries())
    assert all(entries[i] == -1 and isinstance(entries[i], int) for i in skipped)
    resumed = run_active_learning(make_learner(X, y), None, oracle, budget=9,
                                  journal=path)
    assert resumed.n_rounds == 0 and resumed.n_labeled == 9


# ---------------------------------------------------------------------------
# Skips, new classes, string labels, stopping
# ---------------------------------------------------------------------------
def test_skipped_rows_do_not_count_and_are_never_asked_again(data, tmp_path):
    X, y_true = data
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    learner = make_learner(X, y)
    # Skip every row the first run asks for in its first batch.
    first = list(learner.query(n=3))
    oracle = TableOracle(X, y_true, skip=first)
    run = run_active_learning(learner, None, oracle, budget=6, journal=path)
    assert run.n_labeled == 6 and len(run.queried) == 9
    assert list(run.queried[:3]) == first and list(run.labels[:3]) == [-1] * 3
    assert (learner.y_[first] == -1).all()
    assert not np.isin(first, learner.pool_indices_).any()

    oracle2 = TableOracle(X, y_true)
    run2 = run_active_learning(make_learner(X, y), None, oracle2, budget=8,
                               journal=path)
    assert run2.n_resumed == 9 and len(oracle2.asked) == 2
    assert not set(oracle2.asked) & set(run.queried)


def test_quit_before_any_answer(data, tmp_path):
    X, y_true = data
    learner = make_learner(X, seed_labels(y_true))

    def quits(rows):
        raise OracleQuit()

    run = run_active_learning(learner, None, quits, budget=5,
                              journal=tmp_path / "j.jsonl")
    assert (run.stopped_by, run.n_rounds, len(run.queried)) == ("oracle quit", 1, 0)
    assert LabelJournal(tmp_path / "j.jsonl").entries() == []
    assert learner.n_iter_ == 0


def test_pool_exhausted_when_rows_are_skipped(data):
    X, y_true = data
    X_pool = X[:8]
    learner = make_learner(X[60:], seed_labels(y_true[60:]))
    oracle = TableOracle(X, y_true, skip=range(0, 8, 2))
    run = run_active_learning(learner, X_pool, oracle, budget=8)
    assert run.stopped_by == "pool exhausted"
    assert sorted(run.queried) == list(range(8)) and run.n_labeled == 4


def test_new_class_from_the_oracle_grows_the_classes(data):
    X, y_true = data
    y = seed_labels(y_true, classes=[0, 1])
    learner = make_learner(X, y, batch_size=10)
    assert list(learner.classes_) == [0, 1]
    run = run_active_learning(learner, None, TableOracle(X, y_true), budget=40)
    assert 2 in set(run.labels)
    assert list(learner.classes_) == [0, 1, 2]


def test_string_labels(data, tmp_path):
    X, y_true = data
    names = np.array(["ant", "bee", "cat"], dtype=object)
    y = np.full(N, -1, dtype=object)
    seed = seed_labels(y_true)
    y[seed != -1] = names[seed[seed != -1]]
    path = tmp_path / "labels.jsonl"
    oracle = TableOracle(X, y_true, relabel=lambda c: np.str_(names[c]), skip=[])
    learner = make_learner(X, y)
    run = run_active_learning(learner, None, oracle, budget=6, journal=path)
    assert run.labels.dtype == object
    assert set(LabelJournal(path).entries()[0][1:]) <= set(names)
    run2 = run_active_learning(make_learner(X, y), None, oracle, budget=7,
                               journal=path)
    assert run2.n_resumed == 6 and run2.labels[-1] in names
    with pytest.raises(ValueError, match="learner's classes are strings"):
        # Numbers for a learner with string classes.
        run_active_learning(make_learner(X, y), None, TableOracle(X, y_true),
                            budget=12, journal=path)


def test_stopping_criterion_ends_the_loop(tmp_path):
    X = np.r_[np.linspace(-6, -4, 30), np.linspace(4, 6, 30)].reshape(-1, 1)
    y_true = (X.ravel() > 0).astype(int)
    y = np.full(60, -1)
    y[[0, 59]] = [0, 1]
    learner = ActiveLearner(LogisticRegression(C=100.0), batch_size=2,
                            random_state=0).fit(X, y)
    criterion = MaxUncertaintyStopping(threshold=0.05)
    never = MaxUncertaintyStopping(threshold=0.0)
    run = run_active_learning(learner, None, TableOracle(X, y_true), budget=20,
                              stopping=[never, criterion])
    assert run.n_rounds == 1 and run.n_labeled == 2
    assert run.stopped_by == criterion.reason
    assert run.stopped_by.startswith("max uncertainty")
    assert never.reason is None


def test_progress_bar(data, capsys):
    X, y_true = data
    run = run_active_learning(make_learner(X, seed_labels(y_true)), None,
                              TableOracle(X, y_true), budget=4, verbose=True)
    assert run.n_labeled == 4
    assert "labels" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Pools: DataFrame, sparse, torch; the learner's own pool and an external one
# ---------------------------------------------------------------------------
def to_container(kind, X):
    if kind == "pandas":
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    if kind == "sparse":
        return sp.csr_matrix(X)
    if kind == "torch":
        return torch.from_numpy(X)
    return X


@pytest.mark.parametrize("kind", ["pandas", "sparse", "torch"])
def test_containers_own_pool_with_resume(data, tmp_path, kind):
    X, y_true = data
    Xc = to_container(kind, X)
    y = seed_labels(y_true)
    path = tmp_path / "labels.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_active_learning(make_learner(Xc, y), None,
                            TableOracle(X, y_true, crash_after=4), budget=8,
                            journal=path)
    assert len(journal_ids(path)) == 3
    oracle = TableOracle(X, y_true)
    learner = make_learner(Xc, y)
    run = run_active_learning(learner, None, oracle, budget=8, journal=path)
    assert run.n_resumed == 3 and len(oracle.asked) == 5
    assert type(learner.X_) is type(Xc)
    np.testing.assert_array_equal(learner.y_[run.queried], y_true[run.queried])
    # The same values in another container are another pool.
    with pytest.raises(ValueError, match="written for another pool"):
        run_active_learning(make_learner(X, y), None, oracle, budget=8, journal=path)


@pytest.mark.filterwarnings(
    "ignore::sklabelfree.utils.validation.AllLabeledWarning")
@pytest.mark.parametrize("kind", ["numpy", "pandas", "sparse", "torch"])
def test_containers_external_pool(data, tmp_path, kind):
    X, y_true = data
    seed_rows = np.flatnonzero(seed_labels(y_true) != -1)
    pool_rows = np.setdiff1d(np.arange(N), seed_rows)[:40]
    X_seed = to_container(kind, X[seed_rows])
    X_pool = to_container(kind, X[pool_rows])
    path = tmp_path / "labels.jsonl"
    oracle = TableOracle(X[pool_rows], y_true[pool_rows], skip=[0, 1, 2, 3, 4, 5],
                         crash_after=5)
    learner = ActiveLearner(LogisticRegression(max_iter=300), batch_size=2,
                            random_state=0).fit(X_seed, y_true[seed_rows])
    with pytest.raises(KeyboardInterrupt):
        run_active_learning(learner, X_pool, oracle, budget=6, journal=path)

    oracle2 = TableOracle(X[pool_rows], y_true[pool_rows], skip=[0, 1, 2, 3, 4, 5])
    learner = clone(learner).fit(X_seed, y_true[seed_rows])
    run = run_active_learning(learner, X_pool, oracle2, budget=6, journal=path)
    assert run.n_resumed == 4
    assert not set(oracle2.asked) & set(run.queried[:4])
    assert len(set(run.queried)) == len(run.queried)
    assert run.n_labeled == 6
    # Labeled rows were appended to the learner, skipped rows were not.
    assert n_rows_of(learner.X_) == len(seed_rows) + 6
    assert type(learner.X_) is type(X_seed)
    np.testing.assert_array_equal(
        np.asarray(learner.y_[len(seed_rows):], dtype=int),
        y_true[pool_rows][run.queried[run.labels != -1]])


def n_rows_of(X):
    return X.shape[0]


# ---------------------------------------------------------------------------
# ConsoleOracle
# ---------------------------------------------------------------------------
def scripted(*answers):
    it = iter(answers)
    prompts = []

    def read(prompt):
        prompts.append(prompt)
        value = next(it)
        if isinstance(value, BaseException) or (
                isinstance(value, type) and issubclass(value, BaseException)):
            raise value
        return value

    read.prompts = prompts
    return read


def test_console_oracle_label_skip_quit():
    shown = []
    oracle = ConsoleOracle(input_func=scripted("3", " skip ", "-1", "", "cat", "S",
                                               "Q"),
                           print_func=shown.append)
    assert oracle(np.arange(8.0).reshape(4, 2)) == [3, -1, -1, "cat"]
    assert "Please type a label" in " ".join(shown)
    assert any("[0. 1.]" in text for text in shown)
    with pytest.raises(OracleQuit) as exc:
        oracle(np.eye(3))
    assert exc.value.labels == [-1]
    assert pickle.loads(pickle.dumps(exc.value)).labels == [-1]


@pytest.mark.parametrize("interrupt", [EOFError, KeyboardInterrupt])
def test_console_oracle_end_of_input_quits(interrupt):
    oracle = ConsoleOracle(input_func=scripted("1", "2", interrupt),
                           print_func=lambda text: None)
    with pytest.raises(OracleQuit) as exc:
        oracle(np.eye(4))
    assert exc.value.labels == [1, 2]


def test_console_oracle_classes_and_new_classes():
    shown = []
    read = scripted("1", "7", "2", "9", "9", "9")
    oracle = ConsoleOracle(input_func=read, print_func=shown.append,
                           classes=np.array([0, 1, 2]))
    assert oracle(np.eye(4)) == [1, 2, 9, 9]
    assert "'7' is not one of the classes [0, 1, 2]" in " ".join(shown)
    assert oracle.added_classes_ == [9]
    assert "[0, 1, 2, 9]" in read.prompts[-1]

    # With numeric classes a word is a typo, refused at once (the learner
    # could not take it), and asked again.
    shown = []
    typo = ConsoleOracle(input_func=scripted("dog", "dog", "2.5", "1"),
                         print_func=shown.append, classes=np.array([0, 1, 2]))
    assert typo(np.eye(1)) == [1]
    assert " ".join(shown).count("is not a class: the classes are numbers") == 3
    assert not hasattr(typo, "added_classes_")

    names = ConsoleOracle(input_func=scripted("3", "bee", "wasp", "wasp"),
                          print_func=lambda text: None,
                          classes=np.array(["3", "bee"], dtype=object))
    labels = names(np.eye(3))
    assert labels == ["3", "bee", "wasp"]
    assert all(isinstance(label, str) for label in labels)


def test_console_oracle_draws_images():
    from sklearn.datasets import load_digits

    digits = load_digits()
    shown = []
    oracle = ConsoleOracle(input_func=scripted("0"), print_func=shown.append,
                           image_shape=(8, 8))
    assert oracle(digits.data[:1]) == [0]
    lines = shown[1].splitlines()
    assert len(lines) == 10 and all(len(line) == 18 for line in lines)
    assert lines[0] == "+" + "-" * 16 + "+"
    assert "@" in shown[1] and " " in shown[1]
    # Pixels come in pairs, so each row reads as characters doubled.
    body = lines[4][1:-1]
    assert body[::2] == body[1::2]

    # Rows that are images already: (n, c, h, w), as a torch tensor.
    images = torch.zeros(2, 1, 4, 5)
    images[:, 0, 1, 2] = 1.0
    shown.clear()
    oracle = ConsoleOracle(input_func=scripted("1", "s"), print_func=shown.append)
    assert oracle(images) == [1, -1]
    assert shown[1].splitlines()[2] == "|    @@    |"

    # A DataFrame row shows its columns; a text row shows its text.
    shown.clear()
    oracle = ConsoleOracle(input_func=scripted("1", "2"), print_func=shown.append)
    oracle(pd.DataFrame({"age": [31], "city": ["Oslo"]}))
    assert "age: 31" in shown[1] and "city: Oslo" in shown[1]
    oracle(["a short review"])
    assert shown[-1] == "a short review"


def test_console_oracle_defaults_pickle():
    oracle = ConsoleOracle(image_shape=(8, 8))
    clone_ = pickle.loads(pickle.dumps(oracle))
    assert clone_.input_func is None and clone_.image_shape == (8, 8)
    assert "image_shape=(8, 8)" in repr(oracle)


# ---------------------------------------------------------------------------
# Stopping criteria
# ---------------------------------------------------------------------------
class ScriptedPredictor:
    """``predict`` returns the next prediction vector of a script."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = 0

    def predict(self, X):
        out = np.asarray(self.script[min(self.calls, len(self.script) - 1)])
        self.calls += 1
        assert len(out) == X.shape[0]
        return out


def test_stabilizing_predictions_kappa_by_hand():
    X_pool = np.arange(4.0).reshape(4, 1)
    script = [[0, 0, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]]
    # Calls 1 -> 2: p_o = 3/4; p_e = 1/2 * 1/4 + 1/2 * 3/4 = 1/2;
    # kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2. Then identical predictions: 1.
    assert cohen_kappa_score(script[0], script[1]) == pytest.approx(0.5)
    criterion = StabilizingPredictions(window=2, threshold=0.8, random_state=0)
    learner = ScriptedPredictor(script)
    decisions = [criterion.should_stop(learner, X_pool) for _ in range(4)]
    assert decisions == [False, False, False, True]
    assert criterion.kappas_ == pytest.approx([0.5, 1.0, 1.0])
    assert "mean kappa 1.0000 over the last 2 rounds" in criterion.reason

    criterion = StabilizingPredictions(window=2, threshold=0.75)
    learner = ScriptedPredictor(script)
    assert [criterion.should_stop(learner, X_pool) for _ in range(3)] == [
        False, False, True]


def test_stabilizing_predictions_needs_window_rounds_and_fixed_stop_set():
    rng = np.random.RandomState(0)
    X_pool = rng.normal(size=(50, 2))
    criterion = StabilizingPredictions(window=3, stop_set_size=10, random_state=0)
    learner = ScriptedPredictor([np.zeros(10)])
    decisions = [criterion.should_stop(learner, X_pool[: 50 - k]) for k in range(4)]
    assert decisions == [False, False, False, True]  # constant predictions: kappa 1
    assert criterion.kappas_ == [1.0, 1.0, 1.0]
    assert criterion.stop_set_.shape == (10, 2)
    np.testing.assert_array_equal(criterion.stop_set_,
                                  X_pool[criterion.stop_set_indices_])
    same_seed = StabilizingPredictions(stop_set_size=10, random_state=0)
    same_seed.should_stop(ScriptedPredictor([np.zeros(10)]), X_pool)
    np.testing.assert_array_equal(same_seed.stop_set_indices_,
                                  criterion.stop_set_indices_)
    criterion.reset()
    assert not hasattr(criterion, "stop_set_") and criterion.reason is None
    assert criterion.should_stop(ScriptedPredictor([np.zeros(10)]), X_pool) is False
    # Estimator-like: parameters, clone, but nothing to fit.
    assert clone(criterion).get_params()["window"] == 3
    assert not hasattr(criterion, "fit")


def test_rounds_of_skipped_rows_do_not_feed_the_stopping_criteria(data):
    # A person who skips a few unreadable rows in a row leaves the model as
    # it was; successive "models" that are the same one must not look stable.
    X, y_true = data
    learner = make_learner(X, seed_labels(y_true), batch_size=1)
    calls = []

    def oracle(rows):
        calls.append(len(rows))
        return [-1] if len(calls) <= 4 else [y_true[TableOracle(X, y_true).lookup[
            np.asarray(rows[0], dtype=float).tobytes()]]]

    criterion = StabilizingPredictions(window=3, threshold=0.99, random_state=0)
    run = run_active_learning(learner, None, oracle, budget=8, stopping=criterion)
    assert len(calls) > 4 and run.n_labeled > 0
    assert len(criterion.kappas_) <= run.n_labeled


def test_stabilizing_predictions_with_a_learner(data):
    X, y_true = data
    learner = make_learner(X, seed_labels(y_true, per_class=4))
    criterion = StabilizingPredictions(window=2, threshold=0.99, stop_set_size=50,
                                       random_state=0)
    # The model does not change between calls: kappas of 1, stop at call 3.
    assert [criterion.should_stop(learner) for _ in range(3)] == [False, False, True]


def test_max_uncertainty_stopping():
    X = np.r_[np.linspace(-6, -4, 10), np.linspace(4, 6, 10)].reshape(-1, 1)
    y = np.full(20, -1)
    y[[0, 19]] = [0, 1]
    confident = ActiveLearner(LogisticRegression(C=100.0)).fit(X, y)
    criterion = MaxUncertaintyStopping(threshold=0.05)
    assert criterion.should_stop(confident) is True
    assert criterion.reason.startswith("max uncertainty")
    assert criterion.max_uncertainties_[0] < 0.05

    # A row on the decision boundary keeps it going.
    X_pool = np.array([[0.0], [5.0]])
    assert criterion.should_stop(confident, X_pool) is False
    assert criterion.reason is None
    assert criterion.max_uncertainties_[-1] == pytest.approx(0.5, abs=0.05)
    assert criterion.should_stop(confident, X_pool[:0]) is False
    criterion.reset()
    assert not hasattr(criterion, "max_uncertainties_")
    with pytest.raises(ValueError, match="threshold"):
        MaxUncertaintyStopping(threshold=1.5).should_stop(confident)


def test_run_result_is_frozen(data):
    X, y_true = data
    run = run_active_learning(make_learner(X, seed_labels(y_true)), None,
                              TableOracle(X, y_true), budget=2)
    assert isinstance(run, ActiveLearningRun)
    with pytest.raises(AttributeError):
        run.stopped_by = "x"
