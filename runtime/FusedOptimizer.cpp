//===- FusedOptimizer.cpp - Compiled rules as a torch::optim::Optimizer ---===//

#include "runtime/FusedOptimizer.h"
#include "runtime/CpuExecutor.h"
#include "runtime/CudaExecutor.h"

#include <torch/torch.h>
#ifdef OPTFUSE_TORCH_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <type_traits>

using namespace optfuse;

namespace {

/// Per-parameter state: the rule's state buffers, in the rule's order.
struct FusedParamState : torch::optim::OptimizerCloneableParamState<FusedParamState> {
  std::vector<torch::Tensor> buffers;
};

std::string shapeOf(const torch::Tensor &t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

/// "group 0, parameter 3 ([64, 3, 7, 7])": how errors name a parameter.
std::string describe(size_t group, size_t index, const torch::Tensor &param) {
  return "group " + std::to_string(group) + ", parameter " + std::to_string(index) + " (" +
         shapeOf(param) + ")";
}

[[noreturn]] void fail(const std::string &message) {
  throw std::runtime_error("optfuse: " + message);
}

/// The key of a parameter in Optimizer::state_ (a string in LibTorch 1.x, a pointer in 2.x).
template <typename Key> Key stateKey(const torch::Tensor &param) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << static_cast<const void *>(param.unsafeGetTensorImpl());
    return os.str();
  } else {
    return param.unsafeGetTensorImpl();
  }
}

/// The caller's CUDA stream: LibTorch's current stream when LibTorch has CUDA, the default
/// stream otherwise.
void *currentStream(const torch::Device &device) {
#ifdef OPTFUSE_TORCH_CUDA
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
#else
  (void)device;
  return nullptr;
#endif
}

std::string validNames(const Bundle &bundle) {
  std::string names;
  for (const HyperInfo &hyper : bundle.hypers())
    names += (names.empty() ? "" : ", ") + hyper.name;
  return names;
}

} // namespace

//===----------------------------------------------------------------------===//
// FusedOptions
//===----------------------------------------------------------------------===//

FusedOptions &FusedOptions::set(const std::string &name, double value) {
  hypers_[name] = value;
  return *this;
}

double FusedOptions::get(const std::string &name, double fallback) const {
  auto it = hypers_.find(name);
  return it == hypers_.end() ? fallback : it->second;
}

FusedOptions &FusedOptions::exclude_from_decay(bool on) {
  excludeDecay_ = on;
  return *this;
}

FusedOptions &FusedOptions::exclude_from_adaptation(bool on) {
  excludeAdapt_ = on;
  return *this;
}

FusedOptions &FusedOptions::exclude_1d(bool on) {
  exclude1d_ = on;
  return *this;
}

double FusedOptions::get_lr() const { return get("lr", NAN); }

void FusedOptions::set_lr(const double lr) { hypers_["lr"] = lr; }

void FusedOptions::serialize(torch::serialize::OutputArchive &archive) const {
  c10::List<std::string> names;
  std::vector<double> values;
  for (const auto &[name, value] : hypers_) {
    names.push_back(name);
    values.push_back(value);
  }
  archive.write("hyper_names", c10::IValue(names));
  archive.write("hyper_values", torch::tensor(values, torch::kFloat64));
  archive.write("exclude_decay", c10::IValue(excludeDecay_));
  archive.write("exclude_adapt", c10::IValue(excludeAdapt_));
  archive.write("exclude_1d", c10::IValue(exclude1d_));
}

void FusedOptions::serialize(torch::serialize::InputArchive &archive) {
  c10::IValue names, decay, adapt, oneD;
  torch::Tensor values;
  archive.read("hyper_names", names);
  archive.read("hyper_values", values);
  archive.read("exclude_decay", decay);
  archive.read("exclude_adapt", adapt);
  archive.read("exclude_1d", oneD);
  auto list = names.toList();
  if (values.numel() != static_cast<int64_t>(list.size()))
    fail("corrupt optimizer options: hyperparameter names and values differ in number");
  hypers_.clear();
  for (size_t i = 0; i < list.size(); ++i)
    hypers_[list.get(i).toStringRef()] = values[i].item<double>();
  excludeDecay_ = decay.toBool();
  excludeAdapt_ = adapt.toBool();
  exclude1d_ = oneD.toBool();
}

