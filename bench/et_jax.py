"""A reference Energy Transformer for images in JAX, for comparison with the Rust implementation.

It follows the official code's structure (bhoov/energy-transformer-jax, `image_core.py` and
`architecture.py`): the energy is written down and its gradient taken by `jax.value_and_grad`
inside the forward pass, T steps of `g = LN(x); x <- x - alpha dE/dg`, weights in the official
.npz layout (Wk, Wq (H, Y, D); Xi (D, M); Wenc (P, D); Benc; Wdec (D, P); Bdec; POS_embed (N+1, D);
CLS_token; MASK_token; LNORM_gamma (scalar); LNORM_bias (D)).

Never needed by the Rust build; see bench/README.md.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

KEYS = ["Wk", "Wq", "Xi", "Wenc", "Benc", "Wdec", "Bdec", "POS_embed", "CLS_token", "MASK_token",
        "LNORM_gamma", "LNORM_bias"]


def layer_norm(params, x, eps=1e-5):
    """The energy layer norm's activation: scalar gamma, vector bias."""
    xm = x - x.mean(-1, keepdims=True)
    return params["LNORM_gamma"] * xm / jnp.sqrt((xm ** 2).mean(-1, keepdims=True) + eps) + params["LNORM_bias"]


def energy(params, g):
    """E = E_ATT + E_HN of one image's activations g: (N+1, D). Self-attention allowed."""
    y = params["Wk"].shape[1]
    beta = 1.0 / jnp.sqrt(y)
    k = jnp.einsum("kd,hzd->khz", g, params["Wk"])
    q = jnp.einsum("qd,hzd->qhz", g, params["Wq"])
    a = jax.nn.logsumexp(beta * jnp.einsum("qhz,khz->hqk", q, k), -1)
    e_att = -1.0 / beta * a.sum()
    hid = g @ params["Xi"]  # Xi is (D, M) in the official file
    e_hn = -0.5 * (jax.nn.relu(hid) ** 2).sum()
    return e_att + e_hn


def patchify(x, patch):
    """(C, H, W) -> (N, C*p*p), patches row by row, each flattened in (c, h, w) order."""
    c, h, w = x.shape
    kh, kw = h // patch, w // patch
    return x.reshape(c, kh, patch, kw, patch).transpose(1, 3, 0, 2, 4).reshape(kh * kw, c * patch * patch)


def forward_one(params, x, mask, steps, alpha, patch):
    """One image (C, H, W) and its 0/1 mask (N,) -> decoded patches (N, P) and E at t = 0..T."""
    target = patchify(x, patch)
    tok = target @ params["Wenc"] + params["Benc"]
    tok = jnp.where(mask[:, None] == 1, params["MASK_token"][None, :], tok)
    tok = jnp.concatenate([params["CLS_token"][None], tok]) + params["POS_embed"]
    e_and_grad = jax.value_and_grad(energy, argnums=1)
    energies = []
    for _ in range(steps):
        g = layer_norm(params, tok)
        e, de_dg = e_and_grad(params, g)
        energies.append(e)
        tok = tok - alpha * de_dg
    energies.append(energy(params, layer_norm(params, tok)))
    g = layer_norm(params, tok[1:])
    g = layer_norm(params, g)  # the official decoder applies LN once more
    return g @ params["Wdec"] + params["Bdec"], jnp.stack(energies), target


def loss_fn(params, images, masks, steps, alpha, patch):
    """Masked-patch MSE over the batch: sum(mask (pred - target)^2) / (sum(mask) P)."""
    pred, _, target = jax.vmap(forward_one, in_axes=(None, 0, 0, None, None, None))(
        params, images, masks, steps, alpha, patch)
    m = masks[:, :, None]
    return (m * (pred - target) ** 2).sum() / (m.sum() * pred.shape[-1])


def make_fns(steps, alpha, patch, lr=1e-4):
    """Jitted forward (loss), energies of image 0, and a training step with AdamW + clipping."""
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(lr, b1=0.9, b2=0.99, weight_decay=0.05))

    @jax.jit
    def forward(params, images, masks):
        return loss_fn(params, images, masks, steps, alpha, patch)

    @jax.jit
    def energies0(params, images, masks):
        return forward_one(params, images[0], masks[0], steps, alpha, patch)[1]

    @jax.jit
    def train_step(params, opt_state, images, masks):
        loss, grads = jax.value_and_grad(loss_fn)(params, images, masks, steps, alpha, patch)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return forward, energies0, train_step, opt


def random_weights(rng, image, patch, d, h, y, m):
    """Weights in the official layout, scaled like the Rust initialisation."""
    c, hh, ww = image
    n = (hh // patch) * (ww // patch)
    p = c * patch * patch
    s = 1.0 / np.sqrt(d)
    f = np.float32
    return {
        "Wk": (rng.standard_normal((h, y, d)) * s).astype(f),
        "Wq": (rng.standard_normal((h, y, d)) * s).astype(f),
        "Xi": (rng.standard_normal((d, m)) * s).astype(f),
        "Wenc": (rng.standard_normal((p, d)) * 0.1).astype(f),
        "Benc": (rng.standard_normal(d) * 0.01).astype(f),
        "Wdec": (rng.standard_normal((d, p)) * 0.1).astype(f),
        "Bdec": (rng.standard_normal(p) * 0.01).astype(f),
        "POS_embed": (rng.standard_normal((n + 1, d)) * 0.02).astype(f),
        "CLS_token": (rng.standard_normal(d) * 0.02).astype(f),
        "MASK_token": (rng.standard_normal(d) * 0.02).astype(f),
        "LNORM_gamma": np.array(1.0, dtype=f),
        "LNORM_bias": (rng.standard_normal(d) * 0.01).astype(f),
    }
