//===- fashion-mnist-train.cpp - Fashion-MNIST with an optfuse optimizer --===//
//
// Trains the network of Model.h on Fashion-MNIST with optfuse::FusedOptimizer (any shipped rule or
// a bundle) and prints the final test accuracy as the last line on stdout: test_accuracy=0.XXXX.
//
// The learning rate is set on every step through the param groups' options (FusedOptions::set_lr):
// a linear warm-up over --warmup-epochs, then a cosine decay to 0 at the end of training, as the
// LARS and LAMB references schedule it. Without warm-up, TVLARS keeps its learning rate constant,
// as the TVLARS paper does (its phi(t) coefficient takes the place of the schedule), while the
// other rules decay from the first step.
//
// Runs are reproducible: the same options give the same accuracy. The initial weights come from
// torch::manual_seed(--seed), the shuffling from this file's own generator and the CPU thread count
// is fixed by --threads.
//
//===----------------------------------------------------------------------===//

#include "examples/fashion_mnist/Dataset.h"
#include "examples/fashion_mnist/Model.h"
#include "examples/fashion_mnist/Options.h"
#include "examples/fashion_mnist/Report.h"
#include "runtime/FusedOptimizer.h"

#include <torch/torch.h>

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>

using namespace fmnist;

namespace {

constexpr int64_t kEvalBatch = 2000;

/// Shuffles the training set deterministically: a Fisher-Yates shuffle driven by std::mt19937_64,
/// whose output sequence the C++ standard fixes (std::shuffle and the std distributions differ
/// between standard libraries).
class Shuffler {
public:
  explicit Shuffler(uint64_t seed) : engine_(seed) {}

  std::vector<int64_t> permutation(int64_t n) {
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[below(static_cast<uint64_t>(i) + 1)]);
    return order;
  }

private:
  /// A uniform integer in [0, bound): draws below 2^64 mod bound are rejected, so that every
  /// remainder is equally likely.
  uint64_t below(uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound;
    uint64_t draw;
    do
      draw = engine_();
    while (draw < threshold);
    return draw % bound;
  }

  std::mt19937_64 engine_;
};

/// The learning rate of step `step` (0-based) of `total`: a linear warm-up over the first `warmup`
/// steps to `peak`, then `peak` (constant) or a cosine decay from `peak` towards 0.
double scheduledLr(double peak, int64_t step, int64_t total, int64_t warmup, bool constant) {
  if (step < warmup)
    return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (constant)
    return peak;
  double progress = static_cast<double>(step - warmup) / static_cast<double>(total - warmup);
  return peak * 0.5 * (1 + std::cos(M_PI * progress));
}

/// Accuracy of `net` on `split`, in evaluation mode (BatchNorm uses its running statistics).
double evaluate(Net &net, const Split &split) {
  torch::NoGradGuard noGrad;
  net->eval();
  int64_t n = split.images.size(0), correct = 0;
  for (int64_t begin = 0; begin < n; begin += kEvalBatch) {
    int64_t end = std::min(n, begin + kEvalBatch);
    torch::Tensor predicted = net->forward(split.images.slice(0, begin, end)).argmax(1);
    correct += predicted.eq(split.labels.slice(0, begin, end)).sum().item<int64_t>();
  }
  net->train();
  return static_cast<double>(correct) / static_cast<double>(n);
}

/// Keeps freed memory in the process. A batch of 8192 images has activations of tens of megabytes;
/// glibc serves each with mmap and unmaps it when freed, so every step faults its pages in again
/// (on two CPU cores that was 40% of the run time, in the kernel). With high mmap and trim
/// thresholds, freed blocks stay in the heap for the next step.
void keepFreedMemory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

torch::Device parseDevice(const std::string &text) {
  try {
    torch::Device device(text);
    if (device.is_cuda() && !torch::cuda::is_available())
      throw std::runtime_error("--device " + text +
                               ": CUDA is not available (this LibTorch has no CUDA support, or no "
                               "GPU is visible)");
    if (device.is_cpu() || device.is_cuda())
      return device;
  } catch (const c10::Error &) {
    // Not a device name at all: reported below, as any other device but cpu and cuda.
  }
  throw UsageError("--device must be cpu, cuda or cuda:N, got '" + text + "'");
}

/// The rule's options from the command line. Every hyperparameter flag given must name a
/// hyperparameter of the rule.
optfuse::FusedOptions fusedOptions(const Options &o, const optfuse::Bundle &bundle) {
  struct HyperFlag {
    const char *flag, *name;
    std::optional<double> value;
  };
  const HyperFlag hypers[] = {
      {"--lr", "lr", o.lr},
      {"--weight-decay", "weight_decay", o.weightDecay},
      {"--lambda", "lambda", o.lambda},
      {"--alpha", "alpha", o.alpha},
      {"--delay", "delay", o.delay},
      {"--gamma-min", "gamma_min", o.gammaMin},
  };
  optfuse::FusedOptions fused;
  for (const HyperFlag &hyper : hypers) {
    if (!hyper.value)
      continue;
    if (bundle.hyperIndex(hyper.name) < 0)
      throw UsageError(std::string(hyper.flag) + " does not apply to the rule '" +
                       bundle.ruleName() + "': it has no '" + hyper.name + "' hyperparameter");
    fused.set(hyper.name, *hyper.value);
  }
  fused.exclude_1d(o.exclude1d);
  return fused;
}

