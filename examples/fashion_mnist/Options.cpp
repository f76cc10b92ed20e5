//===- Options.cpp - Command-line options of fashion-mnist-train ----------===//

#include "examples/fashion_mnist/Options.h"
#include "examples/fashion_mnist/Dataset.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

using namespace fmnist;

namespace {

double parseDouble(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(value))
    throw UsageError(flag + " expects a number, got '" + text + "'");
  return value;
}

int64_t parseInt(const std::string &flag, const std::string &text) {
  char *end = nullptr;
  errno = 0;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(flag + " expects an integer, got '" + text + "'");
  return value;
}

void require(bool ok, const std::string &flag, const std::string &what, const std::string &text) {
  if (!ok)
    throw UsageError(flag + " must be " + what + ", got " + text);
}

} // namespace

std::string fmnist::usage() {
  return std::string(
             "usage: fashion-mnist-train [options]\n"
             "\n"
             "Trains a small convolutional network on Fashion-MNIST with an optfuse optimizer and\n"
             "prints the final test accuracy as `test_accuracy=0.XXXX`.\n"
             "\n"
             "  --optimizer RULE      tvlars, lars, lamb, sgd, adamw, or a bundle path (tvlars)\n"
             "  --batch-size N        examples per step (8192)\n"
             "  --epochs N            passes over the 60000 training images (10)\n"
             "  --lr X                peak learning rate (the rule's default)\n"
             "  --warmup-epochs X     linear warm-up length, then cosine decay to 0 (0).\n"
             "                        With 0: constant lr for tvlars (phi(t) is its schedule),\n"
             "                        cosine decay from the first step for the other rules\n"
             "  --weight-decay X      the rule's weight_decay (the rule's default)\n"
             "  --lambda X            tvlars: decay rate of phi per step (1e-3)\n"
             "  --alpha X             tvlars: 1/alpha is phi's plateau before the delay (0.1)\n"
             "  --delay X             tvlars: the step around which phi decays (-1)\n"
             "  --gamma-min X         tvlars: floor of phi (0). TVLARS scales its trust ratio\n"
             "                        at step t by\n"
             "                        phi(t) = 1/(alpha + exp(lambda*(t - delay))) + gamma_min\n"
             "  --exclude-1d          exclude 1-D tensors (biases, BatchNorm weights) from weight\n"
             "                        decay and from adaptation\n"
             "  --device D            cpu, cuda or cuda:N (cpu)\n"
             "  --seed N              seeds the initial weights and the shuffling (0)\n"
             "  --threads N           CPU threads; results are reproducible for a fixed N (2)\n"
             "  --data-dir DIR        the four *-ubyte.gz files (") +
         kDefaultDataDir +
         ")\n"
         "  --csv FILE            per-epoch log: epoch,train_loss,test_accuracy,lr,seconds\n"
         "  --plot FILE.png       plot test accuracy and training loss per epoch (gnuplot)\n"
         "  --help                show this text\n";
}

Options fmnist::parseOptions(int argc, char **argv) {
  Options o;
  o.dataDir = kDefaultDataDir;
  using Setter = std::function<void(const std::string &flag, const std::string &value)>;
  const std::map<std::string, Setter> valued = {
      {"--optimizer",
       [&](const std::string &f, const std::string &v) {
         require(!v.empty(), f, "a rule name or a bundle path", "''");
         o.optimizer = v;
       }},
      {"--data-dir", [&](const std::string &, const std::string &v) { o.dataDir = v; }},
      {"--batch-size",
       [&](const std::string &f, const std::string &v) {
         o.batchSize = parseInt(f, v);
         require(o.batchSize >= 1 && o.batchSize <= 60000, f, "in 1..60000", v);
       }},
      {"--epochs",
       [&](const std::string &f, const std::string &v) {
         o.epochs = parseInt(f, v);
         require(o.epochs >= 1, f, "at least 1", v);
       }},
      {"--warmup-epochs",
       [&](const std::string &f, const std::string &v) {
         o.warmupEpochs = parseDouble(f, v);
         require(o.warmupEpochs >= 0, f, "at least 0", v);
       }},
      {"--lr",
       [&](const std::string &f, const std::string &v) {
         o.lr = parseDouble(f, v);
         require(*o.lr > 0, f, "positive", v);
       }},
      {"--weight-decay",
       [&](const std::string &f, const std::string &v) {
         o.weightDecay = parseDouble(f, v);
         require(*o.weightDecay >= 0, f, "at least 0", v);
       }},
      {"--lambda",
       [&](const std::string &f, const std::string &v) { o.lambda = parseDouble(f, v); }},
      {"--alpha",
       [&](const std::string &f, const std::string &v) {
         o.alpha = parseDouble(f, v);
         require(*o.alpha >= 0, f, "at least 0", v);
       }},
      {"--delay", [&](const std::string &f, const std::string &v) { o.delay = parseDouble(f, v); }},
      {"--gamma-min",
       [&](const std::string &f, const std::string &v) {
         o.gammaMin = parseDouble(f, v);
         require(*o.gammaMin >= 0, f, "at least 0", v);
       }},
      {"--device", [&](const std::string &, const std::string &v) { o.device = v; }},
      {"--seed",
       [&](const std::string &f, const std::string &v) {
         int64_t seed = parseInt(f, v);
         require(seed >= 0, f, "at least 0", v);
         o.seed = static_cast<uint64_t>(seed);
       }},
      {"--threads",
       [&](const std::string &f, const std::string &v) {
         int64_t threads = parseInt(f, v);
         require(threads >= 1 && threads <= 1024, f, "in 1..1024", v);
         o.threads = static_cast<int>(threads);
       }},
      {"--csv",
       [&](const std::string &f, const std::string &v) {
         require(!v.empty(), f, "a file name", "''");
         o.csvPath = v;
       }},
      {"--plot",
       [&](const std::string &f, const std::string &v) {
         require(!v.empty(), f, "a file name", "''");
         o.plotPath = v;
       }},
  };

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--exclude-1d") {
      o.exclude1d = true;
      continue;
    }
    std::string flag = arg, value;
    bool inlineValue = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inlineValue = true;
    }
    auto setter = valued.find(flag);
    if (setter == valued.end()) {
      if (flag == "--exclude-1d" || flag == "--help")
        throw UsageError(flag + " takes no value");
      throw UsageError("unknown option '" + arg + "' (see --help)");
    }
    if (!inlineValue) {
      if (i + 1 == argc)
        throw UsageError(flag + " expects a value");
      value = argv[++i];
    }
    setter->second(flag, value);
  }
  if (o.warmupEpochs > static_cast<double>(o.epochs))
    throw UsageError("--warmup-epochs must not exceed --epochs (" + std::to_string(o.epochs) + ")");
  return o;
}
