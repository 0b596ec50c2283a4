"""A reference Energy Transformer for images in PyTorch, with the energy's gradient written out
explicitly (as the Rust folded/fused step), for comparison with the Rust implementation.

Same model and weight layout as bench/et_jax.py (the official .npz layout); per step, with
g = LN(x), K = g Wk^T, Q = g Wq^T per head and S = softmax(beta Q K^T) over the keys:

    -dE/dg = sum_h [ Wq_h^T (S K)_h + Wk_h^T (S^T Q)_h ] + relu(g Xi) Xi^T,   x <- x - alpha dE/dg

Training backpropagates through the T steps with torch.autograd, AdamW (lr 1e-4, betas
(0.9, 0.99), weight decay 0.05) after clipping the gradient norm to 1 — the same step as the JAX
reference. Never needed by the Rust build; see bench/README.md.
"""

import numpy as np
import torch

KEYS = ["Wk", "Wq", "Xi", "Wenc", "Benc", "Wdec", "Bdec", "POS_embed", "CLS_token", "MASK_token",
        "LNORM_gamma", "LNORM_bias"]


def layer_norm(p, x, eps=1e-5):
    xm = x - x.mean(-1, keepdim=True)
    return p["LNORM_gamma"] * xm / torch.sqrt((xm ** 2).mean(-1, keepdim=True) + eps) + p["LNORM_bias"]


def energy(p, g):
    """E = E_ATT + E_HN per image of the activations g: (B, N+1, D) -> (B,)."""
    beta = 1.0 / np.sqrt(p["Wk"].shape[1])
    k = torch.einsum("bnd,hzd->bhnz", g, p["Wk"])
    q = torch.einsum("bnd,hzd->bhnz", g, p["Wq"])
    a = torch.logsumexp(beta * q @ k.transpose(-1, -2), -1)
    hid = g @ p["Xi"]
    return -a.sum((1, 2)) / beta - 0.5 * (torch.relu(hid) ** 2).sum((1, 2))


def step(p, x, alpha):
    """x - alpha dE/dg(LN(x)) with the explicit gradient."""
    beta = 1.0 / np.sqrt(p["Wk"].shape[1])
    g = layer_norm(p, x)
    k = torch.einsum("bnd,hzd->bhnz", g, p["Wk"])
    q = torch.einsum("bnd,hzd->bhnz", g, p["Wq"])
    s = torch.softmax(beta * q @ k.transpose(-1, -2), -1)  # (B, H, query, key)
    att = torch.einsum("bhnz,hzd->bnd", s @ k, p["Wq"]) + torch.einsum("bhnz,hzd->bnd", s.transpose(-1, -2) @ q, p["Wk"])
    hop = torch.relu(g @ p["Xi"]) @ p["Xi"].T
    return x + alpha * (att + hop)


def patchify(x, patch):
    """(B, C, H, W) -> (B, N, C*p*p), patches row by row, each flattened in (c, h, w) order."""
    b, c, h, w = x.shape
    kh, kw = h // patch, w // patch
    return x.reshape(b, c, kh, patch, kw, patch).permute(0, 2, 4, 1, 3, 5).reshape(b, kh * kw, c * patch * patch)


def tokens(p, images, masks, patch):
    target = patchify(images, patch)
    tok = target @ p["Wenc"] + p["Benc"]
    tok = torch.where(masks[:, :, None] == 1, p["MASK_token"], tok)
    cls = p["CLS_token"].expand(tok.shape[0], 1, -1)
    return torch.cat([cls, tok], 1) + p["POS_embed"], target


def loss_fn(p, images, masks, steps, alpha, patch):
    tok, target = tokens(p, images, masks, patch)
    for _ in range(steps):
        tok = step(p, tok, alpha)
    g = layer_norm(p, layer_norm(p, tok[:, 1:]))  # the official decoder applies LN twice
    pred = g @ p["Wdec"] + p["Bdec"]
    m = masks[:, :, None]
    return (m * (pred - target) ** 2).sum() / (m.sum() * pred.shape[-1])


def energies0(p, images, masks, steps, alpha, patch):
    """E at t = 0..T of image 0."""
    tok, _ = tokens(p, images[:1], masks[:1], patch)
    out = []
    for _ in range(steps):
        out.append(float(energy(p, layer_norm(p, tok))[0]))
        tok = step(p, tok, alpha)
    out.append(float(energy(p, layer_norm(p, tok))[0]))
    return out


def make_fns(weights, steps, alpha, patch, lr=1e-4, device="cpu"):
    """Parameters (from numpy, on `device`), the forward loss, E of image 0 and a training step
    (each returns a Python float, which waits for the device)."""
    p = {k: torch.tensor(np.asarray(v), device=device, requires_grad=True) for k, v in weights.items()}
    opt = torch.optim.AdamW(p.values(), lr=lr, betas=(0.9, 0.99), weight_decay=0.05)

    def forward(images, masks):
        with torch.inference_mode():
            return float(loss_fn(p, images, masks, steps, alpha, patch))

    def energies(images, masks):
        with torch.no_grad():
            return energies0(p, images, masks, steps, alpha, patch)

    def train_step(images, masks):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(p, images, masks, steps, alpha, patch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(p.values(), 1.0)
        opt.step()
        return loss.item()

    return forward, energies, train_step
