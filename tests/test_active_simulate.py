"""simulate_active_learning, ActiveLearningCurve and ActiveLearningCurveDisplay."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.semi_supervised import LabelSpreading

from sklabelfree.active import (
    ActiveLearner,
    ActiveLearningCurve,
    ActiveLearningCurveDisplay,
    simulate_active_learning,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16.0
    y = y[:400]
    return train_test_split(X, y, test_size=100, random_state=0)


def _lr():
    return LogisticRegression(max_iter=200)


def _curve(n_labels, scores, name=None):
    n_labels = np.asarray(n_labels)
    n_queried = n_labels[-1] - n_labels[0]
    return ActiveLearningCurve(
        n_labels, scores, np.arange(n_queried), np.arange(n_labels[0]),
        np.zeros(len(n_labels)), np.zeros(len(n_labels)), name=name)


def test_curve_follows_the_queries_and_its_scores_are_the_refits(digits):
    X, X_test, y, y_test = digits
    learner = ActiveLearner(_lr(), "margin", random_state=0)
    curve = simulate_active_learning(learner, X, y, X_test, y_test, budget=25,
                                     n_initial=10, random_state=3)
    assert not hasattr(learner, "estimator_")  # the learner given is not fitted
    np.testing.assert_array_equal(curve.n_labels, np.arange(10, 26))
    assert curve.scores.shape == curve.fit_seconds.shape == curve.query_seconds.shape == (16,)
    assert curve.query_seconds[0] == 0.0 and np.all(curve.fit_seconds >= 0)
    assert curve.name == "margin" and curve.scoring == "accuracy"
    # The random start: the rows RandomState(seed).choice would draw.
    expected = np.random.RandomState(3).choice(len(y), 10, replace=False)
    np.testing.assert_array_equal(curve.initial, expected)
    # Queried rows: new, distinct, one per step.
    assert curve.queried.shape == (15,)
    assert len(np.unique(np.concatenate([curve.initial, curve.queried]))) == 25
    # Each score is the accuracy of the estimator refitted on the rows labeled
    # so far, in the order they were labeled (the random start as drawn).
    for i in (0, 7, 15):
        rows = np.concatenate([curve.initial, curve.queried[:i]])
        model = clone(_lr()).fit(X[rows], y[rows])
        assert curve.scores[i] == pytest.approx(model.score(X_test, y_test))
    assert curve.score_at(25) == curve.scores[-1]
    assert 0.0 <= curve.auc <= 1.0


_FITS = []


class _OrderSpy(LogisticRegression):
    """Records the rows of every fit, in order, in ``_FITS`` (clones share it)."""

    def fit(self, X, y):
        _FITS.append(np.asarray(X).copy())
        return super().fit(X, y)


def test_fits_see_the_random_start_as_drawn_then_the_answers_as_given(digits):
    # As in modAL's loop: X_training = X[initial] (in the order drawn), then
    # each answered row appended; the curve's rows are positions in X.
    X, X_test, y, y_test = digits
    log = _FITS
    log.clear()
    learner = ActiveLearner(_OrderSpy(max_iter=200), "margin", batch_size=2,
                            random_state=0)
    curve = simulate_active_learning(learner, X, y, X_test, y_test, budget=16,
                                     n_initial=10, random_state=5)
    expected = np.random.RandomState(5).permutation(len(y))[:10]
    np.testing.assert_array_equal(curve.initial, expected)
    assert not np.array_equal(np.sort(expected), expected)  # the order is tested
    assert len(log) == 4
    np.testing.assert_array_equal(log[0], X[expected])
    for step, seen in enumerate(log[1:], start=1):
        rows = np.concatenate([curve.initial, curve.queried[:2 * step]])
        np.testing.assert_array_equal(seen, X[rows])
    # The queried rows are pool rows of X, and each is the margin pick of the
    # previous fit over the pool in X's order.
    assert not np.isin(curve.queried, curve.initial).any()
    model = LogisticRegression(max_iter=200).fit(X[expected], y[expected])
    pool = np.setdiff1d(np.arange(len(y)), expected)
    top2 = np.sort(model.predict_proba(X[pool]), axis=1)[:, -2:]
    best = pool[np.argsort(top2[:, 1] - top2[:, 0], kind="stable")[:2]]
    assert set(curve.queried[:2]) == set(best)


def test_batches_end_exactly_at_the_budget(digits):
    X, X_test, y, y_test = digits
    learner = ActiveLearner(_lr(), "entropy", batch_size=4, random_state=0)
    curve = simulate_active_learning(learner, X, y, X_test, y_test, budget=21,
                                     random_state=0)
    np.testing.assert_array_equal(curve.n_labels, [10, 14, 18, 21])
    assert curve.queried.shape == (11,)
    assert curve.score_at(17) == curve.scores[1]  # the last step with at most 17 labels


def test_same_random_state_gives_the_same_curve(digits):
    X, X_test, y, y_test = digits
    # random queries, the learner's random_state left to None: seeded by the simulation
    learner = ActiveLearner(_lr(), "random")
    a = simulate_active_learning(learner, X, y, X_test, y_test, budget=20, random_state=7)
    b = simulate_active_learning(learner, X, y, X_test, y_test, budget=20, random_state=7)
    c = simulate_active_learning(learner, X, y, X_test, y_test, budget=20, random_state=8)
    np.testing.assert_array_equal(a.initial, b.initial)
    np.testing.assert_array_equal(a.queried, b.queried)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.array_equal(np.concatenate([a.initial, a.queried]),
                              np.concatenate([c.initial, c.queried]))
    assert learner.random_state is None  # the learner given is left as it was


def test_a_start_with_one_class_draws_more_rows():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = np.zeros(60, dtype=int)
    y[:6] = 1
    X[:6] += 3
    seed = next(s for s in range(100)
                if len(np.unique(y[np.random.RandomState(s).permutation(60)[:3]])) == 1)
    order = np.random.RandomState(seed).permutation(60)
    k = next(k for k in range(3, 60) if len(np.unique(y[order[:k]])) == 2)
    curve = simulate_active_learning(ActiveLearner(_lr(), "margin"), X, y, X, y,
                                     budget=k + 3, n_initial=3, random_state=seed)
    np.testing.assert_array_equal(curve.initial, order[:k])
    np.testing.assert_array_equal(curve.n_labels, np.arange(k, k + 4))
    with pytest.raises(ValueError, match=f"needed {k} rows to hold two classes"):
        simulate_active_learning(ActiveLearner(_lr()), X, y, X, y, budget=k,
                                 n_initial=3, random_state=seed)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(budget=301), ValueError,
         "budget=301 is larger than the 300 rows of X that can be labeled"),
        (dict(budget=10), ValueError, "budget=10 must be larger than n_initial=10"),
        (dict(budget=5), ValueError, "budget=5 must be larger than n_initial=10"),
        (dict(budget=20, n_initial=0), ValueError, "n_initial must be >= 1, got 0"),
        (dict(budget=20.0), TypeError, "budget must be an int, got 20.0"),
    ],
)
def test_budget_errors(digits, kwargs, error, message):
    X, X_test, y, y_test = digits
    with pytest.raises(error, match=re.escape(message)):
        simulate_active_learning(ActiveLearner(_lr()), X, y, X_test, y_test, **kwargs)


def test_bad_oracle_labels(digits):
    X, X_test, y, y_test = digits
    y_missing = y.copy()
    y_missing[5] = -1
    with pytest.raises(ValueError, match="1 rows labeled -1"):
        simulate_active_learning(ActiveLearner(_lr()), X, y_missing, X_test, y_test, 20)
    with pytest.raises(ValueError, match="X has 300 rows but y has 299 labels"):
        simulate_active_learning(ActiveLearner(_lr()), X, y[:-1], X_test, y_test, 20)
    with pytest.raises(ValueError, match="X_test has 100 rows but y_test has 99"):
        simulate_active_learning(ActiveLearner(_lr()), X, y, X_test, y_test[:-1], 20)
    with pytest.raises(ValueError, match="single class"):
        simulate_active_learning(ActiveLearner(_lr()), X, np.zeros_like(y), X_test,
                                 y_test, 20)
    with pytest.raises(ValueError, match="NaN"):
        simulate_active_learning(ActiveLearner(_lr()), X, np.where(y == 3, np.nan, y),
                                 X_test, y_test, 20)


def test_scoring_and_name(digits):
    X, X_test, y, y_test = digits
    curve = simulate_active_learning(
        ActiveLearner(_lr(), "least_confident", random_state=0), X, y, X_test, y_test,
        budget=15, random_state=0, scoring="balanced_accuracy", name="lc")
    assert curve.name == "lc" and curve.scoring == "balanced_accuracy"
    rows = np.sort(np.concatenate([curve.initial, curve.queried]))
    model = clone(_lr()).fit(X[rows], y[rows])
    assert curve.scores[-1] == pytest.approx(
        balanced_accuracy_score(y_test, model.predict(X_test)))


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
def test_semi_supervised_estimator():
    X, y = load_iris(return_X_y=True)
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, random_state=0)
    learner = ActiveLearner(LabelSpreading(kernel="knn", n_neighbors=5), "margin",
                            random_state=0)
    curve = simulate_active_learning(learner, X_pool, y_pool, X_test, y_test, budget=14,
                                     n_initial=6, random_state=0)
    assert curve.n_labels.tolist() == list(range(6, 15))
    assert np.all((curve.scores >= 0) & (curve.scores <= 1))


def test_string_labels():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    X_pool, X_test, y_pool, y_test = train_test_split(X, names, random_state=0)
    curve = simulate_active_learning(ActiveLearner(_lr(), "entropy", random_state=0),
                                     X_pool, y_pool, X_test, y_test, budget=12,
                                     n_initial=6, random_state=0)
    assert curve.n_labels.tolist() == list(range(6, 13))
    assert curve.scores[-1] > 0.5


def test_verbose_shows_progress(digits, capsys):
    X, X_test, y, y_test = digits
    simulate_active_learning(ActiveLearner(_lr(), random_state=0), X, y, X_test, y_test,
                             budget=13, random_state=0, verbose=True)
    assert "margin" in capsys.readouterr().err


def test_auc_by_hand_and_score_at():
    curve = _curve([10, 12, 16], [0.2, 0.6, 0.8])
    # trapezoids: 2 * (0.2 + 0.6) / 2 + 4 * (0.6 + 0.8) / 2 = 0.8 + 2.8 = 3.6; width 6
    assert curve.auc == pytest.approx(0.6)
    assert curve.score_at(10) == 0.2
    assert curve.score_at(11) == 0.2  # the last point with at most 11 labels
    assert curve.score_at(12) == 0.6
    assert curve.score_at(1000) == 0.8
    with pytest.raises(ValueError, match="starts at 10 labels"):
        curve.score_at(9)
    assert _curve([5], [0.7]).auc == 0.7
    assert "auc=0.600" in repr(curve)
    with pytest.raises(ValueError, match="strictly increasing"):
        _curve([10, 10], [0.1, 0.2])
    with pytest.raises(ValueError, match="scores has shape"):
        ActiveLearningCurve([10, 11], [0.1], [0], range(10), [0, 0], [0, 0])


def test_display_draws_one_line_per_name_and_bands_for_seeds():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {
        "random": [_curve([10, 11, 12], [0.3, 0.5, 0.6]),
                   _curve([10, 11, 12], [0.5, 0.5, 0.8])],
        "margin": _curve([10, 11, 12], [0.3, 0.6, 0.8]),
    }
    fig, ax = plt.subplots()
    display = ActiveLearningCurveDisplay(curves).plot(ax=ax, linewidth=3)
    assert display.ax_ is ax and display.figure_ is fig
    assert list(display.lines_) == ["random", "margin"]
    np.testing.assert_allclose(display.lines_["random"].get_ydata(), [0.4, 0.5, 0.7])
    np.testing.assert_array_equal(display.lines_["margin"].get_xdata(), [10, 11, 12])
    assert display.lines_["margin"].get_linewidth() == 3
    assert list(display.bands_) == ["random"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["random (AUC 0.525)", "margin (AUC 0.575)"]
    assert ax.get_xlabel() == "labeled rows" and ax.get_ylabel() == "test accuracy"

    # a list of curves is grouped by name; a new figure when no axes are given
    named = [_curve([10, 12], [0.1, 0.3], "a"), _curve([10, 12], [0.2, 0.4], "b"),
             _curve([10, 12], [0.3, 0.5], "a")]
    display = ActiveLearningCurveDisplay.from_curves(named, std=False)
    assert list(display.lines_) == ["a", "b"] and display.bands_ == {}
    assert display.figure_ is not fig
    with pytest.raises(ValueError, match="no curve"):
        ActiveLearningCurveDisplay({}).plot()
    with pytest.raises(TypeError, match="must be an ActiveLearningCurve"):
        ActiveLearningCurveDisplay({"x": [1, 2]}).plot()
    plt.close("all")


def test_display_of_simulated_curves(digits):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, X_test, y, y_test = digits
    curves = [
        simulate_active_learning(ActiveLearner(_lr(), s, random_state=0), X, y, X_test,
                                 y_test, budget=14, random_state=seed)
        for s in ("random", "margin") for seed in (0, 1)
    ]
    display = ActiveLearningCurveDisplay.from_curves(curves)
    assert sorted(display.lines_) == ["margin", "random"]
    assert len(display.ax_.collections) == 2
    plt.close("all")


def test_importing_active_does_not_import_matplotlib():
    code = ("import sys\nimport sklabelfree.active\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
