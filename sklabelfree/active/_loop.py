"""The active-learning loop: query, ask the oracle, record, teach, repeat."""

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import UNLABELED
from ..utils.validation import as_label_array
from ._data import n_rows, take_rows
from ._journal import LabelJournal, _json_label, pool_fingerprint
from ._oracle import OracleQuit

__all__ = ["run_active_learning", "ActiveLearningRun"]


@dataclass(frozen=True)
class ActiveLearningRun:
    """What :func:`run_active_learning` did.

    Attributes
    ----------
    learner : ActiveLearner
        The learner, taught every label (the same object that was passed).
    queried : ndarray of int
        Pool ids of every answered row, in order: first the ``n_resumed``
        ones read from the journal, then the ones the oracle answered in
        this run.
    labels : ndarray
        The answer for each id of ``queried``; ``-1`` for a skipped row.
        ``object`` dtype when the labels are strings.
    n_resumed : int
        Number of answers read from the journal at the start (taught to
        the learner, unless it already had them).
    n_rounds : int
        Number of query rounds run (oracle calls).
    stopped_by : str
        Why the loop ended: ``'budget'`` (the budget of labels was reached),
        ``'pool exhausted'`` (no row left to ask), ``'oracle quit'``
        (:class:`OracleQuit`), or the ``reason`` of the stopping criterion
        that fired.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import ActiveLearningRun
    >>> run = ActiveLearningRun(learner=None, queried=np.array([4, 2]),
    ...                         labels=np.array([1, -1]), n_resumed=0,
    ...                         n_rounds=2, stopped_by="budget")
    >>> run.n_labeled
    1
    """

    learner: Any
    queried: np.ndarray
    labels: np.ndarray
    n_resumed: int
    n_rounds: int
    stopped_by: str

    @property
    def n_labeled(self):
        """Number of answers that are labels (not skipped rows)."""
        return int(sum(1 for label in self.labels if not _is_skip(label)))


def _is_skip(label):
    # Any number equal to -1 (not a boolean): the learner reads a float -1.0
    # (labels read from a CSV file) as -1, a skipped row, and so must the loop.
    return (
        isinstance(label, numbers.Real)
        and not isinstance(label, (bool, np.bool_))
        and label == UNLABELED
    )


def _labels_are_strings(classes):
    return any(isinstance(c, (str, np.str_)) for c in np.asarray(classes).ravel())


def _check_answers(answers, n_expected, classes, partial, who="The oracle"):
    """Validate what an oracle returned; Python scalars, one per row."""
    if answers is None or isinstance(answers, (str, bytes)) or not hasattr(
        answers, "__len__"
    ):
        raise ValueError(
            f"The oracle returned {answers!r}; it must return a sequence with one "
            f"label per row ({n_expected} here), -1 for a skipped row."
        )
    answers = list(np.asarray(answers, dtype=object).ravel()) if isinstance(
        answers, np.ndarray) else list(answers)
    if partial:
        if len(answers) > n_expected:
            raise ValueError(
                f"OracleQuit carries {len(answers)} labels for a batch of "
                f"{n_expected} rows; it must carry at most one per row."
            )
    elif len(answers) != n_expected:
        raise ValueError(
            f"The oracle returned {len(answers)} labels for {n_expected} rows: it "
            "must return exactly one label per row (-1 to skip a row)."
        )
    string_classes = _labels_are_strings(classes)
    checked = []
    for label in answers:
        try:
            label = _json_label(label)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{who} gave an invalid label: {exc}") from None
        if _is_skip(label):
            label = UNLABELED  # the integer -1, also for a float -1.0
        else:
            if isinstance(label, str) != string_classes:
                kind = "strings" if string_classes else "numbers"
                raise ValueError(
                    f"{who} answered {label!r}, but the learner's classes are "
                    f"{kind} ({list(classes)}): answer with labels of the same "
                    "type, -1 to skip a row."
                )
        checked.append(label)
    return checked


def _check_taught(learner, answers, who):
    """Refuse, before they are journaled, answers the learner's ``teach`` would refuse."""
    check = getattr(learner, "_check_answers", None)
    if check is None or not answers:
        return
    try:
        check(as_label_array(answers), len(answers), who)
    except ValueError as exc:
        raise ValueError(
            f"{who} gave answers the learner cannot take, so none of this batch "
            f"was recorded: {exc}") from None