//===----------------------------------------------------------------------===//
// FusedOptimizer
//===----------------------------------------------------------------------===//

FusedOptimizer::FusedOptimizer(std::vector<torch::Tensor> params, const std::string &rule,
                               FusedOptions defaults)
    : FusedOptimizer(std::vector<torch::optim::OptimizerParamGroup>{
                         torch::optim::OptimizerParamGroup(std::move(params))},
                     rule, std::move(defaults)) {}

FusedOptimizer::FusedOptimizer(std::vector<torch::optim::OptimizerParamGroup> groups,
                               const std::string &rule, FusedOptions defaults)
    : Optimizer(std::move(groups), std::make_unique<FusedOptions>(std::move(defaults))),
      bundle_(Bundle::load(rule)) {
  auto &options = static_cast<FusedOptions &>(*defaults_);
  checkHyperNames(options);
  // Every group holds every hyperparameter: unset ones take the rule's defaults, so that
  // get_lr() and the schedulers see the value in use.
  for (const HyperInfo &hyper : bundle_->hypers())
    if (!options.has(hyper.name))
      options.set(hyper.name, hyper.defaultValue);
  for (auto &group : param_groups_) {
    auto &groupOptions = static_cast<FusedOptions &>(group.options());
    checkHyperNames(groupOptions);
    for (const HyperInfo &hyper : bundle_->hypers())
      if (!groupOptions.has(hyper.name))
        groupOptions.set(hyper.name, options.get(hyper.name, hyper.defaultValue));
  }
}

FusedOptimizer::~FusedOptimizer() = default;

std::string FusedOptimizer::executor_name() const {
  return executor_ ? executor_->name() : "none";
}

void FusedOptimizer::checkHyperNames(const FusedOptions &options) const {
  for (const auto &[name, value] : options.hypers()) {
    if (bundle_->hyperIndex(name) < 0)
      fail("rule '" + bundle_->ruleName() + "' has no hyperparameter '" + name +
           "'; its hyperparameters are: " + validNames(*bundle_));
    if (bundle_->hypers()[bundle_->hyperIndex(name)].isBool && value != 0 && value != 1)
      fail("hyperparameter '" + name + "' of rule '" + bundle_->ruleName() +
           "' is a switch: give 0 or 1, not " + std::to_string(value));
  }
  if (options.exclude_from_decay() && bundle_->flagIndex("exclude_decay") < 0)
    fail("rule '" + bundle_->ruleName() + "' has no weight-decay exclusion (flag exclude_decay)");
  if (options.exclude_from_adaptation() && bundle_->flagIndex("exclude_adapt") < 0)
    fail("rule '" + bundle_->ruleName() + "' has no adaptation to exclude from (flag exclude_adapt)");
}

torch::Tensor &FusedOptimizer::stateBuffer(const torch::Tensor &param, int index) {
  using Key = typename std::decay_t<decltype(state_)>::key_type;
  auto &slot = state_[stateKey<Key>(param)];
  if (!slot) {
    auto state = std::make_unique<FusedParamState>();
    for (int s = 0; s < bundle_->numStates(); ++s)
      state->buffers.push_back(torch::full_like(param, bundle_->buffers()[2 + s].init,
                                                torch::MemoryFormat::Contiguous));
    slot = std::move(state);
  }
  return static_cast<FusedParamState &>(*slot).buffers[index];
}

