"""Prototypical networks (Snell, Swersky & Zemel 2017): class means and their loss."""

import torch
from torch.nn import functional as F

__all__ = ["class_prototypes", "prototype_logits", "prototypical_loss"]


def _check_metric(metric):
    if metric not in ("sqeuclidean", "cosine"):
        raise ValueError(f"metric must be 'sqeuclidean' or 'cosine', got {metric!r}.")


def class_prototypes(embeddings, labels, n_classes=None):
    """The mean embedding of each class: ``c_k = mean of f(x_i) over y_i = k``.

    Parameters
    ----------
    embeddings : torch.Tensor of shape (n, d)
    labels : torch.Tensor of int, shape (n,)
        Class codes in ``[0, n_classes)``.
    n_classes : int or None, default=None
        None: ``labels.max() + 1``. Every class needs at least one row.

    Returns
    -------
    prototypes : torch.Tensor of shape (n_classes, d)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import class_prototypes
    >>> z = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    >>> class_prototypes(z, torch.tensor([0, 0, 1]))
    tensor([[1., 0.],
            [0., 4.]])
    """
    if labels.numel() and (int(labels.min()) < 0 or (
            n_classes is not None and int(labels.max()) >= n_classes)):
        raise ValueError(
            f"labels must be class codes in [0, n_classes); got values from "
            f"{int(labels.min())} to {int(labels.max())} with n_classes={n_classes}.")
    labels = labels.long()
    if n_classes is None:
        n_classes = int(labels.max()) + 1
    counts = torch.bincount(labels, minlength=n_classes)
    if int(counts.min()) == 0:
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"classes {missing} have no row: a prototype needs at least one.")
    sums = embeddings.new_zeros((n_classes, embeddings.shape[1]))
    sums = sums.index_add(0, labels, embeddings)
    return sums / counts.to(embeddings.dtype).unsqueeze(1)


def prototype_logits(queries, prototypes, metric="sqeuclidean", temperature=1.0):
    """Logits of the queries: minus the distance to each prototype.

    ``-||f(x) - c_k||^2 / T`` for ``metric='sqeuclidean'`` (Snell et al.
    2017, who found the squared Euclidean distance better than the cosine),
    ``cos(f(x), c_k) / T`` for ``metric='cosine'``.

    Parameters
    ----------
    queries : torch.Tensor of shape (m, d)
    prototypes : torch.Tensor of shape (k, d)
    metric : {'sqeuclidean', 'cosine'}, default='sqeuclidean'
    temperature : float, default=1.0
        ``T``: the logits are divided by it.

    Returns
    -------
    logits : torch.Tensor of shape (m, k)

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import prototype_logits
    >>> prototype_logits(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 2.0]]))
    tensor([[-1., -4.]])
    """
    _check_metric(metric)
    if metric == "cosine":
        sim = F.normalize(queries, dim=1) @ F.normalize(prototypes, dim=1).T
        return sim / temperature
    # ||q||^2 - 2 q.c + ||c||^2, clamped at 0 against rounding.
    d = (queries.pow(2).sum(1, keepdim=True) - 2 * queries @ prototypes.T
         + prototypes.pow(2).sum(1).unsqueeze(0)).clamp_min(0)
    return -d / temperature


def prototypical_loss(support, support_labels, queries, query_labels, n_classes=None,
                      metric="sqeuclidean", temperature=1.0, return_logits=False):
    """Loss of one episode of a prototypical network (Snell et al. 2017).

    The prototype of each class is the mean embedding of its support rows;
    each query gets a softmax over minus its distances to the prototypes,
    and the loss is the mean cross-entropy of the queries' true classes:

    ``-1/m sum_j log softmax_k(-d(f(q_j), c_k))[y_j]``.

    Parameters
    ----------
    support : torch.Tensor of shape (n, d)
        Embeddings of the support rows.
    support_labels : torch.Tensor of int, shape (n,)
        Class codes of the episode, in ``[0, n_classes)``.
    queries : torch.Tensor of shape (m, d)
    query_labels : torch.Tensor of int, shape (m,)
    n_classes : int or None, default=None
        None: ``support_labels.max() + 1``.
    metric : {'sqeuclidean', 'cosine'}, default='sqeuclidean'
    temperature : float, default=1.0
    return_logits : bool, default=False
        Also return the logits of the queries.

    Returns
    -------
    loss : torch.Tensor (scalar)
    logits : torch.Tensor of shape (m, n_classes)
        Only with ``return_logits=True``.

    References
    ----------
    .. [1] J. Snell, K. Swersky, R. Zemel, "Prototypical Networks for
       Few-shot Learning", NeurIPS 2017.

    Examples
    --------
    >>> import torch
    >>> from sklabelfree.nn.losses import prototypical_loss
    >>> s = torch.tensor([[0.0], [2.0]])
    >>> q = torch.tensor([[0.0], [2.0]])
    >>> loss = prototypical_loss(s, torch.tensor([0, 1]), q, torch.tensor([0, 1]))
    >>> round(float(loss), 4)  # log(1 + e^-4)
    0.0181
    """
    prototypes = class_prototypes(support, support_labels, n_classes)
    logits = prototype_logits(queries, prototypes, metric=metric, temperature=temperature)
    loss = F.cross_entropy(logits, query_labels.long())
    return (loss, logits) if return_logits else loss
