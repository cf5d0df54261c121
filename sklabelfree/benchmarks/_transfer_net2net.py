"""Net2Net on digits: a grown network against one trained at full size from scratch.

Part of ``python -m sklabelfree.benchmarks transfer``. For each seed, on the
protocol's split of digits (all training labels, ``X`` as ``(1, 8, 8)``
images):

- *scratch*: a ConvNet of the full width trained for ``epochs`` epochs;
- *grown*: the same ConvNet at half the width trained for
  ``teacher_epochs`` epochs, widened to the full width by Net2WiderNet
  (function preserving) and trained on for ``epochs`` more epochs.

Both curves give the test accuracy after every epoch (of the full-size
network for *grown*: the epochs after growing), with SGD and momentum (the
optimizer of the paper: its steps are proportional to the gradient, so a
grown network that already fits is not thrown off by the fresh optimizer
state) and predictions of the trained weights. The table reports the mean
curves at a few epochs, the first epoch at 0.95 and the mean over the first
five epochs.
"""

import time

import numpy as np

__all__ = ["run_net2net", "NET2NET_WIDTH", "NET2NET_NARROW"]

NET2NET_WIDTH = 16
"""Width (first-block channels) of the full-size ConvNet."""
NET2NET_NARROW = 8
"""Width of the narrow ConvNet that is grown."""


def _curve_callback(X_test, y_test, out):
    from skorch.callbacks import Callback

    class _TestCurve(Callback):
        def on_epoch_end(self, net, **kwargs):
            out.append(float(np.mean(net.predict(X_test) == y_test)))

    return _TestCurve()


def _epochs_to(curve, level):
    hit = np.flatnonzero(np.asarray(curve) >= level - 1e-12)
    return int(hit[0]) + 1 if hit.size else None


def run_net2net(seeds, epochs=20, teacher_epochs=10, progress=None):
    """Curves of the scratch and grown networks, mean over ``seeds``.

    Parameters
    ----------
    seeds : list of int
        Split and initialisation seeds.
    epochs : int, default=20
        Epochs of the full-size network (scratch), and epochs after growing.
    teacher_epochs : int, default=10
        Epochs of the narrow network before it is widened.
    progress : callable, default=None
        Called with a line of text after each fit.

    Returns
    -------
    result : dict
        ``scratch`` and ``grown``: arrays (n_seeds, epochs) of test
        accuracy; ``teacher``: accuracy of the narrow network when it is
        widened; ``growth``: the ``growth_`` records; ``seconds``: fit
        times.

    Examples
    --------
    >>> from sklabelfree.benchmarks._transfer_net2net import run_net2net
    >>> out = run_net2net([0], epochs=2, teacher_epochs=1)  # doctest: +SKIP
    """
    from ..datasets import digits_benchmark_split
    import torch

    from ..transfer import Net2NetClassifier

    scratch, grown, teacher, growth, seconds = [], [], [], [], {"scratch": [], "grown": []}
    for seed in seeds:
        X, y, X_test, y_test, y_full = digits_benchmark_split(10, random_state=seed,
                                                              as_images=True)
        y_all = y_full
        common = dict(random_state=seed, batch_size=64, lr=0.05, lr_schedule="constant",
                      ema_decay=None, optimizer=torch.optim.SGD, optimizer__momentum=0.9)
        curve = []
        clf = Net2NetClassifier(schedule=(), max_epochs=epochs,
                                module__width=NET2NET_WIDTH,
                                callbacks=[("test_curve", _curve_callback(X_test, y_test,
                                                                          curve))],
                                **common)
        t = time.perf_counter()
        clf.fit(X, y_all)
        seconds["scratch"].append(time.perf_counter() - t)
        scratch.append(curve)
        if progress:
            progress(f"net2net scratch seed {seed}: {curve[-1]:.3f}")

        curve = []
        factor = NET2NET_WIDTH / NET2NET_NARROW
        clf = Net2NetClassifier(schedule=((teacher_epochs, "widen"),),
                                widen_factor=factor,
                                max_epochs=teacher_epochs + epochs,
                                module__width=NET2NET_NARROW,
                                callbacks=[("test_curve", _curve_callback(X_test, y_test,
                                                                          curve))],
                                **common)
        t = time.perf_counter()
        clf.fit(X, y_all)
        seconds["grown"].append(time.perf_counter() - t)
        teacher.append(curve[teacher_epochs - 1])
        grown.append(curve[teacher_epochs:])
        growth.append(clf.growth_[0])
        if progress:
            progress(f"net2net grown seed {seed}: {curve[-1]:.3f}")
    return dict(scratch=np.asarray(scratch), grown=np.asarray(grown),
                teacher=np.asarray(teacher), growth=growth, seconds=seconds)


def net2net_table(result, marks=(1, 2, 5, 10, 20), level=0.95, early=5):
    """Header, rows and notes for :func:`~._table.format_table`.

    Parameters
    ----------
    result : dict
        From :func:`run_net2net`.
    marks : tuple of int
        Epochs shown.
    level : float, default=0.95
        Accuracy whose first epoch is reported (on the mean curve).
    early : int, default=5
        The mean accuracy over the first ``early`` epochs is reported.

    Returns
    -------
    header : list of str
    rows : list of list
    notes : list of str
    """
    scratch = result["scratch"].mean(axis=0)
    grown = result["grown"].mean(axis=0)
    n = scratch.shape[0]
    marks = [m for m in marks if m <= n]
    if n not in marks:
        marks.append(n)
    early = min(early, n)
    header = ["network", *[f"epoch {m}" for m in marks], f"first epoch >= {level:.2f}",
              f"mean epochs 1-{early}", "fit s"]
    rows = []
    for name, curve, key in (
            (f"scratch (width {NET2NET_WIDTH})", scratch, "scratch"),
            (f"grown ({NET2NET_NARROW} -> {NET2NET_WIDTH}), epochs after growing", grown,
             "grown")):
        first = _epochs_to(curve, level)
        rows.append([name, *[f"{curve[m - 1]:.3f}" for m in marks],
                     "never" if first is None else str(first),
                     f"{curve[:early].mean():.3f}",
                     f"{np.mean(result['seconds'][key]):.1f}"])
    gaps = [abs(g["loss_after"] - g["loss_before"]) for g in result["growth"]]
    notes = [
        f"narrow network when widened: test accuracy {np.mean(result['teacher']):.3f}; "
        f"training loss before vs after widening differs by at most {max(gaps):.1e} "
        "(function preserving)",
        "curves (mean over seeds, every epoch): scratch "
        + " ".join(f"{v:.3f}" for v in scratch) + "; grown "
        + " ".join(f"{v:.3f}" for v in grown),
    ]
    return header, rows, notes
