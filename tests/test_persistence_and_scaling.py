"""Persistence with pickle and skops.io; import cost; GridSearchCV on dask."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklabelfree.datasets import digits_benchmark_split
from sklabelfree.utils._test_common import construct_instances, fit_data
from sklabelfree.utils.discovery import all_estimators
from sklabelfree.utils.model_selection import SemiSupervisedStratifiedKFold


def _fitted_estimators(deep=True):
    X, y, _, _, _ = digits_benchmark_split(20, random_state=0)
    for name, cls in all_estimators():
        if not deep and getattr(cls, "_sklabelfree_deep", False):
            continue
        est = next(construct_instances(cls))
        if "random_state" in est.get_params():
            est.set_params(random_state=0)
        yield pytest.param(est, *fit_data(est, X, y), id=name)


def test_import_does_not_import_torch():
    code = (
        "import sys; import sklabelfree; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'skorch' not in sys.modules, 'skorch imported'; "
        "print(sklabelfree.UNLABELED, sklabelfree.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("-1 ")


def _output(est, X):
    """What the fitted estimator computes: predictions, or the transform."""
    return est.predict(X) if hasattr(est, "predict") else est.transform(X)


@pytest.mark.parametrize("est, X, y", list(_fitted_estimators()))
def test_pickle_roundtrip_predicts_the_same(est, X, y):
    est.fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(loaded, X), _output(est, X))


# skops.io has no loader for torch modules: the deep (skorch) estimators
# persist with pickle, or with skorch's save_params / load_params.
@pytest.mark.parametrize("est, X, y", list(_fitted_estimators(deep=False)))
def test_skops_roundtrip_with_trusted_types(est, X, y, tmp_path):
    sio = pytest.importorskip("skops.io")
    est.fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    # Only our own types (and numpy scalars of the fitted state) need trusting;
    # everything else skops already trusts.
    assert all(t.startswith(("sklabelfree.", "numpy.", "builtins.")) for t in untrusted), (
        untrusted)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(_output(loaded, X), _output(est, X))
    if hasattr(est, "predict_proba"):
        np.testing.assert_allclose(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.get_params().keys() == clone(est).get_params().keys()


@pytest.mark.slow
def test_grid_search_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    import joblib

    from sklabelfree.semi_supervised import PseudoLabelClassifier

    X, y, _, _, _ = digits_benchmark_split(50, random_state=0)
    search = GridSearchCV(PseudoLabelClassifier(max_iter=2, random_state=0),
                          {"k_best": [0.05, 0.2]},
                          cv=SemiSupervisedStratifiedKFold(3), n_jobs=-1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            with joblib.parallel_backend("dask"):
                search.fit(X, y)
            workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    local = GridSearchCV(PseudoLabelClassifier(max_iter=2, random_state=0),
                         {"k_best": [0.05, 0.2]},
                         cv=SemiSupervisedStratifiedKFold(3)).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"])
