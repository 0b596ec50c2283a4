#!/usr/bin/env bash
# The GPU checks in one call, on a machine with an NVIDIA GPU, the CUDA toolkit, JAX and PyTorch
# with CUDA, and no Rust toolchain or network (the project's GPU machine: driver 580 / CUDA 13.0,
# the toolkit under /usr/local/cuda, PyTorch 2.11 cu130 and JAX whose wheels keep the CUDA 13
# libraries under site-packages/nvidia/cu13/lib). From the repository root:
#
#   tools/gpu-check.sh BIN DATA [OUT]
#
# BIN   a hopfield binary built elsewhere with `cargo build --release --features cuda`, or that
#       binary gzipped (BIN.gz: unpacked into OUT; the CUDA binary is 63.4 MiB, 22.3 MB gzipped)
# DATA  a folder with mnist/ (the four IDX .gz files) and, optionally, cifar10-jpeg/ (the train
#       and test JPEG tarballs of ../shared/data; extracted here into OUT)
# OUT   where logs, metrics and pictures go (default gpu-check-out)
#
# The binary loads libcuda.so.1 (the driver), libnvrtc.so.13 (NVRTC, which compiles its kernels)
# and reads the toolkit's headers: LD_LIBRARY_PATH gains the toolkit's lib64 and the Python
# wheels' nvidia/cu13/lib, and CUDA_PATH is set to /usr/local/cuda when unset. Each step's log is
# in OUT, and a summary at the end names the device of every figure (about 6–8 minutes on one
# H200):
#   1. hopfield --device cuda et check: explicit gradient = autodiff, the energy falls, GPU = CPU
#      (energies and tokens) to 1e-4;
#   2. et train on full MNIST, the README configuration, 2 epochs on the GPU, and 1 epoch on this
#      machine's CPU: images/s on each, the GPU's against this project's 2-core CPU figure
#      (target ≥ 20×) and against this machine's CPU, and the test MSE;
#   3. et train on CIFAR-10 (the README configuration, 1 epoch) when DATA has it;
#   4. recall --memory modern on the device against the host arrays (same figures), and the
#      modern update's GFLOP/s on the device (hopfield bench, which checks it against the host
#      arrays to 1e-4 before timing) next to the device's own GEMM;
#   5. data-parallel training, --devices cuda:0,cuda:1 (or two workers on the one GPU): the same
#      epoch (train loss and test MSE within 1e-3) as one device with the whole batch;
#   6. bench/compare_et.py --device cuda: Rust, JAX and PyTorch on the GPU, small, medium and the
#      official configuration (3×224×224, patch 16, D 768, 12×64, M 3072, B 32); agreement to 1e-4
#      and the training step against JAX's (target ≤ 1.0×).
# The exit status is 0 only when every step succeeded. A dry run on the CPU (any machine):
#   DEVICE=cpu CONFIGS=small PYTHON=/tmp/jaxenv/bin/python tools/gpu-check.sh target/release/hopfield DATA
set -uo pipefail
BIN=${1:?usage: tools/gpu-check.sh BIN DATA [OUT]}
DATA=${2:?usage: tools/gpu-check.sh BIN DATA [OUT]}
OUT=${3:-gpu-check-out}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
CONFIGS=${CONFIGS:-small,medium,official}
# This project's 2-core CPU on the same full-MNIST run (README: 3,221–3,629 images/s at 9ac6458).
CPU_MNIST_IMAGES_PER_S=3629
mkdir -p "$OUT"
status=0
summary=()
step() { # name, command…
  local name=$1
  shift
  echo "== $name: $*"
  local t0=$SECONDS
  if "$@" >"$OUT/$name.log" 2>&1; then
    summary+=("$name: ok ($((SECONDS - t0)) s)")
  else
    summary+=("$name: FAILED ($((SECONDS - t0)) s), see $OUT/$name.log")
    status=1
  fi
  tail -n 5 "$OUT/$name.log"
}

last_field() { # metrics.csv, column: that column of the last epoch's row
  tail -n 1 "$1" | cut -d, -f"$2"
}

# A gzipped binary is unpacked into OUT.
case "$BIN" in
  *.gz)
    gzip -dc "$BIN" >"$OUT/hopfield" || { echo "cannot unpack $BIN" >&2; exit 1; }
    chmod +x "$OUT/hopfield"
    BIN=$OUT/hopfield
    ;;
