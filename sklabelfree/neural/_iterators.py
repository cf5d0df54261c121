"""Fast batching for in-memory data: tensors are sliced, never collated."""

import math
import numbers
from collections import namedtuple

import numpy as np
import torch

__all__ = ["TensorBatchIterator", "LabeledUnlabeledIterator", "SSLBatch"]


def _check_batch_size(owner, batch_size):
    if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Real)
            or not math.isfinite(batch_size) or batch_size != int(batch_size)
            or batch_size < 1):
        raise ValueError(f"{owner}: batch_size must be a whole number >= 1, got "
                         f"{batch_size!r}.")
    return int(batch_size)


def _as_tensor(data):
    if data is None:
        return None
    if isinstance(data, torch.Tensor):
        return data
    return torch.as_tensor(np.asarray(data))


class TensorBatchIterator:
    """Iterate over ``(X[i:j], y[i:j])`` slices of in-memory tensors.

    A drop-in for skorch's ``iterator_valid`` (and ``iterator_train`` for
    fully supervised nets): the data set's arrays are turned into tensors
    once and each batch is a slice (or an index gather when shuffled), so
    no per-sample ``__getitem__`` or collation runs.

    Parameters
    ----------
    dataset : skorch Dataset
        Its ``X`` and ``y`` must be arrays or tensors.
    batch_size : int >= 1, default=128
    shuffle : bool, default=False
    drop_last : bool, default=False
    seed : int or None, default=None
        Seed of the shuffling.
    **kwargs
        Ignored (so that DataLoader options such as ``num_workers`` do not
        break it).

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> from sklabelfree.neural import TensorBatchIterator
    >>> it = TensorBatchIterator(Dataset(np.zeros((10, 2), "float32"), np.arange(10)),
    ...                          batch_size=4)
    >>> [tuple(xb.shape) for xb, yb in it], len(it)
    ([(4, 2), (4, 2), (2, 2)], 3)
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, drop_last=False,
                 seed=None, **kwargs):
        self.batch_size = _check_batch_size("TensorBatchIterator", batch_size)
        self.X = _as_tensor(dataset.X)
        self.y = _as_tensor(getattr(dataset, "y", None))
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(int(seed))

    def __len__(self):
        n = self.X.shape[0]
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = self.X.shape[0]
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for b in range(len(self)):
            if order is None:
                sl = slice(b * self.batch_size, min(n, (b + 1) * self.batch_size))
                yield self.X[sl], (None if self.y is None else self.y[sl])
            else:
                idx = order[b * self.batch_size:(b + 1) * self.batch_size]
                yield self.X[idx], (None if self.y is None else self.y[idx])


SSLBatch = namedtuple("SSLBatch", ["x_l", "y_l", "x_u", "idx_u", "w_l"],
                      defaults=(None,))
SSLBatch.__doc__ = """One training step's data: ``B`` labeled rows and ``mu * B`` unlabeled rows.

