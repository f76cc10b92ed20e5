//===- optfuse-bench.cpp - Fused optimizer steps against LibTorch and memory bandwidth ---===//
//
// optfuse-bench times one optimizer step of a compiled rule run by optfuse::FusedOptimizer against
// the same rule written with LibTorch ops (one parameter at a time, and with the multi-tensor
// foreach ops), on parameter sets shaped like real models, and against the floor that memory
// bandwidth sets: a STREAM-style triad measured in the same run gives the time the rule's minimum
// traffic takes. Before timing a case it steps every implementation twice from identical inputs
// and checks that they agree.
//
//===----------------------------------------------------------------------===//

#include "bench/ParamSets.h"
#include "bench/TorchRules.h"
#include "runtime/Bundle.h"
#include "runtime/FusedOptimizer.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <sys/resource.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>

using namespace optfuse::bench;

namespace {

const char *const kUsage = R"(usage: optfuse-bench [options]

Times one optimizer step of each rule on each parameter set with each implementation, and
compares the times with the memory-bandwidth floor measured by a triad probe in the same run.

Parameter sets (random values; weights normal with std 1/sqrt(fan-in), norm weights 1, biases 0,
gradients normal with std 1e-3):
  --model LIST       comma-separated: resnet18 (62 tensors, 11.7M parameters), resnet50 (161,
                     25.6M), bert-large (391, 335M), or all. The real models' parameter shapes
                     (torchvision ResNets, BertModel for bert-large-uncased with its pooler).
                     Default: resnet50, unless --tensors is given.
  --tensors N        add a synthetic set of N 1-D tensors ...
  --numel M          ... of M elements each (both options go together)
  --list             print the parameter sets' sizes and exit

Rules and implementations:
  --rule LIST        comma-separated: tvlars, lars, lamb, sgd, adamw, all, or the path of a
                     bundle (.so). Default: tvlars. Each rule runs with its defaults (see the
                     specs); torch-loop and torch-foreach exist for the shipped rules only.
  --set NAME=VALUE   change a hyperparameter (bools as 0/1) in every selected rule that has it;
                     repeatable
  --impl LIST        comma-separated: fused (optfuse::FusedOptimizer), torch-loop (LibTorch ops
                     one parameter at a time, as the reference code does it), torch-foreach
                     (LibTorch's at::_foreach_* multi-tensor ops), or all. Default: all

Machine:
  --device cpu|cuda  where the tensors live (default cpu); cuda needs a CUDA-enabled LibTorch
  --threads N        intra-op threads (at::set_num_threads) for every implementation and the
                     probe (default: LibTorch's default, here %d)

Measurement:
  --reps N           time at least N steps per implementation (default 10) ...
  --min-time S       ... and at least S seconds of steps (default 1)
  --warmup N         untimed steps before timing (default 1)
  --probe-mib N      size of each of the probe's three buffers in MiB (default 1024); make it
                     much larger than the last-level cache
  --seed N           seed of the random parameters and gradients (default 1)
  --csv FILE         write one row per case and implementation to FILE, columns
                     rule,model,device,impl,params,tensors,ms_median,ms_min,bytes_per_param,
                     gb_per_s,floor_ratio
  --help             print this help and exit

Each case first steps every implementation twice from the same parameters and gradients and
compares the parameters with the first implementation's (fused when selected): a relative error
(max |a - e| / max |e| per tensor) above 1e-4 fails the case, which is then not timed. With more
than one CPU thread the fused results must also be bitwise identical to a run on one thread.

Per case and implementation the tool reports the median and minimum time of a step; the achieved
bandwidth, the rule's minimum bytes per parameter (every buffer read once, every output written
once: 20 for tvlars, lars and sgd, 28 for lamb and adamw) times the parameters over the median
time; floor_ratio, the median time over the time the minimum bytes take at the probe's best
bandwidth; and how much faster fused is. The probe runs the triad twice: with streaming stores
(CPU only), which move exactly the 12 bytes per element counted, and as LibTorch's add_out,
whose stores first read the line they write; the floor takes the faster of the two. Progress
goes to standard error; the 1-minute load average is printed at the start and the end, since
other processes on the cores distort every figure. On a machine shared with other processes,
OMP_WAIT_POLICY=PASSIVE stops LibTorch's OpenMP threads from spinning at every op while a
partner thread waits for a core, which otherwise slows the LibTorch implementations many times.

Exit status: 0 when every case passed its checks, 1 when one failed or a run error occurred,
2 for a bad command line.
)";

const std::vector<std::string> kShippedRules = {"tvlars", "lars", "lamb", "sgd", "adamw"};
const std::vector<std::string> kImpls = {"fused", "torch-loop", "torch-foreach"};
constexpr double kTolerance = 1e-4;

/// A bad command line (exit status 2).
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct Options {
  std::vector<std::string> models, rules, impls;
  int64_t tensors = 0, numel = 0;
  Hypers overrides;
  std::string device = "cpu", csv;
  int threads = 0, reps = 10, warmup = 1;
  double minTime = 1.0;
  int64_t probeMiB = 1024;
  uint64_t seed = 1;
  bool list = false;
};

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ','))
    if (!item.empty())
      items.push_back(item);
  return items;
}

