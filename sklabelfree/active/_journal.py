"""An append-only, crash-safe record of the labels an oracle gave.

Labels from people are the expensive part of active learning: a session
that dies after two hours of annotation must not lose them. A
:class:`LabelJournal` writes every answer to a JSON-lines file and forces
it to disk before the learner sees it, so that a restarted session can
teach the learner everything that was answered and ask only new rows.

The journal refers to rows by their position in a pool; to make sure a
journal is never replayed onto other data, its header holds the pool's
:func:`pool_fingerprint`.
"""

import hashlib
import json
import math
import numbers
import operator
import os
import warnings
from datetime import datetime, timezone

import numpy as np
import scipy.sparse as sp

from ._data import _is_pandas, _is_torch, n_rows

__all__ = ["LabelJournal", "pool_fingerprint"]

JOURNAL_FORMAT = "sklabelfree.label_journal"
JOURNAL_VERSION = 1


def _update_with_tensor(digest, t):
    """Feed the dtype, shape and raw bytes of a torch tensor to ``digest``."""
    t = t.detach().cpu().contiguous()
    digest.update(f"torch:{t.dtype}{tuple(t.shape)}".encode())
    flat = t.reshape(-1)
    if flat.numel():
        import torch

        digest.update(flat.view(torch.uint8).numpy())


def _update_with_text(digest, text):
    digest.update(len(text).to_bytes(8, "little"))
    digest.update(text.encode("utf-8", "surrogatepass"))


def _update_with_object(digest, value):
    """Feed one entry of an object array (a text, a record, an image...) to ``digest``.

    Scalars and strings go in by their ``repr``; arrays, tensors and
    anything numpy can read as an array (a PIL image) by their values, whatever
    their size (a large array's ``repr`` is abridged); lists, tuples and
    dicts entry by entry. An object whose ``repr`` is the default one (with
    its memory address) cannot be fingerprinted: the same pool would get
    another fingerprint in every process.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bytes, numbers.Number)):
        _update_with_text(digest, repr(value))
    elif isinstance(value, np.ndarray):
        digest.update(b"ndarray")
        _update_with_array(digest, value)
    elif _is_torch(value):
        digest.update(b"tensor")
        _update_with_tensor(digest, value)
    elif isinstance(value, (list, tuple, dict)):
        items = list(value.items()) if isinstance(value, dict) else list(value)
        digest.update(f"{type(value).__name__}[{len(items)}]".encode())
        for item in items:
            if isinstance(value, dict):
                _update_with_object(digest, item[0])
                _update_with_object(digest, item[1])
            else:
                _update_with_object(digest, item)
    elif hasattr(value, "__array__") or hasattr(value, "__array_interface__"):
        digest.update(f"array-like {type(value).__qualname__}".encode())
        _update_with_array(digest, np.asarray(value))
    else:
        text = repr(value)
        if " at 0x" in text:
            raise TypeError(
                f"cannot fingerprint a pool entry of type {type(value).__qualname__}: "
                f"its repr {text!r} holds a memory address, so the same pool would "
                "not be recognised by another process. Give the pool as arrays, "
                "strings or numbers (or give the type a __repr__ of its content).")
        _update_with_text(digest, text)


def _update_with_array(digest, arr):
    """Feed the dtype, shape and bytes of a numpy array to ``digest``."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "O":
        # Python objects, entry by entry in row order.
        digest.update(f"object{arr.shape}".encode())
        for value in arr.ravel(order="C"):
            _update_with_object(digest, value)
        return
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    digest.update(f"{arr.dtype.str}{arr.shape}".encode())
    flat = np.ascontiguousarray(arr).reshape(-1)
    digest.update(flat.view(np.uint8))


