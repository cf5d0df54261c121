"""Active learning: ask for the labels that are worth most.

Pool-based active learning with :class:`ActiveLearner` (any classifier, a
semi-supervised one included) and composable query strategies; stream-based
selective sampling with :meth:`ActiveLearner.should_query`; a loop that never
loses an answered label (:func:`run_active_learning` with a
:class:`LabelJournal`); stopping criteria; learning-curve simulation and
plots.
"""

from ._journal import LabelJournal, pool_fingerprint
from ._learner import ActiveLearner
from ._loop import ActiveLearningRun, run_active_learning
from ._oracle import ConsoleOracle, OracleQuit
from ._simulate import (
    ActiveLearningCurve,
    ActiveLearningCurveDisplay,
    simulate_active_learning,
)
from ._stopping import MaxUncertaintyStopping, StabilizingPredictions
from ._strategies import (
    BALD,
    CoreSetSampling,
    DecisionBoundarySampling,
    DensityWeightedSampling,
    EpsilonGreedy,
    QueryByCommittee,
    QueryStrategy,
    RandomSampling,
    RankedBatchSampling,
    UncertaintySampling,
    make_strategy,
    uncertainty,
)

__all__ = [
    "ActiveLearner",
    "QueryStrategy",
    "RandomSampling",
    "UncertaintySampling",
    "DecisionBoundarySampling",
    "DensityWeightedSampling",
    "EpsilonGreedy",
    "QueryByCommittee",
    "RankedBatchSampling",
    "CoreSetSampling",
    "BALD",
    "make_strategy",
    "uncertainty",
    "LabelJournal",
    "ConsoleOracle",
    "OracleQuit",
    "run_active_learning",
    "ActiveLearningRun",
    "MaxUncertaintyStopping",
    "StabilizingPredictions",
    "pool_fingerprint",
    "simulate_active_learning",
    "ActiveLearningCurve",
    "ActiveLearningCurveDisplay",
]
