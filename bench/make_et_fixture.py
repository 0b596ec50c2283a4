"""Makes the JAX fixture that `cargo test` compares the Rust Energy Transformer with
(crates/hopfield-train/tests/et_jax_fixture.rs); run once, the files are committed.

    python bench/make_et_fixture.py [--out crates/hopfield-train/tests/fixtures]

Writes, from seed 2023:
  et-jax-weights.npz  a small model in the official .npz layout (3x16x16 images in 4x4 patches:
                      16 tokens + CLS, D 32, 2 heads x 16 — a width the AVX-512 kernels take —,
                      64 memories), as `bench/et_jax.py`'s random_weights makes them;
  et-jax-io.npz       its inputs and bench/et_jax.py's outputs (jax.value_and_grad inside the
                      forward pass, as the official code): `images` (2, 3, 16, 16) (already
                      normalised), `masks` (2, 16) (8 patches of each replaced by MASK), `pred`
                      (2, 16, 48) the decoded patches after T = 4 steps of alpha = 0.1, `energies`
                      (2, 5) E at t = 0..4, `loss` the masked-patch MSE; all float32, computed with
                      jax_enable_x64 off (as the official code runs).
Needs jax and optax (see bench/README.md); the Rust build never does.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jax  # noqa: E402
from et_jax import forward_one, loss_fn, random_weights  # noqa: E402

IMAGE, PATCH, D, H, Y, M, STEPS, ALPHA, BATCH = (3, 16, 16), 4, 32, 2, 16, 64, 4, 0.1, 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="crates/hopfield-train/tests/fixtures")
    a = ap.parse_args()
    rng = np.random.default_rng(2023)
    weights = random_weights(rng, IMAGE, PATCH, D, H, Y, M)
    n = (IMAGE[1] // PATCH) * (IMAGE[2] // PATCH)
    images = rng.standard_normal((BATCH, *IMAGE)).astype(np.float32)
    masks = np.zeros((BATCH, n), dtype=np.float32)
    for b in range(BATCH):
        masks[b, rng.choice(n, n // 2, replace=False)] = 1.0
    params = {k: jax.numpy.asarray(v) for k, v in weights.items()}
    pred, energies, _ = jax.vmap(forward_one, in_axes=(None, 0, 0, None, None, None))(
        params, images, masks, STEPS, ALPHA, PATCH
    )
    loss = loss_fn(params, images, masks, STEPS, ALPHA, PATCH)
    os.makedirs(a.out, exist_ok=True)
    np.savez(os.path.join(a.out, "et-jax-weights.npz"), **weights)
    np.savez(
        os.path.join(a.out, "et-jax-io.npz"),
        images=images,
        masks=masks,
        pred=np.asarray(pred, dtype=np.float32),
        energies=np.asarray(energies, dtype=np.float32),
        loss=np.asarray(loss, dtype=np.float32),
    )
    print(f"jax {jax.__version__}: loss {float(loss):.7f}, energies of image 0 {np.asarray(energies[0]).tolist()}")


if __name__ == "__main__":
    main()