/// "tvlars (lr=2 momentum=0.9 ...)": the rule and the hyperparameter values in use.
std::string describeRule(const optfuse::Bundle &bundle, const optfuse::FusedOptions &fused) {
  std::ostringstream os;
  os << bundle.ruleName() << " (";
  for (size_t i = 0; i < bundle.hypers().size(); ++i) {
    const optfuse::HyperInfo &hyper = bundle.hypers()[i];
    os << (i ? " " : "") << hyper.name << "=" << fused.get(hyper.name, hyper.defaultValue);
  }
  os << (fused.exclude_1d() ? ", 1-D tensors excluded)" : ")");
  return os.str();
}

int train(const Options &o) {
  torch::Device device = parseDevice(o.device);
  std::shared_ptr<const optfuse::Bundle> bundle;
  try {
    bundle = optfuse::Bundle::load(o.optimizer);
  } catch (const std::exception &e) {
    throw UsageError("--optimizer " + o.optimizer + ": " + e.what());
  }
  optfuse::FusedOptions fused = fusedOptions(o, *bundle);

  keepFreedMemory();
  at::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(false);
    at::globalContext().setDeterministicCuDNN(true);
  }

  Dataset data = loadDataset(o.dataDir);
  for (Split *split : {&data.train, &data.test}) {
    split->images = split->images.to(device);
    split->labels = split->labels.to(device);
  }
  Net net;
  net->to(device);
  optfuse::FusedOptimizer optimizer(net->parameters(), o.optimizer, fused);
  double peakLr = optimizer.param_groups()[0].options().get_lr();

  int64_t n = data.train.images.size(0);
  int64_t steps = (n + o.batchSize - 1) / o.batchSize;
  int64_t total = steps * o.epochs;
  int64_t warmup = std::llround(o.warmupEpochs * static_cast<double>(steps));
  bool constant = bundle->ruleName() == "tvlars" && warmup == 0;
  std::cerr << "fashion-mnist-train: " << describeRule(*bundle, fused) << "\n"
            << "  " << o.epochs << " epochs of " << steps << " steps (batch " << o.batchSize
            << "), lr " << peakLr
            << (warmup ? ", warm-up " + std::to_string(warmup) + " steps" : std::string())
            << (constant ? ", constant" : ", cosine decay") << "; " << device << ", " << o.threads
            << " threads, seed " << o.seed << std::endl;

  std::optional<CsvLog> csv;
  if (!o.csvPath.empty())
    csv.emplace(o.csvPath);
  if (!o.plotPath.empty())
    checkPlotPath(o.plotPath);
  Shuffler shuffler(o.seed);
  std::vector<EpochResult> results;
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    torch::Tensor order = torch::tensor(shuffler.permutation(n), torch::kInt64).to(device);
    ProgressBar bar(epoch, o.epochs, steps);
    EpochResult result;
    result.epoch = epoch;
    double lossSum = 0;
    for (int64_t step = 0; step < steps; ++step) {
      result.lr = scheduledLr(peakLr, (epoch - 1) * steps + step, total, warmup, constant);
      for (torch::optim::OptimizerParamGroup &group : optimizer.param_groups())
        group.options().set_lr(result.lr);
      torch::Tensor batch = order.slice(0, step * o.batchSize, (step + 1) * o.batchSize);
      torch::Tensor images = data.train.images.index_select(0, batch);
      torch::Tensor labels = data.train.labels.index_select(0, batch);

      optimizer.zero_grad();
      torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(images), labels);
      loss.backward();
      optimizer.step();

      double value = loss.item<double>();
      if (!std::isfinite(value))
        throw std::runtime_error("the training loss is " + std::to_string(value) + " at epoch " +
                                 std::to_string(epoch) + ", step " + std::to_string(step + 1) +
                                 ": training diverged (try a lower --lr)");
      lossSum += value * static_cast<double>(batch.size(0));
      bar.update(step + 1, lossSum / static_cast<double>(std::min(n, (step + 1) * o.batchSize)));
    }
    result.trainLoss = lossSum / static_cast<double>(n);
    result.testAccuracy = evaluate(net, data.test);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.finish(result);
    if (csv)
      csv->write(result);
    results.push_back(result);
  }

  if (!o.plotPath.empty()) {
    std::ostringstream title;
    title << "Fashion-MNIST: " << bundle->ruleName() << ", batch " << o.batchSize << ", lr "
          << peakLr << ", seed " << o.seed;
    plotRun(o.plotPath, title.str(), results);
  }
  std::cout << "test_accuracy=" << std::fixed << std::setprecision(4) << results.back().testAccuracy
            << std::endl;
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    Options options = parseOptions(argc, argv);
    if (options.help) {
      std::cout << usage();
      return 0;
    }
    return train(options);
  } catch (const UsageError &e) {
    std::cerr << "fashion-mnist-train: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error &e) {
    std::cerr << "fashion-mnist-train: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "fashion-mnist-train: " << e.what() << "\n";
    return 1;
  }
}