torch::Tensor FusedOptimizer::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  torch::NoGradGuard noGrad;

  // The parameters that step: those with a gradient, in group order.
  active_.clear();
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    checkHyperNames(static_cast<FusedOptions &>(param_groups_[g].options()));
    const auto &params = param_groups_[g].params();
    for (size_t i = 0; i < params.size(); ++i) {
      const torch::Tensor &grad = params[i].grad();
      if (grad.defined())
        active_.push_back({g, i, params[i], grad});
    }
  }
  lastSkipped_ = false;
  if (active_.empty())
    return loss;
  // The tensors are released at the end of the step, whatever happens.
  struct Release {
    std::vector<ActiveParam> &active;
    ~Release() { active.clear(); }
  } release{active_};

  // Check every input before anything runs.
  torch::Device device = active_.front().param.device();
  for (const ActiveParam &a : active_) {
    const torch::Tensor &p = a.param, &g = a.grad;
    auto who = [&] { return describe(a.group, a.index, p); };
    if (p.scalar_type() != torch::kFloat32)
      fail(who() + " is " + std::string(c10::toString(p.scalar_type())) +
           "; compiled rules step float32 parameters");
    if (p.device() != device)
      fail(who() + " is on " + p.device().str() + " but parameter 0 of the step is on " +
           device.str() + "; one step runs on one device");
    if (!p.is_contiguous())
      fail(who() + " is not contiguous");
    if (g.scalar_type() != torch::kFloat32 || g.device() != device || !g.is_contiguous() ||
        !g.sizes().equals(p.sizes()))
      fail(who() + ": its gradient must be a contiguous float32 tensor of the same shape on " +
           device.str() + " (got " + std::string(c10::toString(g.scalar_type())) + " " +
           shapeOf(g) + " on " + g.device().str() + (g.is_contiguous() ? "" : ", non-contiguous") +
           ")");
  }
  // The state of the same parameters as last step was checked then; a new set is checked now.
  bool sameParams = active_.size() == cachedParams_.size();
  for (size_t l = 0; sameParams && l < active_.size(); ++l)
    sameParams = active_[l].param.unsafeGetTensorImpl() == cachedParams_[l];
  using Key = typename std::decay_t<decltype(state_)>::key_type;
  if (!sameParams) {
    for (const ActiveParam &a : active_) {
      auto it = state_.find(stateKey<Key>(a.param));
      if (it == state_.end())
        continue;
      const auto &buffers = static_cast<FusedParamState &>(*it->second).buffers;
      for (size_t s = 0; s < buffers.size(); ++s) {
        const torch::Tensor &b = buffers[s], &p = a.param;
        if (b.scalar_type() != torch::kFloat32 || b.device() != device || !b.is_contiguous() ||
            !b.sizes().equals(p.sizes()))
          fail(describe(a.group, a.index, p) + ": its state '" + bundle_->buffers()[2 + s].name +
               "' is " + std::string(c10::toString(b.scalar_type())) + " " + shapeOf(b) + " on " +
               b.device().str() + ", expected contiguous float32 " + shapeOf(p) + " on " +
               device.str());
      }
    }
  }
  if (device.is_cuda() && !bundle_->hasGpuCode())
    fail(describe(active_.front().group, active_.front().index, active_.front().param) +
         " is a CUDA tensor, but bundle '" + bundle_->path() +
         "' has no GPU code; recompile it with optfuse-compile --gpu-arch");
  if (skipNonfinite_) {
    for (const ActiveParam &a : active_) {
      if (!torch::isfinite(a.grad).all().item<bool>()) {
        lastSkipped_ = true;
        return loss;
      }
    }
  }

  if (!executor_ || executor_->name() != (device.is_cuda() ? "cuda" : "cpu") ||
      executorDevice_ != device) {
    if (device.is_cuda())
      executor_ = createCudaExecutor(bundle_, device.index(), currentStream(device));
    else
      executor_ = std::make_unique<CpuExecutor>(bundle_);
    executorDevice_ = device;
    layerKey_.clear();
  }

  // State buffers (created on a parameter's first step), found by key only for a new set.
  int numStates = bundle_->numStates();
  if (!sameParams) {
    cachedParams_.clear();
    cachedStates_.clear();
    for (const ActiveParam &a : active_) {
      cachedParams_.push_back(a.param.unsafeGetTensorImpl());
      for (int s = 0; s < numStates; ++s)
        cachedStates_.push_back(static_cast<float *>(stateBuffer(a.param, s).data_ptr()));
    }
    layerKey_.clear();
  }

  // The layer table is rebuilt only when the tensors' memory changed.
  key_.clear();
  for (const ActiveParam &a : active_) {
    key_.push_back(a.param.data_ptr());
    key_.push_back(a.grad.data_ptr());
    key_.push_back(reinterpret_cast<const void *>(a.param.numel()));
  }
  bool rebuilt = key_ != layerKey_;
  if (rebuilt) {
    std::vector<int64_t> numels;
    for (const ActiveParam &a : active_)
      numels.push_back(a.param.numel());
    executor_->setLayers(numels);
    for (size_t l = 0; l < active_.size(); ++l) {
      auto layer = static_cast<int64_t>(l);
      executor_->setBuffer(layer, 0, static_cast<float *>(active_[l].param.data_ptr()));
      executor_->setBuffer(layer, 1, static_cast<float *>(active_[l].grad.data_ptr()));
      for (int s = 0; s < numStates; ++s)
        executor_->setBuffer(layer, 2 + s, cachedStates_[l * numStates + s]);
    }
    std::swap(layerKey_, key_);
  }

  // Hyperparameters and flags per group; written to the layers when they or the layers change.
  int decayBit = bundle_->flagIndex("exclude_decay");
  int adaptBit = bundle_->flagIndex("exclude_adapt");
  std::vector<double> groupHypers;
  for (const auto &group : param_groups_) {
    const auto &options = static_cast<const FusedOptions &>(group.options());
    for (const HyperInfo &hyper : bundle_->hypers())
      groupHypers.push_back(options.get(hyper.name, hyper.defaultValue));
    groupHypers.push_back(options.exclude_from_decay() + 2.0 * options.exclude_from_adaptation() +
                          4.0 * options.exclude_1d());
  }
  if (rebuilt || groupHypers != groupHypers_) {
    size_t row = bundle_->hypers().size() + 1;
    for (size_t l = 0; l < active_.size(); ++l) {
      const ActiveParam &a = active_[l];
      const double *values = groupHypers.data() + a.group * row;
      std::copy(values, values + row - 1, executor_->hypers(static_cast<int64_t>(l)));
      const auto &options = static_cast<const FusedOptions &>(param_groups_[a.group].options());
      bool oneD = options.exclude_1d() && a.param.dim() == 1;
      int32_t bits = 0;
      if (decayBit >= 0 && (options.exclude_from_decay() || oneD))
        bits |= 1 << decayBit;
      if (adaptBit >= 0 && (options.exclude_from_adaptation() || oneD))
        bits |= 1 << adaptBit;
      executor_->setFlags(static_cast<int64_t>(l), bits);
    }
    std::swap(groupHypers_, groupHypers);
  }

  if (device.is_cuda())
    setCudaStream(*executor_, currentStream(device));
  executor_->step(static_cast<double>(stepCount_));
  ++stepCount_;
  return loss;
}

