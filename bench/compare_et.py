"""Runs the Rust Energy Transformer (`hopfield et bench`), the JAX reference (bench/et_jax.py, the
official style: autodiff of the energy inside the forward pass) and the PyTorch reference
(bench/et_torch.py, the explicit energy gradient) on the same weights, inputs and masks, and prints
ms per forward pass and per training step, the ratios Rust/JAX, Rust/PyTorch and Rust/fastest,
and whether all three give the same loss and per-step energies (to 1e-4 relative).

    python bench/compare_et.py [--hopfield target/release/hopfield] [--reps 5] [--rounds 3] [--configs small,medium]
                               [--device cpu|cuda]

Configurations (the tokens include CLS):
  small:  batch 32, 64 tokens (3x28x36 images, patch 4: 7x9 = 63 patches), D 128, 4 heads x 32, 512 memories, T 12
  medium: batch 64, 65 tokens (3x32x32 images, patch 4: 8x8 = 64 patches), D 256, 8 heads x 32, 1024 memories, T 12
  official: batch 32, 197 tokens (3x224x224, patch 16), D 768, 12 heads x 64, 3072 memories, T 12 (for a GPU)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

CONFIGS = {
    "small": dict(batch=32, image=(3, 28, 36), patch=4, d=128, h=4, y=32, m=512, steps=12),
    "medium": dict(batch=64, image=(3, 32, 32), patch=4, d=256, h=8, y=32, m=1024, steps=12),
    # The official ImageNet model's sizes (for a GPU; far too slow for a 2-core CPU).
    "official": dict(batch=32, image=(3, 224, 224), patch=16, d=768, h=12, y=64, m=3072, steps=12),
}
ALPHA = 0.1


def rust_runner(exe, cfg, tmp, device):
    """Imports the weights once; returns run(reps, warmup) -> the JSON of one `et bench` call."""
    c, hh, ww = cfg["image"]
    n = (hh // cfg["patch"]) * (ww // cfg["patch"])
    ck = os.path.join(tmp, "ck")
    shape = f"{c}x{hh}x{ww}"
    subprocess.run([exe, "et", "import-npz", "--npz", os.path.join(tmp, "weights.npz"), "--out", ck,
                    "--image", shape, "--patch", str(cfg["patch"]), "--masked", str(n // 2),
                    "--steps", str(cfg["steps"]), "--alpha", str(ALPHA)], check=True, capture_output=True)

    def run(reps, warmup):
        out = subprocess.run([exe, "--device", device, "et", "bench", "--checkpoint", ck, "--inputs", os.path.join(tmp, "inputs.npy"),
                              "--mask", os.path.join(tmp, "mask.npy"), "--steps", str(cfg["steps"]),
                              "--alpha", str(ALPHA), "--warmup", str(warmup), "--reps", str(reps), "--json"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    return run


def timed(fn, reps, warmup):
    """ms of each of `reps` calls of fn after `warmup` untimed ones."""
    out = []
    for i in range(warmup + reps):
        t = time.perf_counter()
        fn()
        if i >= warmup:
            out.append((time.perf_counter() - t) * 1e3)
    return out


def jax_runner(weights, images, masks, cfg):
    """Compiles once; returns (loss, energies, info) and run(reps, warmup) -> (forward ms, train ms)."""
    import jax
    import jax.numpy as jnp
    from et_jax import make_fns

    forward, energies0, train_step, opt = make_fns(cfg["steps"], ALPHA, cfg["patch"])
    params = {k: jnp.asarray(v) for k, v in weights.items()}
    x, m = jnp.asarray(images), jnp.asarray(masks)
    loss = float(forward(params, x, m))
    energies = np.asarray(energies0(params, x, m)).tolist()
    state = {"p": params, "opt": opt.init(params)}

    def step():
        p, o, l = train_step(state["p"], state["opt"], x, m)
        jax.block_until_ready((p, l))
        state["p"], state["opt"] = p, o

    def run(reps, warmup):
        fwd = timed(lambda: forward(params, x, m).block_until_ready(), reps, warmup)
        return fwd, timed(step, reps, warmup)

    return dict(loss=loss, energies=energies, jax=jax.__version__, devices=str(jax.devices())), run


def torch_runner(weights, images, masks, cfg, device):
    """Returns (loss, energies, info) and run(reps, warmup) -> (forward ms, train ms)."""
    import torch
    from et_torch import make_fns

    forward, energies0, train_step = make_fns(weights, cfg["steps"], ALPHA, cfg["patch"], device=device)
    x, m = torch.tensor(images, device=device), torch.tensor(masks, device=device)
    info = dict(loss=forward(x, m), energies=energies0(x, m), torch=torch.__version__,
                threads=torch.get_num_threads())

    def run(reps, warmup):
        return timed(lambda: forward(x, m), reps, warmup), timed(lambda: train_step(x, m), reps, warmup)

    return info, run


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hopfield", default="target/release/hopfield")
    ap.add_argument("--reps", type=int, default=5, help="timed runs per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds in rotation; medians over all")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--configs", default="small,medium")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write every figure to this file")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                    help="where all three run (Rust: --device; JAX: JAX_PLATFORMS; PyTorch: the tensors' device)")
    a = ap.parse_args()
    os.environ["JAX_PLATFORMS"] = "cpu" if a.device == "cpu" else "cuda"
    from et_jax import random_weights

    results = {}
    for name in a.configs.split(","):
        cfg = CONFIGS[name]
        rng = np.random.default_rng(a.seed)
        weights = random_weights(rng, cfg["image"], cfg["patch"], cfg["d"], cfg["h"], cfg["y"], cfg["m"])
        c, hh, ww = cfg["image"]
        n = (hh // cfg["patch"]) * (ww // cfg["patch"])
        images = rng.standard_normal((cfg["batch"], c, hh, ww)).astype(np.float32)
        masks = np.zeros((cfg["batch"], n), dtype=np.float32)
        for b in range(cfg["batch"]):
            masks[b, rng.choice(n, n // 2, replace=False)] = 1.0
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(os.path.join(tmp, "weights.npz"), **weights)
            np.save(os.path.join(tmp, "inputs.npy"), images)
            np.save(os.path.join(tmp, "mask.npy"), masks)
            rust_run = rust_runner(a.hopfield, cfg, tmp, a.device)
            jx, jax_run = jax_runner(weights, images, masks, cfg)
            pt, torch_run = torch_runner(weights, images, masks, cfg, a.device)
            # Rounds in rotation (Rust, JAX, PyTorch, Rust, …) so that a slow spell of the machine
            # falls on all three; the medians are over every round's runs.
            rust, times = None, {k: ([], []) for k in ("rust", "jax", "torch")}
            for r in range(a.rounds):
                warmup = a.warmup if r == 0 else 1
                out = rust_run(a.reps, warmup)
                rust = rust or out
                times["rust"][0].extend(out["forward_all"])
                times["rust"][1].extend(out["train_all"])
                for key, run in (("jax", jax_run), ("torch", torch_run)):
                    f, t = run(a.reps, warmup)
                    times[key][0].extend(f)
                    times[key][1].extend(t)
        for key, info in (("rust", rust), ("jax", jx), ("torch", pt)):
            info["forward_all"], info["train_all"] = times[key]
            info["forward_ms"] = statistics.median(times[key][0])
            info["train_step_ms"] = statistics.median(times[key][1])
        results[name] = dict(config=cfg, rust=rust, jax=jx, torch=pt,
                             loss_rel_diff=max(rel(rust["loss"], jx["loss"]), rel(pt["loss"], jx["loss"])),
                             energy_max_rel_diff=max(rel(rust["energies"], jx["energies"]),
                                                     rel(pt["energies"], jx["energies"])))

    print(f"{'config':<8} {'':>12} {'Rust ms':>10} {'JAX ms':>10} {'PyTorch ms':>11} {'Rust/JAX':>9} "
          f"{'Rust/PyTorch':>13} {'Rust/fastest':>13}")
    for name, r in results.items():
        for what in ["forward", "train_step"]:
            rs, js, ts = r["rust"][what + "_ms"], r["jax"][what + "_ms"], r["torch"][what + "_ms"]
            print(f"{name:<8} {what:>12} {rs:>10.2f} {js:>10.2f} {ts:>11.2f} {rs / js:>9.2f} {rs / ts:>13.2f} "
                  f"{rs / min(js, ts):>13.2f}")
    # The spread of each program's runs: a slow spell of the machine that falls on one program's
    # round shows as a maximum far from its minimum (and moves its median).
    print("\nspread of the runs, ms (min / median / max):")
    for name, r in results.items():
        for what in ["forward", "train_step"]:
            parts = []
            for key, label in (("rust", "Rust"), ("jax", "JAX"), ("torch", "PyTorch")):
                runs = r[key]["forward_all" if what == "forward" else "train_all"]
                parts.append(f"{label} {min(runs):.1f} / {statistics.median(runs):.1f} / {max(runs):.1f}")
            print(f"  {name:<8} {what:>12}: " + "; ".join(parts))
    print()
    for name, r in results.items():
        print(f"{name}: loss Rust {r['rust']['loss']:.6f} JAX {r['jax']['loss']:.6f} PyTorch {r['torch']['loss']:.6f}; "
              f"energies t=0..{r['config']['steps']} ({r['jax']['energies'][0]:.3f} -> {r['jax']['energies'][-1]:.3f}); "
              f"largest rel. diff to JAX: loss {r['loss_rel_diff']:.1e}, energies {r['energy_max_rel_diff']:.1e}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    ok = all(r["loss_rel_diff"] < 1e-4 and r["energy_max_rel_diff"] < 1e-4 for r in results.values())
    print("agreement:", "yes" if ok else "NO")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