std::string joinList(const std::vector<std::string> &items) {
  std::string text;
  for (const std::string &item : items)
    text += (text.empty() ? "" : ", ") + item;
  return text;
}

int64_t parseInteger(const std::string &option, const std::string &text, int64_t lowest) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(option + " expects an integer, got '" + text + "'");
  if (value < lowest)
    throw UsageError(option + " must be at least " + std::to_string(lowest) + ", got " + text);
  return value;
}

double parseNumber(const std::string &option, const std::string &text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(option + " expects a number, got '" + text + "'");
  return value;
}

bool isBundlePath(const std::string &rule) {
  return rule.find('/') != std::string::npos ||
         (rule.size() > 3 && rule.compare(rule.size() - 3, 3, ".so") == 0);
}

Options parseOptions(int argc, char **argv) {
  Options options;
  bool implsGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], inlineValue;
    bool hasInline = false;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      inlineValue = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      hasInline = true;
    }
    auto value = [&]() -> std::string {
      if (hasInline)
        return inlineValue;
      if (i + 1 >= argc)
        throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    auto noValue = [&]() {
      if (hasInline)
        throw UsageError(arg + " takes no value");
    };
    if (arg == "--help" || arg == "-h") {
      noValue();
      std::printf(kUsage, at::get_num_threads());
      std::exit(0);
    } else if (arg == "--model") {
      for (const std::string &model : splitList(value())) {
        if (model == "all") {
          for (const std::string &name : modelNames())
            options.models.push_back(name);
          continue;
        }
        std::vector<std::string> known = modelNames();
        if (std::find(known.begin(), known.end(), model) == known.end())
          throw UsageError("unknown model '" + model + "' (known: " + joinList(known) +
                           ", all; or --tensors N --numel M)");
        options.models.push_back(model);
      }
    } else if (arg == "--tensors") {
      options.tensors = parseInteger(arg, value(), 1);
    } else if (arg == "--numel") {
      options.numel = parseInteger(arg, value(), 1);
    } else if (arg == "--list") {
      noValue();
      options.list = true;
    } else if (arg == "--rule") {
      for (const std::string &rule : splitList(value())) {
        if (rule == "all") {
          options.rules.insert(options.rules.end(), kShippedRules.begin(), kShippedRules.end());
        } else if (isBundlePath(rule) || std::find(kShippedRules.begin(), kShippedRules.end(),
                                                   rule) != kShippedRules.end()) {
          options.rules.push_back(rule);
        } else {
          throw UsageError("unknown rule '" + rule + "' (shipped: " + joinList(kShippedRules) +
                           ", all; or the path of a bundle)");
        }
      }
    } else if (arg == "--set") {
      std::string assignment = value();
      size_t equals = assignment.find('=');
      if (equals == std::string::npos || equals == 0)
        throw UsageError("--set expects NAME=VALUE, got '" + assignment + "'");
      options.overrides[assignment.substr(0, equals)] =
          parseNumber("--set " + assignment.substr(0, equals), assignment.substr(equals + 1));
    } else if (arg == "--impl") {
      implsGiven = true;
      for (const std::string &impl : splitList(value())) {
        if (impl == "all") {
          options.impls = kImpls;
          continue;
        }
        if (std::find(kImpls.begin(), kImpls.end(), impl) == kImpls.end())
          throw UsageError("unknown implementation '" + impl + "' (known: " + joinList(kImpls) +
                           ", all)");
        options.impls.push_back(impl);
      }
    } else if (arg == "--device") {
      options.device = value();
      if (options.device != "cpu" && options.device != "cuda")
        throw UsageError("--device must be cpu or cuda, got '" + options.device + "'");
    } else if (arg == "--threads") {
      options.threads = static_cast<int>(parseInteger(arg, value(), 1));
    } else if (arg == "--reps") {
      options.reps = static_cast<int>(parseInteger(arg, value(), 1));
    } else if (arg == "--min-time") {
      options.minTime = parseNumber(arg, value());
      if (options.minTime < 0)
        throw UsageError("--min-time must not be negative");
    } else if (arg == "--warmup") {
      options.warmup = static_cast<int>(parseInteger(arg, value(), 0));
    } else if (arg == "--probe-mib") {
      options.probeMiB = parseInteger(arg, value(), 1);
    } else if (arg == "--seed") {
      options.seed = static_cast<uint64_t>(parseInteger(arg, value(), 0));
    } else if (arg == "--csv") {
      options.csv = value();
      if (options.csv.empty())
        throw UsageError("--csv needs a file name");
    } else {
      throw UsageError("unknown option '" + std::string(argv[i]) + "'");
    }
  }
  if ((options.tensors == 0) != (options.numel == 0))
    throw UsageError("--tensors and --numel go together");
  if (options.models.empty() && options.tensors == 0)
    options.models.push_back("resnet50");
  if (options.rules.empty())
    options.rules.push_back("tvlars");
  if (!implsGiven)
    options.impls = kImpls;
  if (options.impls.empty())
    throw UsageError("--impl names no implementation");
  return options;
}

