"""Oracles: who answers the learner's questions.

An oracle is any callable ``oracle(X_rows) -> labels`` that returns one
label per row, ``-1`` for a row it chooses not to label. A function that
looks labels up in a table is an oracle (that is how active learning is
simulated); :class:`ConsoleOracle` asks a person at the terminal.
"""

import builtins
import math
import re

import numpy as np
import scipy.sparse as sp

from .. import UNLABELED
from ._data import _is_torch, n_rows

__all__ = ["ConsoleOracle", "OracleQuit"]

# Character ramp from dark (low values) to bright (high values).
_RAMP = " .:-=+*#%@"
_MAX_IMAGE_WIDTH = 64
_MAX_COLUMNS_SHOWN = 30
_INT_PATTERN = re.compile(r"[+-]?\d+")


class OracleQuit(Exception):
    """Raised by an oracle whose user wants to stop labeling.

    It carries the answers given so far in the current batch, so that none
    is lost: :func:`run_active_learning` writes them to the journal, teaches
    them and stops.

    Parameters
    ----------
    labels : sequence, default=()
        Labels of the first ``len(labels)`` rows of the batch, in order.
    message : str, default=None
        Text of the exception.

    Attributes
    ----------
    labels : list
        Labels of the first ``len(labels)`` rows of the batch.

    Examples
    --------
    >>> from sklabelfree.active import OracleQuit
    >>> try:
    ...     raise OracleQuit([3, -1])
    ... except OracleQuit as exc:
    ...     exc.labels
    [3, -1]
    """

    def __init__(self, labels=(), message=None):
        self.labels = list(labels)
        if message is None:
            message = (
                f"the oracle quit after {len(self.labels)} answer(s) in this batch"
            )
        super().__init__(message)

    def __reduce__(self):
        return type(self), (self.labels, str(self))


def _row_values(X, i):
    """Row ``i`` of ``X`` for display: a numpy array, a string or a dict."""
    if _is_torch(X):
        return X[i].detach().cpu().numpy()
    if hasattr(X, "iloc"):  # pandas
        if X.ndim == 1:
            return np.asarray([X.iloc[i]])
        return X.iloc[i].to_dict()
    if sp.issparse(X):
        return np.asarray(X.tocsr()[i].toarray()).ravel()
    row = X[i]
    if isinstance(row, (str, bytes)):
        return row
    try:
        return np.asarray(row)
    except ValueError:
        return str(row)


