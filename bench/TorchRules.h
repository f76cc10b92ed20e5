//===- TorchRules.h - The shipped rules written with LibTorch ops -*- C++ -*-===//
//
// This file declares the LibTorch implementations optfuse-bench measures the fused optimizer
// against, written from ../shared/ALGORITHMS.md and the specs, two ways:
//
//  - Loop: one parameter at a time, as the public reference code does it (the TVLARS and LARS
//    references, torch.optim's single-tensor SGD and AdamW, the common PyTorch LAMB). The layer
//    norms stay tensors and the zero-norm guards are torch::where, so no step waits on the host.
//  - Foreach: whole lists at once with LibTorch's multi-tensor ops (at::_foreach_*, including
//    at::_foreach_norm), as torch.optim's foreach implementations do. The per-layer ratios are
//    computed as one vector and brought to the host once per step, because the foreach ops take
//    per-tensor factors only as host scalars.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_BENCH_TORCHRULES_H
#define OPTFUSE_BENCH_TORCHRULES_H

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace optfuse {
namespace bench {

/// Hyperparameter values by name (bools as 0/1).
using Hypers = std::map<std::string, double>;

/// The shipped rules' hyperparameters and their defaults, as the specs document them; empty for
/// a rule TorchRule does not implement.
Hypers torchRuleDefaults(const std::string &rule);

/// One shipped rule stepping a list of parameters with LibTorch ops.
class TorchRule {
public:
  enum class Style { Loop, Foreach };

  /// Steps `params` (updated in place) with `grads` (read only) under `hypers`, which must hold
  /// every hyperparameter of torchRuleDefaults(rule). The state buffers start at 0, as the specs
  /// initialise them. Throws std::invalid_argument for a rule without an implementation.
  TorchRule(const std::string &rule, Style style, Hypers hypers, std::vector<torch::Tensor> params,
            std::vector<torch::Tensor> grads);

  /// One step; the step counter t is 0 on the first.
  void step();

  const std::vector<torch::Tensor> &params() const { return params_; }

private:
  enum class Kind { Tvlars, Lars, Lamb, Sgd, AdamW };

  double hyper(const char *name) const { return hypers_.at(name); }
  /// The trust ratios of the LARS family for norm tensors wn and dn: eta*phi(t)*clamp(wn)/clamp(dn)
  /// (TVLARS) or eta*wn/(dn + eps), possibly clipped (LARS); 1 where either norm is 0.
  torch::Tensor larsRatio(const torch::Tensor &wn, const torch::Tensor &dn) const;
  /// The LAMB trust ratio clamp(wn)/un; 1 where either norm is 0.
  torch::Tensor lambRatio(const torch::Tensor &wn, const torch::Tensor &un) const;

  void larsLoop();
  void larsForeach();
  /// 1 - beta^(t+1) for both moments, or 1 and 1 without bias correction.
  std::pair<double, double> lambBiasCorrections();
  void lambLoop();
  void lambForeach();
  void sgdLoop();
  void sgdForeach();
  void adamwLoop();
  void adamwForeach();

  Kind kind_;
  Style style_;
  Hypers hypers_;
  std::vector<torch::Tensor> params_, grads_;
  /// State buffers: momentum_buffer (LARS, TVLARS, SGD) or exp_avg and exp_avg_sq (LAMB, AdamW).
  std::vector<torch::Tensor> first_, second_;
  int64_t t_ = 0;
};

} // namespace bench
} // namespace optfuse

#endif // OPTFUSE_BENCH_TORCHRULES_H