/// A rule as the cases run it.
struct RuleSetup {
  std::string arg; // as given: a shipped rule's name or a bundle path
  std::shared_ptr<const optfuse::Bundle> bundle;
  Hypers hypers;         // the value of every hyperparameter of the bundle
  bool hasTorch = false; // torch-loop and torch-foreach implement it
  int64_t minBytes = 0;  // per parameter: every buffer read once, every output written once
  int64_t planBytes = 0; // per parameter: the sum over the plan's sweeps
};

/// Loads a rule's bundle and settles its hyperparameters: the shipped rules' exact defaults
/// (the bundle stores them as float), then the overrides that name one of its hyperparameters.
RuleSetup setupRule(const std::string &arg, const Hypers &overrides) {
  RuleSetup rule;
  rule.arg = arg;
  try {
    rule.bundle = optfuse::Bundle::load(arg);
  } catch (const std::exception &e) {
    // A bundle path the user gave is a bad command line; a shipped rule that does not load is
    // a broken build or installation.
    if (isBundlePath(arg))
      throw UsageError(std::string("--rule: ") + e.what());
    throw;
  }
  const optfuse::Bundle &bundle = *rule.bundle;
  Hypers known = torchRuleDefaults(bundle.ruleName());
  rule.hasTorch = !known.empty() && known.size() == bundle.hypers().size();
  for (const optfuse::HyperInfo &hyper : bundle.hypers()) {
    auto it = known.find(hyper.name);
    rule.hypers[hyper.name] = hyper.defaultValue;
    if (it == known.end())
      rule.hasTorch = false;
    else if (static_cast<float>(it->second) == hyper.defaultValue)
      rule.hypers[hyper.name] = it->second;
  }
  for (const auto &[name, value] : overrides)
    if (bundle.hyperIndex(name) >= 0)
      rule.hypers[name] = value;
  int64_t buffers = static_cast<int64_t>(bundle.buffers().size());
  rule.minBytes = 4 * (2 * buffers - 1);
  for (const optfuse::SweepInfo &sweep : bundle.sweeps())
    rule.planBytes += sweep.bytesPerElement;
  return rule;
}

