//===- FusedOptimizer.h - Compiled rules as a torch::optim::Optimizer -*- C++ -*-===//
//
// optfuse::FusedOptimizer steps LibTorch models with a compiled rule (a bundle): every layer's
// norms, the rule's per-layer scalars and the update run fused, on the CPU or on CUDA.
//
//   #include "runtime/FusedOptimizer.h"
//   optfuse::FusedOptimizer opt(model->parameters(), "tvlars",
//                               optfuse::FusedOptions().set("lr", 2.0).exclude_1d(true));
//   loss.backward();
//   opt.step();
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_RUNTIME_FUSEDOPTIMIZER_H
#define OPTFUSE_RUNTIME_FUSEDOPTIMIZER_H

#include "runtime/Bundle.h"
#include "runtime/Executor.h"

#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace optfuse {


/// The options of one parameter group: hyperparameter values by name (unset ones take the rule's
/// defaults) and the per-group exclusion switches.
class FusedOptions : public torch::optim::OptimizerCloneableOptions<FusedOptions> {
public:
  FusedOptions() = default;

  /// Sets a hyperparameter (bools as 0/1). Names are checked against the rule when the optimizer
  /// is built: an unknown name throws, listing the valid ones.
  FusedOptions &set(const std::string &name, double value);
  /// The value set for `name`, or `fallback` when none was set.
  double get(const std::string &name, double fallback) const;
  bool has(const std::string &name) const { return hypers_.count(name) != 0; }
  const std::map<std::string, double> &hypers() const { return hypers_; }

  /// Exclude every tensor of the group from weight decay (the rule's `exclude_decay` flag).
  FusedOptions &exclude_from_decay(bool on);
  bool exclude_from_decay() const { return excludeDecay_; }
  /// Exclude every tensor of the group from adaptation (the rule's `exclude_adapt` flag).
  FusedOptions &exclude_from_adaptation(bool on);
  bool exclude_from_adaptation() const { return excludeAdapt_; }
  /// Exclude the group's 1-D tensors (biases, norm weights) from both, as the LARS references do.
  FusedOptions &exclude_1d(bool on);
  bool exclude_1d() const { return exclude1d_; }

  /// The "lr" hyperparameter, so that LibTorch's LR schedulers work. get_lr() of a group that
  /// never set "lr" is NaN until the optimizer fills in the rule's default.
  double get_lr() const override;
  void set_lr(const double lr) override;

  void serialize(torch::serialize::OutputArchive &archive) const override;
  void serialize(torch::serialize::InputArchive &archive) override;

private:
  std::map<std::string, double> hypers_;
  bool excludeDecay_ = false, excludeAdapt_ = false, exclude1d_ = false;
};

/// A torch::optim::Optimizer running a compiled rule.
///
/// The state of each parameter (its rule's state buffers, as float32 tensors named as in the rule)
/// and the step counter live in the optimizer state and go through torch::save/torch::load.
/// Every input is checked before anything runs: a wrong dtype or device, a non-contiguous tensor
/// or a loaded state of the wrong shape throws std::runtime_error naming the parameter
/// ("group 0, parameter 3 ([64, 3, 7, 7])") and leaves every tensor untouched.
class FusedOptimizer : public torch::optim::Optimizer {
public:
  /// `rule` is a shipped rule's name (tvlars, lars, lamb, sgd, adamw) or a bundle path.
  FusedOptimizer(std::vector<torch::Tensor> params, const std::string &rule,
                 FusedOptions defaults = {});
  FusedOptimizer(std::vector<torch::optim::OptimizerParamGroup> groups, const std::string &rule,
                 FusedOptions defaults = {});
  ~FusedOptimizer() override;

  /// One step over every parameter that has a gradient (the others are skipped, as in torch).
  /// With skip_nonfinite(true), a NaN or Inf in any gradient skips the whole step: nothing
  /// changes, the step counter included, and last_step_skipped() says so.
  torch::Tensor step(LossClosure closure = nullptr) override;

  void set_skip_nonfinite(bool on) { skipNonfinite_ = on; }
  bool skip_nonfinite() const { return skipNonfinite_; }
  bool last_step_skipped() const { return lastSkipped_; }

  /// Steps taken so far (the rule's t is this count on the next step).
  int64_t step_count() const { return stepCount_; }
  const Bundle &bundle() const { return *bundle_; }
  /// "cpu" or "cuda": where the last step ran.
  std::string executor_name() const;

  void save(torch::serialize::OutputArchive &archive) const override;
  void load(torch::serialize::InputArchive &archive) override;

private:
  void checkHyperNames(const FusedOptions &options) const;
  /// The state buffer `index` (0-based among the rule's states) of a parameter, created on first use.
  torch::Tensor &stateBuffer(const torch::Tensor &param, int index);

  std::shared_ptr<const Bundle> bundle_;
  std::unique_ptr<Executor> executor_;
  torch::Device executorDevice_{torch::kCPU};

  // Per-step work kept small for models with many tensors: what the last step saw.
  struct ActiveParam {
    size_t group, index;
    torch::Tensor param, grad;
  };
  std::vector<ActiveParam> active_;              // during a step only
  std::vector<const void *> cachedParams_;       // the stepped parameters (TensorImpl)
  std::vector<float *> cachedStates_;            // their state buffers, [layer][state]
  std::vector<const void *> layerKey_, key_;     // parameter and gradient memory and sizes
  std::vector<double> groupHypers_;              // hyperparameters and switches per group
  int64_t stepCount_ = 0;
  bool skipNonfinite_ = false, lastSkipped_ = false;
};

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_FUSEDOPTIMIZER_H
