"""Reads MNIST's gzipped IDX files for the numpy references in tools/. Never needed by the Rust build."""
import gzip, struct, numpy as np


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4]); nd = magic & 0xff
    dims = struct.unpack(">" + "I"*nd, data[4:4+4*nd])
    return np.frombuffer(data[4+4*nd:], dtype=np.uint8).reshape(dims)


def load_mnist(d):
    """(train images [60000, 784] float64, train labels, test images [10000, 784], test labels) from folder d."""
    d = d.rstrip("/") + "/"
    X = idx(d+"train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float64)
    XT = idx(d+"t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float64)
    return X, idx(d+"train-labels-idx1-ubyte.gz"), XT, idx(d+"t10k-labels-idx1-ubyte.gz")