/// One implementation stepping its own copy of the parameters with the shared gradients.
class Stepper {
public:
  virtual ~Stepper() = default;
  virtual void step() = 0;
  virtual const std::vector<torch::Tensor> &params() const = 0;
};

class FusedStepper : public Stepper {
public:
  FusedStepper(const RuleSetup &rule, const ParamData &data) {
    for (size_t i = 0; i < data.params.size(); ++i) {
      params_.push_back(data.params[i].clone().requires_grad_(true));
      params_.back().mutable_grad() = data.grads[i];
    }
    optfuse::FusedOptions options;
    for (const auto &[name, value] : rule.hypers)
      options.set(name, value);
    optimizer_ = std::make_unique<optfuse::FusedOptimizer>(params_, rule.arg, options);
  }
  void step() override { optimizer_->step(); }
  const std::vector<torch::Tensor> &params() const override { return params_; }

private:
  std::vector<torch::Tensor> params_;
  std::unique_ptr<optfuse::FusedOptimizer> optimizer_;
};

class TorchStepper : public Stepper {
public:
  TorchStepper(const RuleSetup &rule, TorchRule::Style style, const ParamData &data)
      : rule_(rule.bundle->ruleName(), style, rule.hypers, clones(data.params), data.grads) {}
  void step() override { rule_.step(); }
  const std::vector<torch::Tensor> &params() const override { return rule_.params(); }

private:
  static std::vector<torch::Tensor> clones(const std::vector<torch::Tensor> &tensors) {
    std::vector<torch::Tensor> copies;
    copies.reserve(tensors.size());
    for (const torch::Tensor &tensor : tensors)
      copies.push_back(tensor.clone());
    return copies;
  }
  TorchRule rule_;
};

std::unique_ptr<Stepper> makeStepper(const std::string &impl, const RuleSetup &rule,
                                     const ParamData &data) {
  if (impl == "fused")
    return std::make_unique<FusedStepper>(rule, data);
  return std::make_unique<TorchStepper>(
      rule, impl == "torch-loop" ? TorchRule::Style::Loop : TorchRule::Style::Foreach, data);
}

void synchronize(const torch::Device &device) {
  if (device.is_cuda())
    torch::cuda::synchronize();
}

using Clock = std::chrono::steady_clock;