def pool_fingerprint(X):
    """SHA-256 fingerprint of a pool: its shape, its dtype and its content.

    Two pools have the same fingerprint when they hold the same values, in
    the same rows, with the same dtype and in the same kind of container.
    A :class:`LabelJournal` stores it to refuse being replayed onto another
    pool. Supported containers:

    - numpy arrays and lists (converted with :func:`numpy.asarray`; object
      arrays are hashed entry by entry: texts and numbers through their
      ``repr``, arrays, tensors and images through their values, lists and
      dicts item by item; an entry whose ``repr`` is the default one, with
      a memory address, raises a TypeError);
    - pandas DataFrames: column names, column dtypes and values (the index
      is ignored: rows are identified by their position);
    - scipy sparse matrices and arrays: shape, dtype and the stored non-zero
      values in canonical CSR form (duplicates summed, explicit zeros
      dropped), so the same matrix in COO or CSC form has the same
      fingerprint;
    - torch tensors: shape, dtype and raw bytes (moved to the CPU first).

    A dense array and the same values in a sparse matrix, a DataFrame or a
    tensor have different fingerprints, and so do ``float32`` and
    ``float64`` copies of the same pool.

    Parameters
    ----------
    X : array-like, DataFrame, sparse matrix or torch tensor
        The pool.

    Returns
    -------
    fingerprint : str
        64 hexadecimal digits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklabelfree.active import pool_fingerprint
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> len(pool_fingerprint(X))
    64
    >>> pool_fingerprint(X) == pool_fingerprint(X.copy())
    True
    >>> pool_fingerprint(X) == pool_fingerprint(X[::-1])
    False
    >>> pool_fingerprint(X) == pool_fingerprint(X.astype(np.float32))
    False
    """
    digest = hashlib.sha256()
    if _is_torch(X):
        _update_with_tensor(digest, X)
    elif _is_pandas(X):
        digest.update(f"pandas{X.shape}".encode())
        for j, name in enumerate(X.columns):
            col = X.iloc[:, j]
            digest.update(f"column {name!r} {col.dtype}".encode())
            _update_with_array(digest, col.to_numpy())
    elif sp.issparse(X):
        csr = sp.csr_matrix(X, copy=True)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        digest.update(f"sparse{csr.shape}{csr.dtype.str}".encode())
        _update_with_array(digest, csr.indptr.astype(np.int64))
        _update_with_array(digest, csr.indices.astype(np.int64))
        _update_with_array(digest, csr.data)
    else:
        try:
            arr = np.asarray(X)
        except ValueError:
            # Ragged nested lists.
            arr = np.empty(len(X), dtype=object)
            arr[:] = list(X)
        digest.update(b"array")
        _update_with_array(digest, arr)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Labels and ids as JSON values
# ---------------------------------------------------------------------------
def _json_label(label):
    """A label as a JSON-safe Python scalar (numpy scalars converted)."""
    if isinstance(label, np.generic) or (
        hasattr(label, "item") and getattr(label, "ndim", None) == 0
    ):
        label = label.item()
    if label is None:
        raise ValueError("A label is None; mark a skipped row with -1.")
    if isinstance(label, (str, bool, numbers.Integral)):
        return label if isinstance(label, (str, bool)) else int(label)
    if isinstance(label, numbers.Real):
        label = float(label)
        if not math.isfinite(label):
            raise ValueError(
                f"A label is {'NaN' if math.isnan(label) else label}; labels "
                "must be finite. Mark a skipped row with -1, not NaN."
            )
        return label
    raise TypeError(
        f"Label {label!r} of type {type(label).__name__} cannot be written to "
        "the journal: labels must be integers, floats or strings."
    )