``idx_u`` holds the unlabeled rows' positions in the training set (for
methods that keep per-row state, such as temporal ensembling). ``w_l``
holds the ``sample_weight`` of the labeled rows when the net was fitted
with one, else None.
"""


class _IndexStream:
    """An endless stream of shuffled indices, reshuffled after each pass."""

    def __init__(self, indices, generator):
        self.indices = indices
        self.generator = generator
        self.order = indices[torch.randperm(len(indices), generator=generator)]
        self.pos = 0

    def take(self, k):
        chunks = []
        while k > 0:
            if self.pos == len(self.order):
                perm = torch.randperm(len(self.indices), generator=self.generator)
                self.order = self.indices[perm]
                self.pos = 0
            step = min(k, len(self.order) - self.pos)
            chunks.append(self.order[self.pos:self.pos + step])
            self.pos += step
            k -= step
        return torch.cat(chunks) if len(chunks) > 1 else chunks[0]


class LabeledUnlabeledIterator:
    """Each step draws ``batch_size`` labeled rows and ``mu * batch_size`` unlabeled rows.

    Rows with ``y < 0`` are the unlabeled ones. Both kinds are drawn from
    endless shuffled streams (a labeled row comes back after every labeled
    row has been seen once), and an epoch is a fixed number of steps:
    ``steps_per_epoch``, or by default enough steps to see the unlabeled
    pool once (at least enough to see the labeled rows once). Batches are
    slices of tensors made once, so a step costs no per-sample Python work.

    Parameters
    ----------
    dataset : skorch Dataset
        ``X`` and ``y`` arrays or tensors, ``y == -1`` on unlabeled rows.
    batch_size : int >= 1, default=32
        Labeled rows per step (``B``).
    mu : int or float >= 0, default=4
        Ratio of unlabeled to labeled rows per step; 0 draws none.
    steps_per_epoch : int or None, default=None
    unlabeled_pool : {'all', 'unlabeled'}, default='all'
        Draw the unlabeled part of a batch from every row (labeled rows are
        unlabeled data too, as in FixMatch) or from the unlabeled rows only.
    seed : int or None, default=None
        Seed of the draws.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Weight of each row; the weights of the drawn labeled rows travel
        with the batch as ``SSLBatch.w_l`` (None when not given). They do
        not change which rows are drawn.
    **kwargs
        Ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from skorch.dataset import Dataset
    >>> from sklabelfree.neural import LabeledUnlabeledIterator
    >>> y = np.array([0, 1] * 5 + [-1] * 30)
    >>> it = LabeledUnlabeledIterator(Dataset(np.zeros((40, 3), "float32"), y),
    ...                               batch_size=4, mu=2, seed=0)
    >>> batch = next(iter(it))
    >>> tuple(batch.x_l.shape), tuple(batch.x_u.shape), len(it)
    ((4, 3), (8, 3), 5)
    >>> bool((batch.y_l >= 0).all())
    True
    """

    def __init__(self, dataset, batch_size=32, mu=4, steps_per_epoch=None,
                 unlabeled_pool="all", seed=None, sample_weight=None, **kwargs):
        batch_size = _check_batch_size("LabeledUnlabeledIterator", batch_size)
        if (isinstance(mu, bool) or not isinstance(mu, numbers.Real)
                or not math.isfinite(mu) or mu < 0):
            raise ValueError(f"LabeledUnlabeledIterator: mu must be a finite number "
                             f">= 0 (0 draws no unlabeled row), got {mu!r}.")
        self.X = _as_tensor(dataset.X)
        y = _as_tensor(dataset.y)
        if y is None:
            raise ValueError("LabeledUnlabeledIterator needs y (with -1 on unlabeled rows).")
        self.y = y
        self.sample_weight = None
        if sample_weight is not None:
            sample_weight = _as_tensor(sample_weight).to(torch.float32)
            if tuple(sample_weight.shape) != (y.shape[0],):
                raise ValueError(
                    f"sample_weight has shape {tuple(sample_weight.shape)}; expected "
                    f"({y.shape[0]},), one weight per row.")
            self.sample_weight = sample_weight
        self.batch_size = batch_size
        self.mu = mu
        labeled = (y >= 0).nonzero(as_tuple=True)[0]
        if labeled.numel() == 0:
            raise ValueError("No labeled row (y >= 0) to train on.")
        if unlabeled_pool == "all":
            pool = torch.arange(y.shape[0])
        elif unlabeled_pool == "unlabeled":
            pool = (y < 0).nonzero(as_tuple=True)[0]
        else:
            raise ValueError(
                f"unlabeled_pool must be 'all' or 'unlabeled', got {unlabeled_pool!r}.")
        self.n_unlabeled = int(round(self.mu * self.batch_size)) if pool.numel() else 0
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(int(seed))
        self._labeled = _IndexStream(labeled, self.generator)
        self._pool = _IndexStream(pool, self.generator) if self.n_unlabeled else None
        if steps_per_epoch is None:
            steps_l = math.ceil(labeled.numel() / self.batch_size)
            steps_u = (math.ceil(pool.numel() / self.n_unlabeled)
                       if self.n_unlabeled else 0)
            steps_per_epoch = max(steps_l, steps_u, 1)
        self.steps_per_epoch = int(steps_per_epoch)

    def __len__(self):
        return self.steps_per_epoch

    def __iter__(self):
        empty_idx = torch.zeros(0, dtype=torch.long)
        weight = self.sample_weight
        for _ in range(self.steps_per_epoch):
            li = self._labeled.take(self.batch_size)
            w_l = None if weight is None else weight[li]
            if self._pool is not None:
                ui = self._pool.take(self.n_unlabeled)
                yield SSLBatch(self.X[li], self.y[li], self.X[ui], ui, w_l)
            else:
                yield SSLBatch(self.X[li], self.y[li], self.X[empty_idx], empty_idx, w_l)