/// The 1-minute load average, or -1 where /proc/loadavg cannot be read.
double loadAverage() {
  std::ifstream file("/proc/loadavg");
  double load = -1;
  file >> load;
  return file ? load : -1;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Timing {
  double medianMs = 0, minMs = 0;
  int64_t reps = 0;
};

/// Times `body` at least `options.reps` times and for at least `options.minTime` seconds, each
/// run between two device synchronisations.
Timing timeRuns(const std::function<void()> &body, const Options &options,
                const torch::Device &device, const std::string &label) {
  std::vector<double> ms;
  Clock::time_point start = Clock::now(), lastReport = start;
  while (static_cast<int>(ms.size()) < options.reps || secondsSince(start) < options.minTime) {
    synchronize(device);
    Clock::time_point begin = Clock::now();
    body();
    synchronize(device);
    ms.push_back(secondsSince(begin) * 1e3);
    if (secondsSince(lastReport) >= 10) {
      std::fprintf(stderr, "  %s: %zu runs, %.0f s\n", label.c_str(), ms.size(),
                   secondsSince(start));
      lastReport = Clock::now();
    }
  }
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  Timing timing;
  timing.medianMs = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  timing.minMs = ms.front();
  timing.reps = static_cast<int64_t>(n);
  return timing;
}

/// The STREAM triad a = b + s*c over `n` floats (a multiple of 16, 16-byte aligned buffers),
/// spread over the intra-op threads. On x86-64 the stores bypass the caches (movntps), so that
/// each element moves exactly the 12 bytes counted, as an optimizer step's writes to the lines it
/// has just read do; a plain store would first read a's line (16 bytes moved per element).
void streamingTriad(float *a, const float *b, const float *c, float s, int64_t n) {
  at::parallel_for(0, n / 16, 4096, [&](int64_t begin, int64_t end) {
#if defined(__SSE2__)
    __m128 scale = _mm_set1_ps(s);
    for (int64_t i = begin * 16; i < end * 16; i += 4)
      _mm_stream_ps(a + i, _mm_add_ps(_mm_load_ps(b + i), _mm_mul_ps(scale, _mm_load_ps(c + i))));
    _mm_sfence();
#else
    for (int64_t i = begin * 16; i < end * 16; ++i)
      a[i] = b[i] + s * c[i];
#endif
  });
}

/// Memory bandwidth from the triad over three buffers, in GB/s counting 3 x 4 bytes per element:
/// the best and the median run.
struct Bandwidth {
  double bestGBs = 0, medianGBs = 0;
};

/// The probe: the triad with streaming stores (CPU only) and LibTorch's own a = b + s*c
/// (add_out, whose stores first read the line they write). The floor takes the faster one.
struct Probe {
  Bandwidth streaming, torch;
  double floorGBs() const { return std::max(streaming.bestGBs, torch.bestGBs); }
};

Probe runProbe(const Options &options, const torch::Device &device) {
  int64_t n = options.probeMiB * (int64_t(1) << 20) / 4;
  auto floats = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor a = torch::zeros({n}, floats), b = torch::full({n}, 1.0f, floats),
                c = torch::full({n}, 2.0f, floats);
  auto bandwidth = [&](const Timing &timing) {
    double bytes = 12.0 * double(n);
    return Bandwidth{bytes / (timing.minMs * 1e6), bytes / (timing.medianMs * 1e6)};
  };
  Probe probe;
  probe.torch = bandwidth(
      timeRuns([&] { torch::add_out(a, b, c, 3.0); }, options, device, "bandwidth probe"));
  if (device.is_cpu())
    probe.streaming = bandwidth(timeRuns(
        [&] {
          streamingTriad(a.data_ptr<float>(), b.data_ptr<float>(), c.data_ptr<float>(), 3.0f, n);
        },
        options, device, "bandwidth probe"));
  return probe;
}

/// A digest of the bytes of a list of float tensors (FNV-1a over 32-bit words).
uint64_t digest(const std::vector<torch::Tensor> &tensors) {
  uint64_t hash = 14695981039346656037ull;
  for (const torch::Tensor &tensor : tensors) {
    torch::Tensor host = tensor.detach().to(torch::kCPU).contiguous();
    const auto *words = static_cast<const uint32_t *>(host.data_ptr());
    for (int64_t i = 0; i < host.numel(); ++i)
      hash = (hash ^ words[i]) * 1099511628211ull;
  }
  return hash;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// The largest per-tensor relative error of `actual` against `expected` and where it occurs.
struct Mismatch {
  double error = 0;
  size_t tensor = 0;
};

Mismatch compareParams(const std::vector<torch::Tensor> &actual,
                       const std::vector<torch::Tensor> &expected) {
  torch::NoGradGuard noGrad;
  Mismatch worst;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].numel() == 0)
      continue;
    double scale = std::max(expected[i].abs().max().item<double>(), 1e-30);
    double error = (actual[i] - expected[i]).abs().max().item<double>() / scale;
    if (std::isnan(error))
      return {error, i};
    if (error > worst.error)
      worst = {error, i};
  }
  return worst;
}

std::vector<torch::Tensor> detached(const std::vector<torch::Tensor> &tensors) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor &tensor : tensors)
    copies.push_back(tensor.detach());
  return copies;
}

/// Prints a line to standard output and to standard error, for failures that must not go unseen.
void shout(const std::string &line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", line.c_str());
}

