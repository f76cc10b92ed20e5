#!/bin/bash
# The main job: installs what is missing, builds, and runs the TVLARS spec through the compiler
# pipeline, showing the verified and canonicalized rule.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${OPTFUSE_BUILD_DIR:-build}

scripts/setup.sh
scripts/build.sh

echo "== specs/tvlars.mlir, verified and canonicalized by optfuse-opt"
"$BUILD_DIR/tools/optfuse-opt/optfuse-opt" specs/tvlars.mlir --canonicalize
