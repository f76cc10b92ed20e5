//===- Abi.cpp - The rule interface recorded in a bundle ------------------===//
//
// This file writes the ABI text that tells the runtime how to call a bundle's code.
//
//===----------------------------------------------------------------------===//

#include "codegen/Abi.h"
#include "passes/Passes.h"
#include "runtime/Abi.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace mlir::optim;

std::string mlir::optim::formatShortest(float value) {
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {
    snprintf(text, sizeof(text), "%.*g", digits, static_cast<double>(value));
    if (std::strtof(text, nullptr) == value || value != value)
      break;
  }
  return text;
}

static std::string formatFloat(const llvm::APFloat &value) {
  return formatShortest(value.convertToFloat());
}

static std::string joinIndices(ArrayRef<int> indices) {
  if (indices.empty())
    return "-";
  return llvm::join(llvm::map_range(indices, [](int i) { return std::to_string(i); }), ",");
}

std::string mlir::optim::getAbiText(RuleOp rule) {
  std::string text = llvm::formatv("optfuse-bundle {0}\nrule {1}\n", OPTFUSE_BUNDLE_FORMAT_VERSION,
                                   rule.getSymName());
  Block &body = rule.getBody().front();
  for (auto hyper : body.getOps<HyperOp>()) {
    if (auto value = dyn_cast<BoolAttr>(hyper.getDefaultValue()))
      text += llvm::formatv("hyper {0} bool {1}\n", hyper.getName(), value.getValue() ? 1 : 0);
    else if (auto value = dyn_cast<IntegerAttr>(hyper.getDefaultValue()))
      text += llvm::formatv("hyper {0} bool {1}\n", hyper.getName(), value.getInt() ? 1 : 0);
    else
      text += llvm::formatv("hyper {0} f32 {1}\n", hyper.getName(),
                            formatFloat(cast<FloatAttr>(hyper.getDefaultValue()).getValue()));
  }
  for (auto flag : body.getOps<FlagOp>())
    text += llvm::formatv("flag {0}\n", flag.getName());
  text += "buffer param 0\nbuffer grad 0\n";
  for (auto state : body.getOps<StateOp>())
    text += llvm::formatv("buffer {0} {1}\n", state.getName(),
                          formatFloat(state.getInit()));
  SmallVector<SweepOp> sweeps = getSweeps(rule);
  SmallVector<int> written = getWrittenBuffers(rule);
  for (auto [k, sweep] : llvm::enumerate(sweeps)) {
    SmallVector<int> reads;
    for (Value input : sweep.getInputs())
      reads.push_back(getBufferIndex(input));
    text += llvm::formatv("sweep {0} {1} {2} {3} {4}\n", k, sweep.getNumReductions(),
                          joinIndices(reads),
                          joinIndices(k + 1 == sweeps.size() ? ArrayRef(written) : ArrayRef<int>()),
                          sweep.getBytesPerElement());
  }
  SmallVector<StringRef> lines;
  std::string plan = describePlan(rule);
  StringRef(plan).split(lines, '\n');
  for (StringRef line : lines)
    text += ("plan " + line.trim() + "\n").str();
  return text;
}
