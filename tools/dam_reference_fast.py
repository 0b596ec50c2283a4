"""The DAM reference of tools/dam_reference.py with the same arithmetic, reorganised so that a full
300-epoch run fits on a laptop CPU: the class neurons enter K·[v; −1] only as a per-class shift,
so the [K, N] × [N, C·B] products of the notebook become one [K, N] × [N, B] product per batch.

    python tools/dam_reference_fast.py N TEMPERATURE EPOCHS [MNIST_DIR] [SEED] [K]

Prints the test error, and the running train error over the epoch's minibatches, after each epoch.
Same random stream as tools/dam_reference.py for the same seed, so both print the same numbers
(to rounding). Never needed by the Rust build.
"""
import sys, numpy as np
from mnist_idx import load_mnist
X, y, XT, yT = load_mnist(sys.argv[4] if len(sys.argv) > 4 else "data-dir/mnist")
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
K = int(sys.argv[6]) if len(sys.argv) > 6 else 100
M = (2*X/255.0-1).T; MT = (2*XT/255.0-1).T
N, Nc = 784, 10
n = int(sys.argv[1]); Temp = float(sys.argv[2]); Nep = int(sys.argv[3]); m = 30
eps0, f, p, Num = 4e-2, 0.998, 0.6, 1000
Lab = -np.ones((Nc, 60000)); Lab[y, np.arange(60000)] = 1
rng = np.random.default_rng(seed)
KS = rng.normal(-0.3, 0.3, (K, N+Nc)); VKS = np.zeros_like(KS)
beta = 1/Temp**n
def ipow(x, k):
    """x**k for an integer k ≥ 1 by repeated squaring (numpy's ** on floats calls pow, ~10× slower)."""
    r = None
    while k:
        if k & 1: r = x if r is None else r*x
        k >>= 1
        if k: x = x*x
    return r
def outputs(KS, v):
    """[C, B] sums Σ_μ F(base + 2ξ_α) − F(base), base = ξ·[v; −1] (all class neurons off)."""
    base = KS[:, :N] @ v - KS[:, N:].sum(1)[:, None]
    off = ipow(np.maximum(base, 0), n)
    return base, off, np.stack([np.sum(ipow(np.maximum(base + 2*KS[:, N+c][:, None], 0), n) - off, 0) for c in range(Nc)])
for nep in range(Nep):
    eps = eps0*f**nep
    perm = rng.permutation(60000); Ms = M[:, perm]; Ls = Lab[:, perm]
    wrong = 0
    for k in range(60000//Num):
        v = Ms[:, k*Num:(k+1)*Num]; t = Ls[:, k*Num:(k+1)*Num]
        base, off, S = outputs(KS, v)
        Y = np.tanh(beta*S)                                    # [C, B]
        wrong += np.sum(np.argmax(Y, 0) != np.argmax(t, 0))
        w = (t-Y)**(2*m-1)*(1-Y)*(1+Y)                          # [C, B]
        base1 = ipow(np.maximum(base, 0), n-1)                      # F'(off)/n, shared by every class
        d_pix = np.zeros((K, N)); d_cls = np.zeros((K, Nc))
        for c in range(Nc):
            on1 = ipow(np.maximum(base + 2*KS[:, N+c][:, None], 0), n-1)   # [K, B]
            g = on1*w[c] - base1*w[c]                             # pixel / shared-class part
            d_pix += g @ v.T
            gs = g.sum(1)                                        # class neurons are −1 in both terms ...
            d_cls -= gs[:, None]
            d_cls[:, c] += 2*(on1*w[c]).sum(1)                   # ... except neuron c, +1 in the first
        d_KS = np.concatenate((d_pix, d_cls), 1)
        VKS = p*VKS + d_KS
        nc = np.maximum(np.abs(VKS).max(1, keepdims=True), 1e-30)
        KS = np.clip(KS + eps*VKS/nc, -1, 1)
    test = np.mean(np.argmax(outputs(KS, MT)[2], 0) != yT)
    print(f"epoch {nep+1}: test error {100*test:.2f}% train error (running) {100*wrong/60000:.2f}%", flush=True)
