"""hopfield: associative memories and the Energy Transformer, exact and tested, fast on a CPU.

The Python face of the Rust library of the same name: numpy arrays in and out, the library's
protocols as functions, each long run releasing the interpreter lock, reporting through
``callback=`` (each event a dict) and a tqdm bar, and stopping on Ctrl-C before its next batch.

Memories
    :class:`DenseMemory` (classical, polynomial, rectified polynomial, exponential F),
    :class:`ModernHopfield` (the continuous network whose update is attention),
    :func:`capacity` (the capacity sweep against the theory),
    :class:`LogSumRelu` (the Epanechnikov energy), :class:`RandomFeatureDam` and
    :class:`GaussianDam` (DrDAM and its exact DAM); ``ModernHopfield(..., transform="sparsemax")``.
Sweeps of their claims
    :func:`sweep_sparse`, :func:`sweep_lse_relu`, :func:`sweep_drdam`.
Hierarchical Associative Memories
    :func:`train_ham` (the two-layer HAM classifier trained through its dynamics).
Classifier
    :class:`DamClassifier` (Krotov & Hopfield 2016): fit, predict, score, save, load.
Energy Transformer on images
    :class:`EnergyTransformer` (load, import_npz, reconstruct, descend, evaluate, save),
    :func:`train_et`.
Graphs
    :func:`graph_classify` (k-fold cross-validation, ET beside an MLP),
    :func:`node_anomaly` (supervised node anomaly detection over seeds),
    :func:`node_outliers` (unsupervised node anomaly detection, the BOND protocol).
Data
    :func:`load_images`, :func:`mnist_sample`, :func:`digits`, :func:`load_graphs`, :func:`mutag`.
Errors
    ValueError (bad values or shapes), TypeError (wrong dtype), FileNotFoundError,
    :class:`CheckpointError` (a ValueError), :class:`DivergenceError` (an ArithmeticError),
    KeyboardInterrupt (Ctrl-C during a run), MemoryError, OSError.
"""

from . import _native
from ._native import CheckpointError, DivergenceError
from .dam import DamClassifier
from .data import digits, load_graphs, load_images, mnist_sample, mutag
from .et import DescentResult, EnergyTransformer, EtTraining, Reconstruction, train_et
from .families import HamClassifier, HamTraining, SweepResult, sweep_drdam, sweep_lse_relu, sweep_sparse, train_ham
from .graphs import GraphCvReport, NodeAnomalyReport, NodeOutlierReport, graph_classify, node_anomaly, node_outliers
from .memory import (
    CapacityResult,
    DenseMemory,
    Descent,
    GaussianDam,
    LogSumRelu,
    Minima,
    ModernHopfield,
    RandomFeatureDam,
    Retrieval,
    Settled,
    capacity,
)

__version__: str = _native.__version__

__all__ = [
    "CapacityResult",
    "Descent",
    "GaussianDam",
    "HamClassifier",
    "HamTraining",
    "LogSumRelu",
    "Minima",
    "RandomFeatureDam",
    "Settled",
    "SweepResult",
    "sweep_drdam",
    "sweep_lse_relu",
    "sweep_sparse",
    "train_ham",
    "CheckpointError",
    "DamClassifier",
    "DenseMemory",
    "DescentResult",
    "DivergenceError",
    "EnergyTransformer",
    "EtTraining",
    "GraphCvReport",
    "ModernHopfield",
    "NodeAnomalyReport",
    "NodeOutlierReport",
    "Reconstruction",
    "Retrieval",
    "capacity",
    "digits",
    "graph_classify",
    "load_graphs",
    "load_images",
    "mnist_sample",
    "mutag",
    "node_anomaly",
    "node_outliers",
    "train_et",
]
