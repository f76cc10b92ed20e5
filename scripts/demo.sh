#!/bin/bash
# The main job: installs what is missing, builds, and compiles the TVLARS spec through the whole
# pipeline: the sweep plan, and a bundle with vectorized CPU code that the runtime loads.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${OPTFUSE_BUILD_DIR:-build}

scripts/setup.sh
scripts/build.sh

compile="$BUILD_DIR/tools/optfuse-compile/optfuse-compile"
echo "== specs/tvlars.mlir planned into sweeps over memory"
"$compile" specs/tvlars.mlir --emit=mlir --print-plan
echo "== compiling it into a bundle"
"$compile" specs/tvlars.mlir -o "$BUILD_DIR/tvlars.optfuse.so"
ls -l "$BUILD_DIR/tvlars.optfuse.so"