def _check_learner(learner):
    missing = [m for m in ("query", "teach", "fit") if not callable(
        getattr(learner, m, None))]
    if missing:
        raise TypeError(
            f"run_active_learning needs an ActiveLearner (with query and teach); "
            f"got {type(learner).__name__}, which lacks {', '.join(missing)}."
        )
    if not hasattr(learner, "pool_indices_") or not hasattr(learner, "estimator_"):
        raise ValueError(
            f"This {type(learner).__name__} is not fitted yet: call "
            "learner.fit(X, y) on a few labeled rows (y == -1 for the pool) "
            "before run_active_learning."
        )


def _check_budget(budget):
    if isinstance(budget, (bool, np.bool_)) or not isinstance(
        budget, numbers.Integral
    ):
        raise ValueError(
            f"budget must be an integer number of labels, got {budget!r}."
        )
    if budget < 1:
        raise ValueError(
            f"budget must be at least 1 (the number of labels to obtain), got "
            f"{budget}."
        )
    return int(budget)


def _teach(learner, X_rows, labels, pool_indices=None):
    y = as_label_array(labels)
    if pool_indices is None:
        learner.teach(X_rows, y)
    else:
        learner.teach(None, y, pool_indices=np.asarray(pool_indices, dtype=np.intp))


def run_active_learning(learner, X_pool, oracle, budget, journal=None,
                        stopping=None, verbose=False):
    """Run pool-based active learning with an oracle until a budget is spent.

    Each round queries ``min(batch_size, labels left in the budget, rows
    left in the pool)`` rows with ``learner.query``, asks ``oracle`` for
    their labels, writes the answers to ``journal`` (on disk before going
    on), teaches them to the learner, and checks the stopping criteria.

    **Resuming.** With a journal, the answers already in it are taught to
    the learner first and never asked again, so a session that crashed, or
    was stopped, continues where it ended when it is run again with the
    same pool, journal and budget, and a learner fitted as at the start.
    Labels are expensive: the journal holds every answer before the learner
    sees it. With the learner's own pool, the learner that an earlier run
    taught can be passed again as well: rows it already knows are not
    taught twice (and a journal that contradicts its labels is refused).
    With an external pool the learner cannot tell which rows it was
    taught, so pass one fitted afresh on the seed labels.

    **Rules.**

    - ``budget`` counts labels, those already in the journal included
      (all of which are taught, even when they outnumber ``budget``).
      A skipped row (answer ``-1``, or ``-1.0``) is not a label: it costs nothing from
      the budget, but it leaves the pool and is never asked again (with
      the learner's own pool it stays an unlabeled row of the learner;
      a skipped row of an external pool is not taught at all).
    - An answer may be a class the learner has not seen: it is accepted and
      the learner's classes grow when it is taught. Answers must have the
      learner's label type (numbers or strings).
    - :class:`OracleQuit` ends the loop after the answers it carries are
      journaled and taught.
    - Any other exception from the oracle (for example ``KeyboardInterrupt``)
      propagates; the answers of earlier rounds are in the journal, those
      of the interrupted batch are not (the oracle never returned them).

    Parameters
    ----------
    learner : ActiveLearner
        A fitted :class:`ActiveLearner` (fitted on a few labeled rows). It is
        taught in place.
    X_pool : array-like, DataFrame, sparse matrix, torch tensor or None
        ``None``: the pool is the learner's own, rows ``pool_indices_`` of
        ``learner.X_``; pool ids are rows of ``learner.X_`` and answered
        rows are taught with ``teach(..., pool_indices=ids)``.
        Otherwise an external pool: pool ids are its row positions, labeled
        rows are appended to the learner (``teach(X_rows, labels)``) and
        answered rows are not queried again.
    oracle : callable
        ``oracle(X_rows) -> labels``: one label per row, ``-1`` to skip a
        row. It may raise :class:`OracleQuit` with the labels given so far.
        :class:`ConsoleOracle` asks a person.
    budget : int >= 1
        Total number of labels to obtain, counting those in the journal.
        At most the number of rows in the pool.
    journal : LabelJournal, str, path-like or None, default=None
        Where answers are recorded; a path is opened as a
        :class:`LabelJournal` (created if missing). It must belong to the
        pool (same :func:`pool_fingerprint`).
    stopping : criterion or list of criteria, default=None
        Objects with ``should_stop(learner, X_pool)``, checked after each
        round that added a label (a round of skipped rows leaves the model
        as it was), with the rows left in the pool (:class:`MaxUncertaintyStopping`,
        :class:`StabilizingPredictions`). The loop ends at the first that
        says stop. They are ``reset()`` at the start.
    verbose : bool, default=False
        Show a progress bar of the labels obtained (tqdm).

    Returns
    -------
    run : ActiveLearningRun
        The learner, the answered ids and labels, and why the loop stopped.

    Raises
    ------
    ValueError
        Before anything is asked: unfitted learner, ``budget < 1`` or larger
        than the pool, a journal written for another pool or that
        contradicts the learner or holds answers it refuses. While running:
        an oracle answer of the wrong length or type, or one the learner's
        ``teach`` refuses (a string ``'-1'``, ``2.5`` next to integer
        classes); none of that batch's answers is journaled.

    See Also
    --------
    ActiveLearner : The learner that queries and is taught.
    LabelJournal : The record of answers that makes a run resumable.
    ConsoleOracle : An oracle that asks a person at the terminal.

    Examples
    --------
    Simulate an annotator with the true labels of the digits:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklabelfree.active import ActiveLearner, run_active_learning
    >>> X, y_true = load_digits(return_X_y=True)
    >>> X, y_true = X[:300] / 16, y_true[:300]
    >>> y = np.full(300, -1); y[:10] = y_true[:10]
    >>> learner = ActiveLearner(LogisticRegression(), batch_size=5,
    ...                         random_state=0).fit(X, y)
    >>> answer = lambda rows: [y_true[np.flatnonzero((X == r).all(1))[0]]
    ...                        for r in rows]
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.jsonl")
    >>> run = run_active_learning(learner, None, answer, budget=20, journal=path)
    >>> run.stopped_by, run.n_labeled, run.n_rounds
    ('budget', 20, 4)

    Run again with a bigger budget: the 20 answers come from the journal.

    >>> learner = ActiveLearner(LogisticRegression(), batch_size=5,
    ...                         random_state=0).fit(X, y)
    >>> run = run_active_learning(learner, None, answer, budget=30, journal=path)
    >>> run.n_resumed, run.n_labeled, run.n_rounds
    (20, 30, 2)
    """
    _check_learner(learner)
    budget = _check_budget(budget)
    if not callable(oracle):
        raise TypeError(f"oracle must be callable (oracle(X_rows) -> labels), "
                        f"got {type(oracle).__name__}.")
    if stopping is None:
        criteria = []
    elif isinstance(stopping, (list, tuple)):
        criteria = list(stopping)
    else:
        criteria = [stopping]
    for criterion in criteria:
        if not callable(getattr(criterion, "should_stop", None)):
            raise TypeError(
                f"stopping criteria need a should_stop(learner, X_pool) method; "
                f"{criterion!r} has none."
            )

    internal = X_pool is None
    pool_data = learner.X_ if internal else X_pool
    n_pool_rows = n_rows(pool_data)
    if not internal and n_pool_rows == 0:
        raise ValueError("X_pool has no rows.")

    # The journal: check it belongs to this pool, read the answers in it.
    if journal is not None and not isinstance(journal, LabelJournal):
        journal = LabelJournal(journal)
    answered = {}  # pool id -> current answer, in order of first answer
    fingerprint = None
    if journal is not None:
        fingerprint = pool_fingerprint(pool_data)
        if journal.header is not None:
            # An existing journal: refuse it for another pool before reading.
            journal.check_pool(pool_data, fingerprint=fingerprint)
        for pool_id, label in journal.entries():
            answered[pool_id] = label

    # What is still to be asked, and the budget against the pool.
    if internal:
        in_pool = np.zeros(n_pool_rows, dtype=bool)
        in_pool[np.asarray(learner.pool_indices_, dtype=np.intp)] = True
        replay = [(i, lab) for i, lab in answered.items() if in_pool[i]]
        _check_already_taught(learner, answered, in_pool)
        pool_size = int(in_pool.sum()) + sum(
            1 for i, lab in answered.items() if not in_pool[i] and not _is_skip(lab)
        )
    else:
        replay = list(answered.items())
        remaining = np.ones(n_pool_rows, dtype=bool)
        pool_size = n_pool_rows
    if budget > pool_size:
        raise ValueError(
            f"budget={budget} is larger than the pool ({pool_size} rows): at most "
            f"{pool_size} labels can be obtained."
        )
    if journal is not None and journal.header is None:
        journal.check_pool(pool_data, fingerprint=fingerprint)  # creates it

    # Resume: teach what the journal holds.
    if replay:
        ids = [i for i, _ in replay]
        who = f"The journal {journal.path}"
        labels = _check_answers([lab for _, lab in replay], len(ids),
                                learner.classes_, partial=False, who=who)
        _check_taught(learner, labels, who)
        if internal:
            _teach(learner, None, labels, pool_indices=ids)
        else:
            remaining[ids] = False
            keep = [k for k, lab in enumerate(labels) if not _is_skip(lab)]
            if keep:
                _teach(learner, take_rows(X_pool, [ids[k] for k in keep]),
                       [labels[k] for k in keep])
    queried = [i for i, _ in answered.items()]
    given = [lab for _, lab in answered.items()]
    n_resumed = len(answered)
    n_labels = sum(1 for lab in given if not _is_skip(lab))

    for criterion in criteria:
        if callable(getattr(criterion, "reset", None)):
            criterion.reset()

    progress = None
    if verbose:
        from tqdm import tqdm

        progress = tqdm(total=budget, initial=min(n_labels, budget),
                        desc="labels", unit="label")

    def pool_left():
        if internal:
            return np.asarray(learner.pool_indices_, dtype=np.intp)
        return np.flatnonzero(remaining)

    n_rounds = 0
    stopped_by = None
    try:
        while True:
            left = pool_left()
            if n_labels >= budget:
                stopped_by = "budget"
                break
            if left.size == 0:
                stopped_by = "pool exhausted"
                break
            batch_size = getattr(learner, "batch_size", 1) or 1
            n = int(min(batch_size, budget - n_labels, left.size))
            if internal:
                ids = np.asarray(learner.query(n=n), dtype=np.intp)
                rows = take_rows(learner.X_, ids)
            else:
                idx = np.asarray(learner.query(take_rows(X_pool, left), n=n),
                                 dtype=np.intp)
                ids = left[idx]
                rows = take_rows(X_pool, ids)
            quit_ = False
            try:
                answers = oracle(rows)
            except OracleQuit as exc:
                answers, quit_ = exc.labels, True
            answers = _check_answers(answers, len(ids), learner.classes_,
                                     partial=quit_)
            _check_taught(learner, answers, "The oracle")
            ids = ids[: len(answers)]
            n_rounds += 1
            new_labels = 0
            if answers:
                if journal is not None:
                    journal.append(ids, answers)
                if internal:
                    _teach(learner, None, answers, pool_indices=ids)
                else:
                    remaining[ids] = False
                    keep = [k for k, lab in enumerate(answers) if not _is_skip(lab)]
                    if keep:
                        _teach(learner, take_rows(X_pool, ids[keep]),
                               [answers[k] for k in keep])
                new_labels = sum(1 for lab in answers if not _is_skip(lab))
                n_labels += new_labels
                queried.extend(int(i) for i in ids)
                given.extend(answers)
                if progress is not None:
                    progress.update(new_labels)
                    progress.set_postfix(pool=int(pool_left().size))
            if quit_:
                stopped_by = "oracle quit"
                break
            left = pool_left()
            if n_labels >= budget or left.size == 0:
                continue  # the loop head names the reason
            if new_labels == 0:
                # Only skipped rows: the model did not change, so there is
                # nothing new for a criterion to judge (two successive models
                # that are the same one would look stable).
                continue
            rows_left = take_rows(learner.X_ if internal else X_pool, left)
            for criterion in criteria:
                if criterion.should_stop(learner, rows_left):
                    stopped_by = getattr(criterion, "reason", None) or type(
                        criterion).__name__
                    break
            if stopped_by is not None:
                break
    finally:
        if progress is not None:
            progress.close()

    return ActiveLearningRun(
        learner=learner,
        queried=np.asarray(queried, dtype=np.intp),
        labels=as_label_array(given),
        n_resumed=n_resumed,
        n_rounds=n_rounds,
        stopped_by=stopped_by,
    )


def _check_already_taught(learner, answered, in_pool):
    """Journal answers for rows outside the learner's pool must match it."""
    y = np.asarray(learner.y_, dtype=object)
    for pool_id, label in answered.items():
        if in_pool[pool_id]:
            continue
        known = y[pool_id]
        known = known.item() if isinstance(known, np.generic) else known
        same = (_is_skip(label) and _is_skip(known)) or (
            not _is_skip(label) and not _is_skip(known) and known == label
        )
        if not same:
            raise ValueError(
                f"The journal answers {label!r} for row {pool_id}, but that row "
                f"is not in the learner's pool and the learner has it as "
                f"{known!r}. Resume with the learner fitted as when the journal "
                "was started (same X and y), or use a new journal."
            )