//===----------------------------------------------------------------------===//
// Serialization
//===----------------------------------------------------------------------===//

void FusedOptimizer::save(torch::serialize::OutputArchive &archive) const {
  using Key = typename std::decay_t<decltype(state_)>::key_type;
  archive.write("optfuse/rule", c10::IValue(bundle_->ruleName()));
  archive.write("optfuse/step_count", torch::tensor(stepCount_, torch::kInt64));
  archive.write("optfuse/groups", c10::IValue(static_cast<int64_t>(param_groups_.size())));
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    std::string prefix = "optfuse/group/" + std::to_string(g) + "/";
    torch::serialize::OutputArchive options(archive.compilation_unit());
    param_groups_[g].options().serialize(options);
    archive.write(prefix + "options", options);
    const auto &params = param_groups_[g].params();
    archive.write(prefix + "params", c10::IValue(static_cast<int64_t>(params.size())));
    for (size_t i = 0; i < params.size(); ++i) {
      auto it = state_.find(stateKey<Key>(params[i]));
      if (it == state_.end())
        continue;
      const auto &buffers = static_cast<const FusedParamState &>(*it->second).buffers;
      for (size_t s = 0; s < buffers.size(); ++s)
        archive.write(prefix + std::to_string(i) + "/" + bundle_->buffers()[2 + s].name,
                      buffers[s].cpu());
    }
  }
}

