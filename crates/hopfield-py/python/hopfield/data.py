"""Data as numpy arrays: the bundled samples (MNIST, sklearn digits, CIFAR-10, MUTAG), the full
sets from the data folder, and graph sets in PyTorch Geometric's convention."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from . import _native

PathLike = "os.PathLike[str] | str"


def load_images(
    source: str = "mnist-sample", split: str = "train", data_dir: Optional[str] = None
) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Images of a data set as numpy arrays, as the command line's ``--data`` reads them.

    Parameters
    ----------
    source : str, default "mnist-sample"
        A built-in name — ``mnist-sample`` (2,000 training and 1,000 test MNIST images, bundled),
        ``digits`` (sklearn's 1,797 8×8 digits, bundled, split 80/20), ``cifar10-sample`` (500
        CIFAR-10 test images, bundled), ``mnist``, ``fashion-mnist``, ``cifar10`` (full sets, read
        from `data_dir`) — or a path to an image file, folder, .npy/.npz or IDX file.
    split : {"train", "test"}, default "train"
    data_dir : str, optional
        Where full data sets live (default: ``$HOPFIELD_DATA_DIR``, else ``~/.cache/hopfield``).

    Returns
    -------
    images : float32 array [B, C, H, W], pixel intensities in [0, 1]
    labels : int64 array [B], class indices
    class_names : list of str
    """
    return _native.load_images(source, split, None if data_dir is None else os.fspath(data_dir))


def mnist_sample(split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """The bundled MNIST sample: (images float32 [B, 1, 28, 28] in [0, 1], labels int64 [B]).
    2,000 training images (``split="train"``) or 1,000 test images (``"test"``)."""
    x, y, _ = load_images("mnist-sample", split)
    return x, y


def digits(split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """The bundled sklearn digits (8×8, intensities 0..16 scaled to [0, 1]), split 80/20 as the
    command line splits them: (images float32 [B, 1, 8, 8], labels int64 [B])."""
    x, y, _ = load_images("digits", split)
    return x, y


def load_graphs(name: str = "MUTAG", data_dir: Optional[str] = None) -> Tuple[List[Dict[str, Any]], List[int]]:
    """A graph classification set as PyTorch Geometric-style dicts.

    `name` is ``MUTAG`` (bundled), a TU data set's name under ``<data_dir>/tu/``, or a folder of
    TU files (``DS_A.txt``, ``DS_graph_indicator.txt``, ``DS_graph_labels.txt``, …).

    Returns
    -------
    graphs : list of dict
        Each with ``x`` float32 [n, f] (the node features graph classification uses by default:
        one-hot node labels and/or attributes), ``edge_index`` int64 [2, e], ``y`` (class index),
        and ``node_labels`` / ``edge_labels`` int64 as in the files when the set has them.
    class_values : list of int
        The label value of each class index, as in the files.
    """
    return _native.load_graphs(name, None if data_dir is None else os.fspath(data_dir))


def mutag() -> Tuple[List[Dict[str, Any]], List[int]]:
    """The bundled MUTAG molecules (188 graphs, 2 classes): see :func:`load_graphs`."""
    return load_graphs("MUTAG")
