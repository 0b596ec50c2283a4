"""DAM classifier training (Krotov & Hopfield 2016) in numpy, written independently from the
algorithm of the public notebook, to compare epoch by epoch with `hopfield dam train`.

    python tools/dam_reference.py N TEMPERATURE EPOCHS [MNIST_DIR]   # e.g. 20 540 3

Never needed by the Rust build.
"""
import sys, numpy as np
from mnist_idx import load_mnist
X, y, XT, yT = load_mnist(sys.argv[4] if len(sys.argv) > 4 else "data-dir/mnist")
M = (2*X/255.0-1).T; MT = (2*XT/255.0-1).T
N, Nc, K = 784, 10, 100
n = int(sys.argv[1]); Temp = float(sys.argv[2]); Nep = int(sys.argv[3]); m = 30
eps0, f, p, Num = 4e-2, 0.998, 0.6, 1000
Lab = -np.ones((Nc, 60000)); Lab[y, np.arange(60000)] = 1
rng = np.random.default_rng(0)
KS = rng.normal(-0.3, 0.3, (K, N+Nc)); VKS = np.zeros_like(KS)
aux = -np.ones((Nc, Num*Nc))
for c in range(Nc): aux[c, c*Num:(c+1)*Num] = 1
beta = 1/Temp**n
def err(KS):
    v = MT; NumT = v.shape[1]
    u = np.concatenate((v, -np.ones((Nc, NumT)))); h = KS[:, :N] @ v; s = KS[:, N:].sum(1)[:, None]
    base = h - s
    Y = np.stack([np.sum(np.maximum(base + 2*KS[:, N+c][:, None], 0)**n - np.maximum(base, 0)**n, 0) for c in range(Nc)])
    return np.mean(np.argmax(Y, 0) != yT)
for nep in range(Nep):
    eps = eps0*f**nep
    perm = rng.permutation(60000); Ms = M[:, perm]; Ls = Lab[:, perm]
    for k in range(60000//Num):
        v = Ms[:, k*Num:(k+1)*Num]; t = Ls[:, k*Num:(k+1)*Num].reshape(1, Nc*Num)
        u = np.concatenate((v, -np.ones((Nc, Num)))); uu = np.tile(u, (1, Nc)); vv = np.concatenate((uu[:N], aux))
        KSvv = np.maximum(KS @ vv, 0); KSuu = np.maximum(KS @ uu, 0)
        Y = np.tanh(beta*np.sum(KSvv**n - KSuu**n, 0))
        w = (t-Y)**(2*m-1)*(1-Y)*(1+Y)
        d_KS = (w*KSvv**(n-1)) @ vv.T - (w*KSuu**(n-1)) @ uu.T
        VKS = p*VKS + d_KS
        nc = np.maximum(np.abs(VKS).max(1, keepdims=True), 1e-30)
        KS = np.clip(KS + eps*VKS/nc, -1, 1)
    print(f"epoch {nep+1}: test error {100*err(KS):.2f}%", flush=True)
