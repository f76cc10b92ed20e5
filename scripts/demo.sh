#!/bin/bash
# The main job: installs what is missing, builds, compiles the TVLARS spec into a bundle (showing
# its sweep plan), then trains a small CNN on Fashion-MNIST at batch 8192 with that bundle, without
# warm-up (the settings of examples/fashion_mnist/compare.sh), and prints the test accuracy.
# About a minute on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${OPTFUSE_BUILD_DIR:-build}

scripts/setup.sh
scripts/build.sh

echo "== compiling specs/tvlars.mlir into a bundle"
"$BUILD_DIR/tools/optfuse-compile/optfuse-compile" specs/tvlars.mlir --print-plan \
  -o "$BUILD_DIR/tvlars.optfuse.so"

echo "== training on Fashion-MNIST with it (batch 8192, no warm-up)"
"$BUILD_DIR/examples/fashion_mnist/fashion-mnist-train" --optimizer "$BUILD_DIR/tvlars.optfuse.so" \
  --lr 32 --lambda 1e-2 --weight-decay 5e-4 --batch-size 8192 --epochs 10 --seed 1
