//===- Options.h - Command-line options of fashion-mnist-train -----*- C++ -*-===//
//
// The command line of fashion-mnist-train: parsing, checking and the --help text.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_EXAMPLES_FASHION_MNIST_OPTIONS_H
#define OPTFUSE_EXAMPLES_FASHION_MNIST_OPTIONS_H

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace fmnist {

/// Everything the command line sets. Optional values left unset take the rule's defaults.
struct Options {
  std::string optimizer = "tvlars";
  std::string dataDir;
  int64_t batchSize = 8192;
  int64_t epochs = 10;
  double warmupEpochs = 0;
  std::optional<double> lr, weightDecay;
  std::optional<double> lambda, alpha, delay, gammaMin;
  bool exclude1d = false;
  std::string device = "cpu";
  uint64_t seed = 0;
  int threads = 2;
  std::string csvPath, plotPath;
  bool help = false;
};

/// A bad command line: the message says which flag or value is wrong.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Parses argv (flags as `--name value` or `--name=value`). Throws UsageError.
Options parseOptions(int argc, char **argv);

/// The --help text.
std::string usage();

} // namespace fmnist

#endif // OPTFUSE_EXAMPLES_FASHION_MNIST_OPTIONS_H