struct CaseContext {
  const Options &options;
  const torch::Device device;
  int threads;
  Probe probe;
  std::ofstream *csv;
};

/// Sets the intra-op thread count for its lifetime.
class ThreadCountScope {
public:
  explicit ThreadCountScope(int threads) : saved_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~ThreadCountScope() { at::set_num_threads(saved_); }

private:
  int saved_;
};

/// One rule on one parameter set, with the implementations that can run it (fused first).
struct Case {
  const RuleSetup &rule;
  const ParamSet &set;
  const ParamData &data;
  uint64_t gradDigest;
  std::vector<std::string> impls;
  std::string progress;

  std::string label() const { return rule.bundle->ruleName() + " on " + set.name; }
};

/// Steps every implementation twice from the same inputs and compares the parameters with the
/// first implementation's; prints the errors and shouts every failure. Returns whether all passed.
bool checkCase(const CaseContext &context, const Case &c) {
  bool passed = true;
  auto fail = [&](const std::string &what) {
    shout("*** CHECK FAILED: " + c.label() + ": " + what);
    passed = false;
  };
  auto twoSteps = [&](const std::string &impl) {
    std::fprintf(stderr, "%s: checking %s on %d thread%s\n", c.progress.c_str(), impl.c_str(),
                 at::get_num_threads(), at::get_num_threads() == 1 ? "" : "s");
    std::unique_ptr<Stepper> stepper = makeStepper(impl, c.rule, c.data);
    stepper->step();
    stepper->step();
    std::vector<torch::Tensor> params = detached(stepper->params());
    if (digest(c.data.grads) != c.gradDigest)
      fail(impl + " changed the gradients");
    return params;
  };

  const std::string &reference = c.impls.front();
  std::vector<torch::Tensor> expected = twoSteps(reference);
  std::string threadsLine;
  if (reference == "fused" && context.device.is_cpu() && context.threads > 1) {
    std::vector<torch::Tensor> serial;
    {
      ThreadCountScope oneThread(1);
      serial = twoSteps("fused");
    }
    bool identical = true;
    for (size_t i = 0; i < expected.size() && identical; ++i)
      identical = torch::equal(serial[i], expected[i]);
    std::string threads = std::to_string(context.threads);
    if (identical)
      threadsLine = "; fused bitwise identical on 1 and " + threads + " threads";
    else
      fail("fused results differ between 1 and " + threads + " threads");
  }
  std::string errors;
  for (size_t k = 1; k < c.impls.size(); ++k) {
    Mismatch worst = compareParams(twoSteps(c.impls[k]), expected);
    const ParamSpec &spec = c.set.params[worst.tensor];
    char text[64];
    std::snprintf(text, sizeof(text), " %.1e (", worst.error);
    errors += (errors.empty() ? "" : ", ") + c.impls[k] + text + spec.name + ")";
    if (!(worst.error <= kTolerance)) {
      std::snprintf(text, sizeof(text), "%.3e", worst.error);
      fail("after 2 steps " + c.impls[k] + " differs from " + reference + " by " + text +
           " (tolerance 1e-4) in " + spec.name + " " + shapeText(spec.shape));
    }
  }
  std::printf("   check after 2 steps, max relative error per tensor vs %s: %s%s\n",
              reference.c_str(), errors.empty() ? "(nothing to compare)" : errors.c_str(),
              threadsLine.c_str());
  return passed;
}

