#!/usr/bin/env bash
# The fused CPU path on CPUs older than this one (issue 12: "results on a machine without AVX2 are
# still correct"). The binary is built for the baseline x86-64; `gemm` and the vectorised exp choose
# AVX-512, AVX2 + FMA or SSE kernels at run time. This runs the fused path's tests under QEMU's
# user-mode emulation of two CPU models, so each of the slower kernels is the one chosen:
#
#   Nehalem: SSE4.2, no AVX (gemm's SSE kernels, the SSE2 exp);
#   Haswell: AVX2 + FMA, no AVX-512 (so also without the per-head attention kernels of
#            et/fused/head.rs, which need AVX-512F: the step takes the gemm path).
#
# Usage, from the repository root (needs qemu-user: `apt-get install qemu-user`; ≈ 1 minute after
# the test build):
#
#   tools/cpu-baseline-check.sh
#
# With PYTHON set to an interpreter that has JAX and PyTorch (see bench/README.md), it also runs
# bench/compare_et.py's small configuration with the release binary emulated as a Nehalem, which
# checks the whole model's loss and energies against JAX (≈ 10 minutes: emulation is ~600× slower).
set -euo pipefail

command -v qemu-x86_64 > /dev/null || { echo "qemu-x86_64 not found: apt-get install qemu-user" >&2; exit 2; }
tests=$(cargo test --release -p hopfield --no-run --lib --test et_fused --test et_fused_gradient_f64 --test et_fused_head_widths 2>&1 \
    | grep -o 'target/release/deps/[A-Za-z0-9_-]*' | sort -u)
[ -n "$tests" ] || { echo "no test binaries were built" >&2; exit 1; }
status=0
for cpu in Nehalem Haswell; do
    for t in $tests; do
        filter=()
        # The AVX-512 kernels' own test cannot run on these CPUs (it would fail saying so): skipped
        # here, and listed as skipped.
        case "$(basename "$t")" in
            hopfield-*) filter=(fused --skip kernels_match_a_plain_loop_and_the_portable_path_exactly) ;;
        esac
        if out=$(qemu-x86_64 -cpu "$cpu" "$t" "${filter[@]}" 2>/dev/null); then
            echo "$cpu $(basename "$t"): $(grep 'test result' <<< "$out")"
            case "$(basename "$t")" in hopfield-*) echo "  (not run: the AVX-512 kernels' exactness test)" ;; esac
        else
            echo "$cpu $(basename "$t"): FAILED"; grep -E '^test .*FAILED|panicked' <<< "$out" || true
            status=1
        fi
    done
done
if [ -n "${PYTHON:-}" ]; then
    cargo build --release -p hopfield-cli
    wrapper=$(mktemp)
    printf '#!/bin/sh\nexec qemu-x86_64 -cpu Nehalem %s "$@" 2>/dev/null\n' "$PWD/target/release/hopfield" > "$wrapper"
    chmod +x "$wrapper"
    "$PYTHON" bench/compare_et.py --hopfield "$wrapper" --configs small --reps 1 --rounds 1 --warmup 1 | tail -3 || status=1
    rm -f "$wrapper"
fi
exit $status
