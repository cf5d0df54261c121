"""Selection of confident pseudo labels, shared by the classic estimators."""

import numpy as np


def sharpen(proba, temperature):
    """Temperature sharpening ``p_i^(1/T) / sum_j p_j^(1/T)`` of each row.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
    temperature : float or None
        ``None`` or ``1`` leaves ``proba`` as it is; below 1 sharpens.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    if temperature is None or temperature == 1:
        return proba
    if not temperature > 0:  # ``not > 0`` also refuses NaN
        raise ValueError(f"temperature must be positive, got {temperature!r}.")
    # In log space to stay finite for small temperatures.
    logp = np.log(np.clip(proba, 1e-300, None)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    out /= out.sum(axis=1, keepdims=True)
    return out


def class_quotas(n_total, prior):
    """Split ``n_total`` picks over classes in proportion to ``prior``.

    Largest remainders, so the quotas sum to ``n_total`` exactly.
    """
    raw = np.asarray(prior, dtype=float) * n_total
    quotas = np.floor(raw).astype(int)
    short = int(n_total - quotas.sum())
    if short > 0:
        order = np.argsort(-(raw - quotas), kind="stable")
        quotas[order[:short]] += 1
    return quotas


def select_confident(confidence, predicted, n_classes, *, n_select=None,
                     candidates=None, prior=None, order_key=None):
    """Indices of the rows to pseudo-label.

    Parameters
    ----------
    confidence : ndarray of shape (n,)
        Confidence of each row's predicted class.
    predicted : ndarray of int of shape (n,)
        Index of each row's predicted class.
    n_classes : int
    n_select : int or None
        Pick this many rows (``k_best``); None picks every candidate.
    candidates : ndarray of bool or None
        Rows allowed (``threshold``); None allows every row.
    prior : ndarray of shape (n_classes,) or None
        With a prior, the picks of each class are capped at its share
        (class balancing): ``n_select * prior`` for a count, or
        ``ceil(n_candidates * prior)`` for a threshold.
    order_key : ndarray of shape (n,) or None
        Secondary key that breaks ties in confidence (a random permutation,
        so that ties do not favour the first rows).

    Returns
    -------
    selected : ndarray of int
        Sorted row indices.
    """
    n = confidence.shape[0]
    allowed = np.ones(n, dtype=bool) if candidates is None else candidates
    if order_key is None:
        order_key = np.arange(n)
    # Most confident first; ties broken by order_key.
    order = np.lexsort((order_key, -confidence))
    order = order[allowed[order]]
    if prior is None:
        chosen = order if n_select is None else order[:n_select]
        return np.sort(chosen)
    if n_select is None:
        quotas = np.ceil(np.asarray(prior) * order.shape[0]).astype(int)
    else:
        quotas = class_quotas(min(n_select, order.shape[0]), prior)
    chosen = []
    pred_sorted = predicted[order]
    for c in range(n_classes):
        rows_c = order[pred_sorted == c]
        chosen.append(rows_c[: quotas[c]])
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)


def soft_copies(rows, distributions, min_weight=1e-3):
    """Probability-weighted copies of pseudo-labeled rows.

    Parameters
    ----------
    rows : ndarray of int of shape (m,)
        Row indices.
    distributions : ndarray of shape (m, n_classes)
        Soft label of each row.
    min_weight : float, default=1e-3
        Copies whose probability is below this are dropped.

    Returns
    -------
    rows_rep : ndarray of int
        Row index of each copy.
    class_idx : ndarray of int
        Class index of each copy.
    weights : ndarray of float
        The probability of that class for that row.
    """
    r, c = np.nonzero(distributions >= min_weight)
    return rows[r], c, distributions[r, c]