/// Times every implementation of a case (each one's copies exist only while it runs) and prints
/// the table and the CSV rows.
void timeCase(const CaseContext &context, const Case &c, double floorMs) {
  const Options &options = context.options;
  std::vector<Timing> timings;
  for (const std::string &impl : c.impls) {
    std::fprintf(stderr, "%s: timing %s\n", c.progress.c_str(), impl.c_str());
    std::unique_ptr<Stepper> stepper = makeStepper(impl, c.rule, c.data);
    for (int i = 0; i < options.warmup; ++i)
      stepper->step();
    timings.push_back(
        timeRuns([&] { stepper->step(); }, options, context.device, c.progress + " " + impl));
  }

  int64_t params = c.set.numel(), tensors = static_cast<int64_t>(c.set.params.size());
  int64_t bytes = c.rule.minBytes;
  std::printf("   %-14s %6s %11s %10s %9s %12s %15s\n", "impl", "steps", "ms median", "ms min",
              "GB/s", "floor ratio", "fused speed-up");
  double fusedMs = c.impls.front() == "fused" ? timings.front().medianMs : 0;
  for (size_t k = 0; k < c.impls.size(); ++k) {
    const Timing &timing = timings[k];
    double gbPerS = double(bytes) * double(params) / (timing.medianMs * 1e6);
    double floorRatio = timing.medianMs / floorMs;
    char speedup[32] = "-";
    if (fusedMs > 0 && c.impls[k] != "fused")
      std::snprintf(speedup, sizeof(speedup), "%.2fx", timing.medianMs / fusedMs);
    std::printf("   %-14s %6lld %11.3f %10.3f %9.2f %12.2f %15s\n", c.impls[k].c_str(),
                static_cast<long long>(timing.reps), timing.medianMs, timing.minMs, gbPerS,
                floorRatio, speedup);
    if (context.csv) {
      char row[512];
      std::snprintf(row, sizeof(row), "%s,%s,%s,%s,%lld,%lld,%.4f,%.4f,%lld,%.3f,%.4f\n",
                    c.rule.bundle->ruleName().c_str(), c.set.name.c_str(), options.device.c_str(),
                    c.impls[k].c_str(), static_cast<long long>(params),
                    static_cast<long long>(tensors), timing.medianMs, timing.minMs,
                    static_cast<long long>(bytes), gbPerS, floorRatio);
      *context.csv << row << std::flush;
    }
  }
  std::fflush(stdout);
}

/// Checks and times one rule on one parameter set. Returns false when a check failed.
bool runCase(const CaseContext &context, const RuleSetup &rule, const ParamSet &set,
             const ParamData &data, uint64_t gradDigest, const std::string &progress) {
  const Options &options = context.options;
  Case c{rule, set, data, gradDigest, {}, progress};
  int64_t params = set.numel();
  double floorMs = double(rule.minBytes) * double(params) / (context.probe.floorGBs() * 1e6);
  size_t sweeps = rule.bundle->sweeps().size();
  std::printf("\n== %s (%s, %d thread%s): %zu tensors, %lld parameters\n", c.label().c_str(),
              options.device.c_str(), context.threads, context.threads == 1 ? "" : "s",
              set.params.size(), static_cast<long long>(params));
  std::printf("   minimum traffic %lld B/param = %.1f MB/step, %.3f ms at %.1f GB/s; fused plan: "
              "%zu sweep%s, %lld B/param if every sweep streams from memory\n",
              static_cast<long long>(rule.minBytes), double(rule.minBytes) * params / 1e6, floorMs,
              context.probe.floorGBs(), sweeps, sweeps == 1 ? "" : "s",
              static_cast<long long>(rule.planBytes));

  for (const std::string &impl : kImpls) {
    if (std::find(options.impls.begin(), options.impls.end(), impl) == options.impls.end())
      continue;
    if (impl != "fused" && !rule.hasTorch)
      std::printf("   %s: no LibTorch implementation of this rule, skipped\n", impl.c_str());
    else
      c.impls.push_back(impl);
  }
  if (c.impls.empty())
    return true;
  if (!checkCase(context, c)) {
    shout("*** " + c.label() + " is not timed: its check failed");
    return false;
  }
  timeCase(context, c, floorMs);
  return true;
}