def _json_id(pool_id):
    if isinstance(pool_id, (bool, np.bool_)):
        raise TypeError(f"Pool ids must be integers, got {pool_id!r}.")
    try:
        return operator.index(pool_id)
    except TypeError:
        raise TypeError(
            f"Pool ids must be integers (row positions), got {pool_id!r}."
        ) from None


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _fsync_directory(path):
    """Make the creation of a file in ``path`` durable (POSIX only)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LabelJournal:
    """Append-only, crash-safe journal of the labels given by an oracle.

    Every answer is written to a JSON-lines file and forced to disk
    (``flush`` then :func:`os.fsync`) before :meth:`append` returns, so a
    label is never lost once the learner has seen it. After a crash,
    :meth:`entries` gives back every answer in order, and
    :func:`run_active_learning` teaches them to the learner before asking
    anything new.

    **File format** (UTF-8 JSON, one object per line, ``\\n`` after each):

    - line 1, the header::

        {"format": "sklabelfree.label_journal", "version": 1,
         "pool_fingerprint": "<64 hex digits>", "pool_size": 1797,
         "created": "2025-01-31T09:12:44.104+00:00"}

      ``pool_fingerprint`` is :func:`pool_fingerprint` of the pool that the
      ids refer to and ``pool_size`` its number of rows;
    - then one line per answer, in the order they were given::

        {"id": 412, "label": 7, "time": "2025-01-31T09:13:02.551+00:00"}

      ``id`` is the row position in the pool, ``label`` an integer, float or
      string (``-1``: the oracle skipped the row) and ``time`` the UTC time
      of writing. Several lines may have the same id: the last one is the
      current answer (a corrected label).

    The file is created, with its header, by the first :meth:`check_pool`.
    Only the last line can be incomplete after a crash: it is reported with
    a warning and ignored, and the next :meth:`append` cuts it off before
    writing. A damaged line anywhere else raises ``ValueError``: the file
    was edited or is not a journal, and guessing would risk wrong labels.
    One process at a time may write to a journal.

    Parameters
    ----------
    path : str or path-like
        The journal file. It need not exist yet.

    Attributes
    ----------
    path : str
        The journal file.

    See Also
    --------
    run_active_learning : The loop that writes and replays a journal.
    pool_fingerprint : The fingerprint in the header.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklabelfree.active import LabelJournal
    >>> X_pool = np.arange(20.0).reshape(10, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.jsonl")
    >>> journal = LabelJournal(path).check_pool(X_pool)
    >>> journal.append([3, 5], [np.int64(1), -1])
    >>> journal.entries()
    [(3, 1), (5, -1)]
    >>> LabelJournal(path).check_pool(X_pool).entries()  # a later session
    [(3, 1), (5, -1)]
    >>> LabelJournal(path).check_pool(X_pool + 1)
    Traceback (most recent call last):
    ...
    ValueError: this journal was written for another pool: ...
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def __repr__(self):
        return f"{type(self).__name__}({self.path!r})"

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

    # ------------------------------------------------------------------ reading
    def _stat_key(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns, st.st_ino)

    def _load(self):
        """Parse the file (cached while it is unchanged on disk).

        Returns a dict with ``header`` (dict or None), ``entries`` (list of
        (id, label)), ``good_end`` (byte offset after the last good line) and
        ``size``.
        """
        key = self._stat_key()
        cache = getattr(self, "_cache", None)
        if cache is not None and cache["key"] == key:
            return cache
        if key is None:
            state = {"key": None, "header": None, "entries": [], "good_end": 0,
                     "size": 0, "torn": None, "needs_newline": False}
            self._cache = state
            return state
        with open(self.path, "rb") as f:
            data = f.read()
        state = self._parse(data)
        state["key"] = key
        self._cache = state
        if state["torn"] is not None:
            lineno, text = state["torn"]
            warnings.warn(
                f"{self.path}: line {lineno} is incomplete or damaged, most "
                f"likely torn by a crash while it was written; it is ignored "
                f"(and cut off at the next append). Its content: {text!r}",
                RuntimeWarning,
                stacklevel=3,
            )
        return state

    def _parse(self, data):
        header = None
        entries = []
        good_end = 0
        torn = None
        pos = 0
        lineno = 0
        n = len(data)
        while pos < n:
            nl = data.find(b"\n", pos)
            end = n if nl < 0 else nl + 1
            raw = data[pos:end]
            lineno += 1
            is_last = end >= n
            complete = raw.endswith(b"\n")
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not text.strip():
                if complete:
                    good_end = end
                pos = end
                continue
            problem = None
            record = None
            try:
                record = json.loads(text)
            except ValueError as exc:
                problem = f"not valid JSON ({exc})"
            if problem is None:
                if header is None:
                    problem = self._check_header(record, lineno)
                else:
                    problem = self._check_entry(record, header)
            if problem is not None:
                if is_last and self._is_torn(text, complete, record, header):
                    torn = (lineno, text)
                    break
                if header is None:
                    raise ValueError(
                        f"{self.path} is not a label journal: line {lineno} is "
                        f"not a {JOURNAL_FORMAT} header ({problem}): {text!r}. "
                        "Give the path of a journal, or a new path."
                    )
                raise ValueError(
                    f"{self.path}: line {lineno} is damaged ({problem}): "
                    f"{text!r}. A crash can only leave the last line of a "
                    "journal incomplete; this damage means that the file was "
                    "edited or is not a label journal. Repair or delete that "
                    "line by hand."
                )
            if header is None:
                header = record
            else:
                entries.append((record["id"], record["label"]))
            # A final line without its newline is kept; the next append
            # writes the missing newline first.
            good_end = end
            pos = end
        return {"header": header, "entries": entries, "good_end": good_end,
                "size": n, "torn": torn,
                "needs_newline": n > 0 and good_end == n
                and not data.endswith(b"\n")}

    @staticmethod
    def _is_torn(text, complete, record, header):
        """Whether a damaged last line looks like an interrupted write.

        A crash can leave the end of a line unwritten, or a run of NUL
        bytes; it cannot write a complete JSON object that is not a journal
        line. A damaged first line counts as torn only when it is the start
        of a journal header, so that a file which is no journal is never cut.
        """
        if complete and record is not None:
            return False
        if not text.replace("\x00", "").strip():
            return True
        if header is None:
            start = '{"format": "' + JOURNAL_FORMAT + '"'
            return text.startswith(start) or start.startswith(text)
        return True

    def _check_header(self, record, lineno):
        if not isinstance(record, dict) or record.get("format") != JOURNAL_FORMAT:
            return (f"the first line is not a {JOURNAL_FORMAT} header"
                    if lineno == 1 else "not a journal header")
        version = record.get("version")
        if not isinstance(version, int) or version < 1:
            return f"bad journal version {version!r}"
        if version > JOURNAL_VERSION:
            raise ValueError(
                f"{self.path} is a version {version} label journal; this "
                f"version of sklabelfree reads versions up to {JOURNAL_VERSION}. "
                "Upgrade sklabelfree to read it."
            )
        if not isinstance(record.get("pool_fingerprint"), str) or not isinstance(
            record.get("pool_size"), int
        ):
            return "header without pool_fingerprint or pool_size"
        return None

    @staticmethod
    def _check_entry(record, header):
        if not isinstance(record, dict) or "id" not in record or "label" not in record:
            return "not a journal entry with 'id' and 'label'"
        pool_id, label = record["id"], record["label"]
        if not isinstance(pool_id, int) or isinstance(pool_id, bool):
            return f"id {pool_id!r} is not an integer"
        if not 0 <= pool_id < header["pool_size"]:
            return f"id {pool_id} is outside the pool of {header['pool_size']} rows"
        if label is None or isinstance(label, (list, dict)) or (
            isinstance(label, float) and not math.isfinite(label)
        ):
            return f"label {label!r} is not an integer, float or string"
        return None

    @property
    def header(self):
        """The header of the journal as a dict, or None before it is created."""
        return self._load()["header"]

    def entries(self):
        """The answers in the journal, in the order they were written.

        A damaged last line is left out with a ``RuntimeWarning``.

        Returns
        -------
        entries : list of (int, label) tuples
            Pool id and label of each answer; ``-1`` for a skipped row. Ids
            may repeat (a corrected label); the last answer is the current
            one. Empty when the file does not exist.

        Raises
        ------
        ValueError
            When a line before the last one is damaged.

        Examples
        --------
        >>> import os, tempfile
        >>> from sklabelfree.active import LabelJournal
        >>> journal = LabelJournal(os.path.join(tempfile.mkdtemp(), "j.jsonl"))
        >>> journal.entries()
        []
        >>> journal.check_pool([[0.0], [1.0], [2.0]]).append([2], ["cat"])
        >>> journal.entries()
        [(2, 'cat')]
        """
        return list(self._load()["entries"])

    def __len__(self):
        return len(self._load()["entries"])

    # ------------------------------------------------------------------ writing
    def check_pool(self, X_pool, *, fingerprint=None):
        """Check that the journal belongs to ``X_pool``; create it if needed.

        A journal whose file does not exist yet (or holds no complete
        header) is created now, with a header for ``X_pool``.

        Parameters
        ----------
        X_pool : array-like, DataFrame, sparse matrix or torch tensor
            The pool the ids refer to.
        fingerprint : str, default=None
            ``pool_fingerprint(X_pool)``, when already computed.

        Returns
        -------
        self : LabelJournal

        Raises
        ------
        ValueError
            When the journal was written for a pool with another fingerprint.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sklabelfree.active import LabelJournal
        >>> journal = LabelJournal(os.path.join(tempfile.mkdtemp(), "j.jsonl"))
        >>> journal.check_pool(np.zeros((4, 2))).header["pool_size"]
        4
        """
        if fingerprint is None:
            fingerprint = pool_fingerprint(X_pool)
        size = n_rows(X_pool)
        state = self._load()
        header = state["header"]
        if header is None:
            self._write_header(fingerprint, size)
            return self
        if header["pool_fingerprint"] != fingerprint or header["pool_size"] != size:
            raise ValueError(
                f"this journal was written for another pool: {self.path} "
                f"belongs to a pool of {header['pool_size']} rows with "
                f"fingerprint {header['pool_fingerprint'][:16]}..., the given "
                f"pool has {size} rows and fingerprint {fingerprint[:16]}... "
                "Its ids would point at the wrong rows. Use the same pool (same "
                "values, dtype and container type) to resume, or a new journal "
                "path for a new pool."
            )
        return self

    def _write_header(self, fingerprint, size):
        header = {
            "format": JOURNAL_FORMAT,
            "version": JOURNAL_VERSION,
            "pool_fingerprint": fingerprint,
            "pool_size": int(size),
            "created": _now(),
        }
        line = json.dumps(header, separators=(", ", ": ")) + "\n"
        existed = os.path.exists(self.path)
        with open(self.path, "r+b" if existed else "xb") as f:
            if existed:
                # Empty, blank lines only or a torn header: start afresh.
                f.truncate(0)
            f.write(line.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if not existed:
            _fsync_directory(os.path.dirname(os.path.abspath(self.path)))
        self._cache = None

    def append(self, pool_ids, labels):
        """Write answers to the journal and force them to disk.

        The lines are on disk (``flush`` and :func:`os.fsync`) when this
        method returns. A damaged last line left by a crash is cut off first.

        Parameters
        ----------
        pool_ids : sequence of int
            Row positions in the pool, one per answer.
        labels : sequence of int, float or str
            The answers; ``-1`` for a skipped row. Numpy scalars are stored
            as the matching Python values.

        Raises
        ------
        ValueError
            When the journal has no header yet (call :meth:`check_pool`
            first), the lengths differ, an id is outside the pool or a label
            is None or not finite.
        TypeError
            When an id is not an integer or a label not a number or string.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sklabelfree.active import LabelJournal
        >>> journal = LabelJournal(os.path.join(tempfile.mkdtemp(), "j.jsonl"))
        >>> journal.check_pool(np.zeros((5, 3))).append(np.array([4, 0]),
        ...                                              np.array(["a", "b"]))
        >>> journal.entries()
        [(4, 'a'), (0, 'b')]
        """
        if isinstance(pool_ids, (str, bytes)) or isinstance(labels, (str, bytes)):
            raise TypeError("pool_ids and labels must be sequences, not strings.")
        pool_ids = [_json_id(i) for i in np.asarray(pool_ids, dtype=object).ravel()]
        labels = list(labels.ravel() if isinstance(labels, np.ndarray) else labels)
        if len(pool_ids) != len(labels):
            raise ValueError(
                f"append got {len(pool_ids)} pool ids and {len(labels)} labels; "
                "give one label per id."
            )
        state = self._load()
        header = state["header"]
        if header is None:
            raise ValueError(
                f"{self.path} has no header yet: call journal.check_pool(X_pool) "
                "first, so that the journal records which pool its ids refer to."
            )
        size = header["pool_size"]
        records = []
        for pool_id, label in zip(pool_ids, labels):
            if not 0 <= pool_id < size:
                raise ValueError(
                    f"pool id {pool_id} is outside the pool of {size} rows."
                )
            records.append({"id": pool_id, "label": _json_label(label),
                            "time": _now()})
        if not records:
            return
        payload = "".join(
            json.dumps(r, separators=(", ", ": ")) + "\n" for r in records
        ).encode("utf-8")
        with open(self.path, "r+b") as f:
            if state["good_end"] < state["size"]:
                f.truncate(state["good_end"])
            elif state["needs_newline"]:
                payload = b"\n" + payload
            f.seek(0, os.SEEK_END)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        entries = state["entries"] + [(r["id"], r["label"]) for r in records]
        key = self._stat_key()
        self._cache = {"key": key, "header": header, "entries": entries,
                       "good_end": key[0], "size": key[0], "torn": None,
                       "needs_newline": False}
