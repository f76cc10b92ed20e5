#!/bin/bash
# The GPU check: everything CUDA in one call on a GPU machine (which has PyTorch and CUDA but no
# MLIR, and no network).
#
#   scripts/gpu-check.sh --prepare   here, on the build machine: compiles the shipped bundles for a
#                                    portable CPU (x86-64-v3) with sm_80/sm_90 code, and copies the
#                                    GoogleTest sources, into .carry/ (git-ignored)
#   scripts/gpu-check.sh             there, with .carry carried: builds the runtime, its tests and
#                                    the benchmark against the machine's PyTorch, runs the CUDA
#                                    tests (both launch variants) and the GPU benchmark, and writes
#                                    the results under $OUT (default: ./gpu-check-out)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARRY=$ROOT/.carry

if [ "${1:-}" = "--prepare" ]; then
  set -e
  scripts/build.sh optfuse-compile
  compile=build/tools/optfuse-compile/optfuse-compile
  rm -rf "$CARRY" && mkdir -p "$CARRY/bundles/test"
  for rule in tvlars lars lamb sgd adamw; do
    "$compile" "specs/$rule.mlir" --cpu=x86-64-v3 --gpu-arch=sm_80,sm_90 -o "$CARRY/bundles/$rule.optfuse.so"
  done
  "$compile" specs/sgd.mlir --cpu=x86-64-v3 --gpu-arch= -o "$CARRY/bundles/test/sgd_cpu_only.optfuse.so"
  cp -r /usr/src/googletest "$CARRY/googletest"
  du -sh "$CARRY"
  echo "prepared: run scripts/gpu-check.sh on the GPU machine with .carry carried"
  exit 0
fi

OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
summary=$OUT/summary.md
log=$OUT/log.txt
: > "$log"
say() { echo "$*" | tee -a "$summary"; }
: > "$summary"
say "# optfuse GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
[ -d "$CARRY/bundles" ] || { say "missing .carry/bundles: run scripts/gpu-check.sh --prepare first and carry .carry"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/GPU: /' | tee -a "$summary"

JOBS=$(nproc)
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') ||
  { say "python3 cannot import torch"; exit 1; }
say "PyTorch $(python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')"

step() { # step NAME COMMAND...: runs a step, logs its output, records pass/fail
  local name=$1; shift
  echo "== $name" >> "$log"
  local start=$SECONDS
  if "$@" >> "$log" 2>&1; then say "- $name: ok ($((SECONDS - start)) s)"; return 0; fi
  say "- $name: FAILED ($((SECONDS - start)) s; see log.txt)"; return 1
}

GTEST=/tmp/optfuse-gtest
step "build GoogleTest" bash -c "cmake -G Ninja -S '$CARRY/googletest' -B /tmp/optfuse-gtest-build \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$GTEST -DBUILD_GMOCK=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  && ninja -C /tmp/optfuse-gtest-build -j$JOBS install" || exit 1

BUILD=/tmp/optfuse-gpu-build
step "configure (runtime, tests, benchmark; no compiler)" cmake -G Ninja -S "$ROOT" -B "$BUILD" \
  -DCMAKE_BUILD_TYPE=Release -DOPTFUSE_ENABLE_COMPILER=OFF -DOPTFUSE_BUNDLE_DIR="$CARRY/bundles" \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$GTEST" || { tail -40 "$log"; exit 1; }
step "build" ninja -C "$BUILD" -j"$JOBS" || { tail -60 "$log"; exit 1; }

export OPTFUSE_BUNDLE_PATH=$CARRY/bundles
export OUT
step "CUDA kernels vs CPU path (both launch variants)" "$BUILD/test/runtime/cuda_kernel_test"
[ -f "$OUT/cuda_kernels.md" ] && cat "$OUT/cuda_kernels.md" >> "$summary"
for launch in single per-sweep; do
  step "FusedOptimizer on CUDA vs float64 reference ($launch launch)" \
    env OPTFUSE_CUDA_LAUNCH=$launch "$BUILD/test/runtime/fused_optimizer_test" --gtest_filter='FusedOptimizerCuda*:BadInputTest.Cuda*'
done
step "FusedOptimizer on CPU (same build)" "$BUILD/test/runtime/fused_optimizer_test" --gtest_filter='-FusedOptimizerCuda*'

if [ -x "$BUILD/bench/optfuse-bench" ]; then
  for model in resnet50 bert-large; do
    step "benchmark $model tvlars (cuda)" "$BUILD/bench/optfuse-bench" --device cuda --model "$model" \
      --rule tvlars --csv "$OUT/bench-$model.csv"
  done
  step "benchmark 10,000 x 1,000 tvlars (cuda)" "$BUILD/bench/optfuse-bench" --device cuda \
    --tensors 10000 --numel 1000 --rule tvlars --csv "$OUT/bench-many.csv"
  for f in "$OUT"/bench-*.csv; do [ -f "$f" ] && { echo; echo '```'; cat "$f"; echo '```'; } >> "$summary"; done
fi
grep -E "^\[  (FAILED|PASSED|SKIPPED) " "$log" | sort | uniq -c >> "$summary"
echo "summary: $summary"