int run(int argc, char **argv) {
  Options options = parseOptions(argc, argv);

  std::vector<ParamSet> sets;
  for (const std::string &model : options.models)
    sets.push_back(modelParamSet(model));
  if (options.tensors > 0)
    sets.push_back(syntheticParamSet(options.tensors, options.numel));
  if (options.list) {
    for (const ParamSet &set : sets)
      std::printf("%s: %zu tensors, %lld parameters\n", set.name.c_str(), set.params.size(),
                  static_cast<long long>(set.numel()));
    return 0;
  }

  if (options.device == "cuda" && !torch::cuda::is_available())
    throw std::runtime_error("--device cuda: CUDA is not available (this LibTorch was built "
                             "without CUDA, or no GPU is visible)");

  std::vector<RuleSetup> rules;
  for (const std::string &arg : options.rules)
    rules.push_back(setupRule(arg, options.overrides));
  for (const auto &entry : options.overrides) {
    bool used = std::any_of(rules.begin(), rules.end(), [&](const RuleSetup &rule) {
      return rule.bundle->hyperIndex(entry.first) >= 0;
    });
    if (!used)
      throw UsageError("--set " + entry.first + ": no selected rule has this hyperparameter");
  }

  std::unique_ptr<std::ofstream> csv;
  if (!options.csv.empty()) {
    csv = std::make_unique<std::ofstream>(options.csv);
    if (!*csv)
      throw UsageError("--csv: cannot write '" + options.csv + "'");
    *csv << "rule,model,device,impl,params,tensors,ms_median,ms_min,bytes_per_param,gb_per_s,"
            "floor_ratio\n";
  }

  torch::Device device(options.device == "cuda" ? torch::kCUDA : torch::kCPU);
  if (options.threads > 0)
    at::set_num_threads(options.threads);
  int threads = at::get_num_threads();

  const char *waitPolicy = std::getenv("OMP_WAIT_POLICY");
  std::printf("optfuse-bench: LibTorch %s, device %s, %d intra-op thread%s, OMP_WAIT_POLICY %s, "
              "load average %.2f\n",
              TORCH_VERSION, options.device.c_str(), threads, threads == 1 ? "" : "s",
              waitPolicy ? waitPolicy : "unset", loadAverage());
  std::fprintf(stderr, "bandwidth probe: triad over 3 x %lld MiB\n",
               static_cast<long long>(options.probeMiB));
  Probe probe = runProbe(options, device);
  std::printf("bandwidth probe, triad a = b + s*c over 3 x %lld MiB counting 12 B/element, best "
              "(median): ",
              static_cast<long long>(options.probeMiB));
  if (device.is_cpu())
    std::printf("streaming stores %.1f (%.1f) GB/s, ", probe.streaming.bestGBs,
                probe.streaming.medianGBs);
  std::printf("LibTorch add_out %.1f (%.1f) GB/s; floor bandwidth %.1f GB/s\n", probe.torch.bestGBs,
              probe.torch.medianGBs, probe.floorGBs());
  std::fflush(stdout);

  CaseContext context{options, device, threads, probe, csv.get()};
  size_t cases = sets.size() * rules.size(), caseIndex = 0, failed = 0;
  for (const ParamSet &set : sets) {
    std::fprintf(stderr, "generating %s: %zu tensors, %lld parameters\n", set.name.c_str(),
                 set.params.size(), static_cast<long long>(set.numel()));
    ParamData data = makeParamData(set, options.seed, device);
    uint64_t gradDigest = digest(data.grads);
    for (const RuleSetup &rule : rules) {
      ++caseIndex;
      std::string progress = "[" + std::to_string(caseIndex) + "/" + std::to_string(cases) + "] " +
                             rule.bundle->ruleName() + " on " + set.name;
      try {
        if (!runCase(context, rule, set, data, gradDigest, progress))
          ++failed;
      } catch (const std::exception &e) {
        shout("*** " + progress + " failed: " + e.what());
        ++failed;
      }
    }
  }

  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("\n%zu case%s, %zu failed; peak memory %.2f GiB; load average %.2f\n", cases,
              cases == 1 ? "" : "s", failed, double(usage.ru_maxrss) / (1 << 20), loadAverage());
  return failed ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "optfuse-bench: error: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "optfuse-bench: error: %s\n", e.what());
    return 1;
  }
}