void FusedOptimizer::load(torch::serialize::InputArchive &archive) {
  using Key = typename std::decay_t<decltype(state_)>::key_type;
  c10::IValue rule, groups;
  torch::Tensor stepCount;
  if (!archive.try_read("optfuse/rule", rule) || !archive.try_read("optfuse/groups", groups) ||
      !archive.try_read("optfuse/step_count", stepCount))
    fail("the archive holds no optfuse optimizer state");
  if (rule.toStringRef() != bundle_->ruleName())
    fail("the archive holds the state of rule '" + rule.toStringRef() +
         "', this optimizer runs rule '" + bundle_->ruleName() + "'");
  if (groups.toInt() != static_cast<int64_t>(param_groups_.size()))
    fail("the archive holds " + std::to_string(groups.toInt()) +
         " parameter groups, this optimizer has " + std::to_string(param_groups_.size()));

  // Read and check everything first; change nothing until all of it is known to fit.
  std::vector<FusedOptions> options(param_groups_.size());
  std::vector<std::vector<std::vector<torch::Tensor>>> states(param_groups_.size());
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    std::string prefix = "optfuse/group/" + std::to_string(g) + "/";
    torch::serialize::InputArchive optionsArchive;
    archive.read(prefix + "options", optionsArchive);
    options[g].serialize(optionsArchive);
    checkHyperNames(options[g]);
    c10::IValue count;
    archive.read(prefix + "params", count);
    const auto &params = param_groups_[g].params();
    if (count.toInt() != static_cast<int64_t>(params.size()))
      fail("group " + std::to_string(g) + " of the archive holds " +
           std::to_string(count.toInt()) + " parameters, this optimizer's has " +
           std::to_string(params.size()));
    states[g].resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      for (int s = 0; s < bundle_->numStates(); ++s) {
        torch::Tensor buffer;
        const std::string &name = bundle_->buffers()[2 + s].name;
        if (!archive.try_read(prefix + std::to_string(i) + "/" + name, buffer)) {
          if (s != 0)
            fail(describe(g, i, params[i]) + ": the archive lacks its state '" + name + "'");
          break; // no state yet: the parameter had not been stepped
        }
        if (buffer.scalar_type() != torch::kFloat32 || !buffer.sizes().equals(params[i].sizes()))
          fail(describe(g, i, params[i]) + ": the archive's state '" + name + "' is " +
               std::string(c10::toString(buffer.scalar_type())) + " " + shapeOf(buffer) +
               ", expected float32 " + shapeOf(params[i]));
        states[g][i].push_back(buffer);
      }
    }
  }

  for (size_t g = 0; g < param_groups_.size(); ++g) {
    static_cast<FusedOptions &>(param_groups_[g].options()) = options[g];
    const auto &params = param_groups_[g].params();
    for (size_t i = 0; i < params.size(); ++i) {
      state_.erase(stateKey<Key>(params[i]));
      if (states[g][i].empty())
        continue;
      auto state = std::make_unique<FusedParamState>();
      for (torch::Tensor &buffer : states[g][i])
        state->buffers.push_back(buffer.to(params[i].device()).contiguous().clone());
      state_[stateKey<Key>(params[i])] = std::move(state);
    }
  }
  stepCount_ = stepCount.item<int64_t>();
  layerKey_.clear();
  cachedParams_.clear();
  cachedStates_.clear();
}
