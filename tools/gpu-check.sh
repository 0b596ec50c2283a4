#!/usr/bin/env bash
# The GPU checks of issue 14 in one call, on a machine with an NVIDIA GPU, JAX and PyTorch with
# CUDA, and no Rust toolchain or network. From the repository root:
#
#   tools/gpu-check.sh BIN DATA [OUT]
#
# BIN   a hopfield binary built elsewhere with `cargo build --release --features cuda`
#       (carried beside the repository, e.g. target/gpu/hopfield; not committed)
# DATA  a folder with mnist/ (the four IDX .gz files) and, optionally, cifar10-jpeg/ (the train
#       and test JPEG tarballs of ../shared/data; extracted here into OUT)
# OUT   where logs, metrics and pictures go (default gpu-check-out)
#
# It runs, in this order, each step's log in OUT and a summary at the end (about 6–8 minutes on
# one H200):
#   1. hopfield --device cuda et check: explicit gradient = autodiff, the energy falls, GPU = CPU
#      (energies and tokens) to 1e-4;
#   2. et train on full MNIST, the README configuration, 2 epochs: images/s beside this project's
#      CPU figure (2,844 images/s on 2 cores) and the test MSE;
#   3. et train on CIFAR-10 (the README configuration, 1 epoch) when DATA has it;
#   4. recall --memory modern on the device against the host arrays (same figures), and the
#      modern update's GFLOP/s on the device (hopfield bench) next to the device's own GEMM;
#   5. data-parallel training, --devices cuda:0,cuda:1 (or two workers on the one GPU): the same
#      epoch (train loss, test MSE to 4 decimals) as one device with the whole batch;
#   6. bench/compare_et.py --device cuda: Rust, JAX and PyTorch on the GPU, small, medium and the
#      official configuration (3×224×224, patch 16, D 768, 12×64, M 3072, B 32).
# The exit status is 0 only when every step succeeded. A dry run on the CPU (this machine):
#   DEVICE=cpu CONFIGS=small PYTHON=/tmp/jaxenv/bin/python tools/gpu-check.sh target/release/hopfield DATA
set -uo pipefail
BIN=${1:?usage: tools/gpu-check.sh BIN DATA [OUT]}
DATA=${2:?usage: tools/gpu-check.sh BIN DATA [OUT]}
OUT=${3:-gpu-check-out}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
CONFIGS=${CONFIGS:-small,medium,official}
CPU_MNIST_IMAGES_PER_S=2844
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

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/GPU: /'
"$BIN" --version

step check "$BIN" --device "$DEVICE" et check

rm -rf "$OUT/mnist"
step mnist "$BIN" --device "$DEVICE" et train --data mnist --data-dir "$DATA" --epochs 2 --batch-size 64 \
  --lr 4e-3 --warmup 200 --memories 256 --out "$OUT/mnist"
if [ -f "$OUT/mnist/metrics.csv" ]; then
  ips=$(tail -n 1 "$OUT/mnist/metrics.csv" | cut -d, -f6)
  mse=$(tail -n 1 "$OUT/mnist/metrics.csv" | cut -d, -f3)
  summary+=("mnist: $ips images/s on $DEVICE = $(awk -v a="$ips" -v b=$CPU_MNIST_IMAGES_PER_S 'BEGIN { printf "%.1f", a / b }')× the CPU's $CPU_MNIST_IMAGES_PER_S (target 20×); test MSE $mse after 2 epochs")
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
    summary+=("cifar: $(tail -n 1 "$OUT/cifar-run/metrics.csv" | cut -d, -f6) images/s on $DEVICE (CPU: 350–465)")
  fi
else
  summary+=("cifar: skipped (no $DATA/cifar10-jpeg)")
fi

# recall with the modern network on the device (burn tensors) against the host arrays: the same
# exact retrievals and mean overlap (to 1e-3) on 500 MNIST digits at β = 0.05 (slow, many steps).
rm -rf "$OUT/recall-cpu" "$OUT/recall-dev"
for where in cpu dev; do
  dev=cpu; [ $where = dev ] && dev=$DEVICE
  step "recall-$where" "$BIN" --device "$dev" recall --memory modern --beta 0.05 --patterns 500 --data mnist \
    --data-dir "$DATA" --out "$OUT/recall-$where"
done
if [ -f "$OUT/recall-cpu.log" ] && [ -f "$OUT/recall-dev.log" ]; then
  a=$(grep -o 'retrieved exactly.*overlap [0-9.]*' "$OUT/recall-cpu.log")
  b=$(grep -o 'retrieved exactly.*overlap [0-9.]*' "$OUT/recall-dev.log")
  # The same exact-retrieval count, the mean overlap within 1e-3 (f32 sums in another order).
  if [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
      d = x[8] - y[8]; exit !(x[3] == y[3] && d <= 1e-3 && d >= -1e-3) }'; then
    summary+=("recall: $DEVICE agrees with the host arrays ($b; host: $a)")
  else summary+=("recall: FAILED, $DEVICE gives '$b', host arrays '$a'"); status=1; fi
fi

# The modern Hopfield update (N 784, K 60,000, 256 queries) on the device, next to its own GEMM.
step bench "$BIN" --device "$DEVICE" bench --reps 10
[ -f "$OUT/bench.log" ] && summary+=("bench: $(grep -E '^(modern|plain|update)' "$OUT/bench.log" | tr '\n' ';')")

# Data-parallel training (burn-train's multi-device step): two GPUs when there are two, else two
# workers on the one; one epoch of the bundled MNIST sample against one device with the whole batch.
if [ "$DEVICE" = cpu ]; then pair=cpu,cpu
elif [ "$(nvidia-smi -L 2>/dev/null | wc -l)" -ge 2 ]; then pair=cuda:0,cuda:1
else pair=$DEVICE,$DEVICE; fi
rm -rf "$OUT/dp-one" "$OUT/dp-two"
step parallel-one "$BIN" --device "$DEVICE" et train --epochs 1 --out "$OUT/dp-one"
step parallel-two "$BIN" et train --epochs 1 --devices "$pair" --out "$OUT/dp-two"
if [ -f "$OUT/dp-one/metrics.csv" ] && [ -f "$OUT/dp-two/metrics.csv" ]; then
  one=$(tail -n 1 "$OUT/dp-one/metrics.csv" | awk -F, '{ printf "%.4f %.4f", $2, $3 }')
  two=$(tail -n 1 "$OUT/dp-two/metrics.csv" | awk -F, '{ printf "%.4f %.4f", $2, $3 }')
  if [ "$one" = "$two" ]; then
    summary+=("parallel: --devices $pair gives the one-device epoch (train loss, test MSE: $two)")
  else
    summary+=("parallel: FAILED, --devices $pair gives $two, one device $one")
    status=1
  fi
fi

step compare "$PYTHON" bench/compare_et.py --hopfield "$BIN" --device "$DEVICE" --configs "$CONFIGS" \
  --reps 5 --rounds 2 --json "$OUT/compare.json"
sed -n '/^config/,/^agreement/p' "$OUT/compare.log"

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