esac
case "$BIN" in */*) ;; *) BIN=./$BIN ;; esac

# Where the CUDA libraries and headers are on the GPU machine (harmless elsewhere).
if [ "$DEVICE" != cpu ]; then
  libs=()
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do [ -d "$d" ] && libs+=("$d"); done
  site=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)
  [ -n "$site" ] && [ -d "$site/nvidia/cu13/lib" ] && libs+=("$site/nvidia/cu13/lib")
  if [ ${#libs[@]} -gt 0 ]; then
    LD_LIBRARY_PATH=$(IFS=:; echo "${libs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
  fi
  if [ -z "${CUDA_PATH:-}" ] && [ -d /usr/local/cuda/include ]; then export CUDA_PATH=/usr/local/cuda; fi
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  echo "CUDA_PATH=${CUDA_PATH:-}"
fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/GPU: /'
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
cpu=$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//')
cores=$(nproc 2>/dev/null)
if [ "$DEVICE" = cpu ]; then on="cpu ($cpu, $cores cores)"; else on="$DEVICE (${gpu:-unknown GPU})"; fi
echo "device: $on"
"$BIN" --version

step check "$BIN" --device "$DEVICE" et check

# The README's full-MNIST run: name, device, epochs.
mnist() {
  rm -rf "$OUT/$1"
  step "$1" "$BIN" --device "$2" et train --data mnist --data-dir "$DATA" --epochs "$3" --batch-size 64 \
    --lr 4e-3 --warmup 200 --memories 256 --out "$OUT/$1"
}
mnist mnist "$DEVICE" 2
mnist mnist-cpu cpu 1 # its first epoch on this machine's CPU, for a same-machine ratio
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
if [ -f "$OUT/mnist/metrics.csv" ]; then
  ips=$(last_field "$OUT/mnist/metrics.csv" 6)
  mse=$(last_field "$OUT/mnist/metrics.csv" 3)
  line="mnist: $ips images/s on $on = $(ratio "$ips" $CPU_MNIST_IMAGES_PER_S)× the project's 2-core CPU ($CPU_MNIST_IMAGES_PER_S; target 20×)"
  if [ -f "$OUT/mnist-cpu/metrics.csv" ]; then
    here=$(last_field "$OUT/mnist-cpu/metrics.csv" 6)
    line+=", $(ratio "$ips" "$here")× this machine's CPU ($here images/s on $cores cores)"
  fi
  summary+=("$line; test MSE $mse after 2 epochs")
fi

if [ -f "$DATA/cifar10-jpeg/cifar10-train-jpeg.tar.gz" ]; then
  mkdir -p "$OUT/cifar10"
  tar -xzf "$DATA/cifar10-jpeg/cifar10-train-jpeg.tar.gz" -C "$OUT/cifar10"
  tar -xzf "$DATA/cifar10-jpeg/cifar10-test-jpeg.tar.gz" -C "$OUT/cifar10"
  folder=$(dirname "$(find "$OUT/cifar10" -maxdepth 3 -type d -name train | head -n 1)")
  rm -rf "$OUT/cifar-run"
  step cifar "$BIN" --device "$DEVICE" et train --data "$folder" --patch 8 --dim 128 --heads 4 --head-dim 32 \
    --memories 256 --steps 6 --epochs 1 --batch-size 64 --lr 2e-3 --warmup 200 --out "$OUT/cifar-run"
  if [ -f "$OUT/cifar-run/metrics.csv" ]; then
    summary+=("cifar: $(last_field "$OUT/cifar-run/metrics.csv" 6) images/s on $on (the project's 2-core CPU: 350–465)")
  fi
else
  summary+=("cifar: skipped (no $DATA/cifar10-jpeg)")
fi

# recall with the modern network on the device (burn tensors) against the host arrays: the same
# exact retrievals and mean overlap (to 1e-3) on 500 MNIST digits at β = 0.05 (slow, many steps).
rm -rf "$OUT/recall-cpu" "$OUT/recall-dev"
for side in cpu dev; do
  dev=cpu; [ $side = dev ] && dev=$DEVICE
  step "recall-$side" "$BIN" --device "$dev" recall --memory modern --beta 0.05 --patterns 500 --data mnist \
    --data-dir "$DATA" --out "$OUT/recall-$side"
done
if [ -f "$OUT/recall-cpu.log" ] && [ -f "$OUT/recall-dev.log" ]; then
  a=$(grep -o 'retrieved exactly.*overlap [0-9.]*' "$OUT/recall-cpu.log")
  b=$(grep -o 'retrieved exactly.*overlap [0-9.]*' "$OUT/recall-dev.log")
  # The same exact-retrieval count, the mean overlap within 1e-3 (f32 sums in another order).
  if [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
      d = x[8] - y[8]; exit !(x[3] == y[3] && d <= 1e-3 && d >= -1e-3) }'; then
    summary+=("recall: $on agrees with the host arrays on the CPU ($b; host: $a)")
  else summary+=("recall: FAILED, $DEVICE gives '$b', host arrays '$a'"); status=1; fi
else
  summary+=("recall: FAILED, no log to compare (see the recall steps)")
  status=1
fi

# The modern Hopfield update (N 784, K 60,000, 256 queries) on the device, next to its own GEMM.
step bench "$BIN" --device "$DEVICE" bench --reps 10
[ -f "$OUT/bench.log" ] && summary+=("bench on $on: $(grep -E '^(modern|plain|update)' "$OUT/bench.log" | tr '\n' ';')")

# Data-parallel training (burn-train's multi-device step): two GPUs when there are two, else two
# workers on the one; one epoch of the bundled MNIST sample against one device with the whole batch.
if [ "$DEVICE" = cpu ]; then pair=cpu,cpu
elif [ "$(nvidia-smi -L 2>/dev/null | wc -l)" -ge 2 ]; then pair=cuda:0,cuda:1
else pair=$DEVICE,$DEVICE; fi
rm -rf "$OUT/dp-one" "$OUT/dp-two"
step parallel-one "$BIN" --device "$DEVICE" et train --epochs 1 --out "$OUT/dp-one"
step parallel-two "$BIN" et train --epochs 1 --devices "$pair" --out "$OUT/dp-two"
if [ -f "$OUT/dp-one/metrics.csv" ] && [ -f "$OUT/dp-two/metrics.csv" ]; then
  # The train loss and test MSE of the epoch within 1e-3 (relative): the shards' gradients are
  # summed in another order than one batch's, and AdamW carries that difference (~1e-6 of the
  # weights) through the epoch (on this project's CPU: 3e-5 and 1.3e-4).
  one=$(last_field "$OUT/dp-one/metrics.csv" 2,3)
  two=$(last_field "$OUT/dp-two/metrics.csv" 2,3)
  # Prints the largest relative difference; exits 0 when it is within 1e-3.
  if diff=$(awk -v a="$one" -v b="$two" 'BEGIN { split(a, x, ","); split(b, y, ","); m = 0
    for (i = 1; i <= 2; i++) { d = (x[i] - y[i]) / x[i]; if (d < 0) d = -d; if (d > m) m = d }
    printf "%.1e", m; exit !(m <= 1e-3) }'); then
    summary+=("parallel: --devices $pair gives the one-device epoch on $on (train loss, test MSE: $two; one device: $one; largest relative difference $diff)")
  else
    summary+=("parallel: FAILED, --devices $pair gives $two, one device $one on $on (relative difference $diff > 1e-3)")
    status=1
  fi
fi

step compare "$PYTHON" bench/compare_et.py --hopfield "$BIN" --device "$DEVICE" --configs "$CONFIGS" \
  --reps 5 --rounds 2 --json "$OUT/compare.json"
sed -n '/^config/,/^agreement/p' "$OUT/compare.log"
if [ -f "$OUT/compare.json" ]; then
  # Per configuration: Rust's training step against JAX's on the same device (target ≤ 1.0×).
  while IFS= read -r line; do summary+=("$line"); done < <("$PYTHON" - "$OUT/compare.json" "$on" <<'PY'
import json, sys
results, where = json.load(open(sys.argv[1])), sys.argv[2]
for name, r in results.items():
    ratio = r["rust"]["train_step_ms"] / r["jax"]["train_step_ms"]
    print(f"compare {name} on {where}: training step Rust {r['rust']['train_step_ms']:.2f} ms, JAX "
          f"{r['jax']['train_step_ms']:.2f}, PyTorch {r['torch']['train_step_ms']:.2f} -> Rust/JAX {ratio:.2f} "
          f"(target <= 1.0: {'met' if ratio <= 1.0 else 'NOT met'}); forward Rust/JAX "
          f"{r['rust']['forward_ms'] / r['jax']['forward_ms']:.2f}; agreement to JAX: loss {r['loss_rel_diff']:.1e}, "
          f"energies {r['energy_max_rel_diff']:.1e}")
PY
  )
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