def _block_mean(img, step):
    """Average non-overlapping ``step x step`` blocks of a 2-D image."""
    h, w = img.shape
    h2, w2 = math.ceil(h / step) * step, math.ceil(w / step) * step
    padded = np.full((h2, w2), np.nan)
    padded[:h, :w] = img
    blocks = padded.reshape(h2 // step, step, w2 // step, step)
    return np.nanmean(blocks, axis=(1, 3))


def _image_to_text(image, max_width=_MAX_IMAGE_WIDTH):
    """Render a 2-D or 3-D array as text, one character pair per pixel.

    Values are scaled from the image's minimum (``' '``) to its maximum
    (``'@'``). A 3-D image is averaged over its channel axis: the first axis
    when it has at most 4 entries (``(c, h, w)``, the library's layout),
    otherwise the last one (``(h, w, c)``). Images wider than ``max_width``
    are shrunk by block averaging.
    """
    img = np.asarray(image, dtype=float)
    if img.ndim == 3:
        axis = 0 if img.shape[0] <= 4 or img.shape[-1] > 4 else -1
        img = img.mean(axis=axis)
    if img.ndim != 2:
        raise ValueError(f"An image must be 2-D or 3-D, got shape {image.shape}.")
    if img.shape[1] > max_width:
        img = _block_mean(img, math.ceil(img.shape[1] / max_width))
    finite = img[np.isfinite(img)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    scale = (len(_RAMP) - 1) / (hi - lo) if hi > lo else 0.0
    levels = np.where(np.isfinite(img), np.rint((img - lo) * scale), 0).astype(int)
    border = "+" + "-" * (2 * img.shape[1]) + "+"
    lines = [border]
    for row in levels:
        lines.append("|" + "".join(_RAMP[v] * 2 for v in row) + "|")
    lines.append(border)
    return "\n".join(lines)


def _describe_row(values, image_shape):
    """Text that shows one row to a person."""
    if isinstance(values, dict):
        if image_shape is not None:
            return _image_to_text(np.asarray(list(values.values()), dtype=float)
                                  .reshape(image_shape))
        items = list(values.items())
        lines = [f"  {name}: {value}" for name, value in items[:_MAX_COLUMNS_SHOWN]]
        if len(items) > _MAX_COLUMNS_SHOWN:
            lines.append(f"  ... ({len(items) - _MAX_COLUMNS_SHOWN} more columns)")
        return "\n".join(lines)
    if isinstance(values, bytes):
        values = values.decode("utf-8", errors="replace")
    if isinstance(values, str):
        return values
    numeric = values.dtype.kind in "biuf"
    if image_shape is not None:
        return _image_to_text(values.reshape(image_shape))
    if numeric and values.ndim in (2, 3):
        return _image_to_text(values)
    if values.ndim == 0:
        return str(values.item())
    return np.array2string(values, max_line_width=88, threshold=200, precision=4)


def _as_int_if_int(text):
    return int(text) if _INT_PATTERN.fullmatch(text) else text


class ConsoleOracle:
    """Ask a person at the terminal to label each queried row.

    For each row it prints the row, then reads an answer:

    - a label: without ``classes``, an answer that looks like an integer
      (``7``, ``-2``) becomes an ``int`` and any other answer stays a
      ``str``; with ``classes``, see below. Give ``classes`` (for example
      ``classes=learner.classes_``) to catch typos before they reach the
      learner: :func:`run_active_learning` refuses a batch whose labels do
      not have the type of the learner's classes;
    - ``s`` or ``skip`` (or ``-1``): no label for this row (label ``-1``);
      the row is not asked again;
    - ``q`` or ``quit`` (or end of input, or Ctrl-C): stop labeling.
      :class:`OracleQuit` is raised with the labels already given in this
      batch (``exc.labels``), which :func:`run_active_learning` keeps.

    An empty answer is asked again. Commands are not case sensitive and take
    precedence over labels, so no class can be called ``s``, ``skip``, ``q``
    or ``quit``.

    A row is shown as an image drawn with characters (from ``' '`` for its
    lowest value to ``'@'`` for its highest) when ``image_shape`` is given
    or when the row itself is 2-D (``(h, w)``) or 3-D (``(c, h, w)``);
    otherwise its values are printed (``column: value`` for a DataFrame,
    the text itself for a string).

    Parameters
    ----------
    input_func : callable or None, default=None
        Reads one answer: called with the prompt, returns a string.
        ``None`` uses :func:`input`.
    print_func : callable or None, default=None
        Shows text: called with one string. ``None`` uses :func:`print`.
    image_shape : tuple of int or None, default=None
        Shape to give each (flat) row to show it as an image, e.g.
        ``(8, 8)`` for scikit-learn's digits.
    classes : array-like or None, default=None
        Known classes. When given, an answer is matched against their text
        (``str(c)``) and the class itself is returned, so the answer ``3``
        gives the string ``'3'`` when the classes are strings. An answer
        that is not a known class is taken as a typo: the oracle says so and
        asks again. Typing the same answer twice in a row adds it as a new
        class (new classes can appear while labeling; it is a string when
        all known classes are strings); it is then known for the rest of
        the oracle's life (``added_classes_``). When the known classes are
        numbers, only a whole number can be added: any other answer is
        refused at once and asked again. ``-1`` still skips.

    Attributes
    ----------
    added_classes_ : list
        Classes that the person added to ``classes`` by typing them twice.
        Only present after such an answer.

    See Also
    --------
    run_active_learning : Runs a learner with an oracle.
    OracleQuit : Raised when the person quits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import ConsoleOracle, OracleQuit
    >>> answers = iter(["1", "s", "q"])
    >>> oracle = ConsoleOracle(input_func=lambda prompt: next(answers),
    ...                        print_func=lambda text: None)
    >>> oracle(np.eye(2))
    [1, -1]
    >>> try:
    ...     oracle(np.eye(2))
    ... except OracleQuit as exc:
    ...     print(exc.labels)
    []

    A flat row shown as an image:

    >>> image = np.zeros((3, 4)); image[:, 1] = 1.0
    >>> oracle = ConsoleOracle(input_func=lambda prompt: "0", image_shape=(3, 4))
    >>> oracle(image.reshape(1, -1))
    --- row 1 of 1 ---
    +--------+
    |  @@    |
    |  @@    |
    |  @@    |
    +--------+
    [0]
    """

    def __init__(self, input_func=None, print_func=None, image_shape=None,
                 classes=None):
        self.input_func = input_func
        self.print_func = print_func
        self.image_shape = image_shape
        self.classes = classes

    def __repr__(self):
        params = {k: v for k, v in vars(self).items()
                  if not k.endswith("_") and v is not None}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(self).__name__}({inner})"

    def _known_classes(self):
        known = [] if self.classes is None else list(np.asarray(self.classes,
                                                                dtype=object))
        known += getattr(self, "added_classes_", [])
        return [c.item() if isinstance(c, np.generic) else c for c in known]

    def __call__(self, X_rows):
        """Ask for the label of each row of ``X_rows``.

        Parameters
        ----------
        X_rows : array-like, DataFrame, sparse matrix, torch tensor or list
            The rows to label.

        Returns
        -------
        labels : list
            One label per row, ``-1`` for a skipped row.

        Raises
        ------
        OracleQuit
            When the person quits; ``exc.labels`` holds the answers given.
        """
        read = builtins.input if self.input_func is None else self.input_func
        show = builtins.print if self.print_func is None else self.print_func
        image_shape = None if self.image_shape is None else tuple(self.image_shape)
        n = n_rows(X_rows)
        labels = []
        for i in range(n):
            show(f"--- row {i + 1} of {n} ---")
            show(_describe_row(_row_values(X_rows, i), image_shape))
            labels.append(self._ask(read, show, labels))
        return labels

    def _prompt(self):
        known = self._known_classes()
        if known:
            shown = ", ".join(str(c) for c in known[:20])
            if len(known) > 20:
                shown += ", ..."
            return f"label [{shown}] (s = skip, q = quit): "
        return "label (s = skip, q = quit): "

    def _ask(self, read, show, labels_so_far):
        pending = None
        while True:
            try:
                answer = read(self._prompt())
            except (EOFError, KeyboardInterrupt):
                raise OracleQuit(labels_so_far) from None
            answer = "" if answer is None else str(answer).strip()
            command = answer.lower()
            if not answer:
                show("Please type a label, s to skip or q to quit.")
                continue
            if command in ("s", "skip"):
                return UNLABELED
            if command in ("q", "quit"):
                raise OracleQuit(labels_so_far)
            if self.classes is None:
                return _as_int_if_int(answer)
            for c in self._known_classes():
                if str(c) == answer:
                    return c
            label = _as_int_if_int(answer)
            if label == UNLABELED:
                return UNLABELED
            known = self._known_classes()
            if known and all(isinstance(c, str) for c in known):
                label = answer  # string classes stay strings
            elif known and isinstance(label, str):
                # The classes are numbers: a word (or 2.5) is a typo, not a
                # new class the learner could take.
                pending = None
                show(f"{answer!r} is not a class: the classes are numbers "
                     f"{known}; type one of them or another whole number, "
                     "s to skip or q to quit.")
                continue
            if answer == pending:
                if not hasattr(self, "added_classes_"):
                    self.added_classes_ = []
                self.added_classes_.append(label)
                show(f"Added the new class {label!r}.")
                return label
            pending = answer
            show(
                f"{answer!r} is not one of the classes "
                f"{self._known_classes()}; type it again to add it "
                "as a new class, or type another answer."
            )
