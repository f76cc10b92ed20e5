//===- TorchRules.cpp - The shipped rules written with LibTorch ops -------===//

#include "bench/TorchRules.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

using namespace optfuse::bench;

Hypers optfuse::bench::torchRuleDefaults(const std::string &rule) {
  if (rule == "tvlars")
    return {{"lr", 1.0},     {"momentum", 0.9},  {"weight_decay", 5e-4},
            {"eta", 1e-3},   {"alpha", 0.1},     {"lambda", 1e-3},
            {"delay", -1.0}, {"gamma_min", 0.0}, {"norm_clamp", 10.0}};
  if (rule == "lars")
    return {{"lr", 0.1},   {"momentum", 0.9}, {"weight_decay", 0.0},
            {"eta", 1e-3}, {"eps", 0.0},      {"trust_clip", 0.0}};
  if (rule == "lamb")
    return {{"lr", 1e-3},           {"beta1", 0.9},           {"beta2", 0.999},    {"eps", 1e-6},
            {"weight_decay", 0.01}, {"bias_correction", 1.0}, {"norm_clamp", 10.0}};
  if (rule == "sgd")
    return {{"lr", 0.01},
            {"momentum", 0.9},
            {"dampening", 0.0},
            {"weight_decay", 0.0},
            {"nesterov", 0.0}};
  if (rule == "adamw")
    return {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.01}};
  return {};
}

namespace {

/// The values of a vector, on the host, as the per-tensor scalars the foreach ops take. This is
/// the one device-to-host copy of a foreach step.
std::vector<at::Scalar> hostScalars(const torch::Tensor &values) {
  torch::Tensor host = values.to(torch::kCPU, torch::kFloat64).contiguous();
  const double *data = host.data_ptr<double>();
  return std::vector<at::Scalar>(data, data + host.numel());
}

/// The L2 norms of a list of tensors as one float64 vector.
torch::Tensor norms(const std::vector<torch::Tensor> &tensors) {
  return torch::stack(at::_foreach_norm(tensors)).to(torch::kFloat64);
}

} // namespace

TorchRule::TorchRule(const std::string &rule, Style style, Hypers hypers,
                     std::vector<torch::Tensor> params, std::vector<torch::Tensor> grads)
    : style_(style), hypers_(std::move(hypers)), params_(std::move(params)),
      grads_(std::move(grads)) {
  if (rule == "tvlars")
    kind_ = Kind::Tvlars;
  else if (rule == "lars")
    kind_ = Kind::Lars;
  else if (rule == "lamb")
    kind_ = Kind::Lamb;
  else if (rule == "sgd")
    kind_ = Kind::Sgd;
  else if (rule == "adamw")
    kind_ = Kind::AdamW;
  else
    throw std::invalid_argument("no LibTorch implementation of rule '" + rule + "'");
  for (const auto &entry : torchRuleDefaults(rule))
    if (!hypers_.count(entry.first))
      throw std::invalid_argument("rule '" + rule + "' needs hyperparameter '" + entry.first + "'");
  bool twoStates = kind_ == Kind::Lamb || kind_ == Kind::AdamW;
  for (const torch::Tensor &param : params_) {
    first_.push_back(torch::zeros_like(param));
    if (twoStates)
      second_.push_back(torch::zeros_like(param));
  }
}

void TorchRule::step() {
  torch::NoGradGuard noGrad;
  bool loop = style_ == Style::Loop;
  switch (kind_) {
  case Kind::Tvlars:
  case Kind::Lars:
    loop ? larsLoop() : larsForeach();
    break;
  case Kind::Lamb:
    loop ? lambLoop() : lambForeach();
    break;
  case Kind::Sgd:
    loop ? sgdLoop() : sgdForeach();
    break;
  case Kind::AdamW:
    loop ? adamwLoop() : adamwForeach();
    break;
  }
  ++t_;
}

torch::Tensor TorchRule::larsRatio(const torch::Tensor &wn, const torch::Tensor &dn) const {
  torch::Tensor ratio, valid;
  if (kind_ == Kind::Tvlars) {
    double phi =
        1.0 / (hyper("alpha") + std::exp(hyper("lambda") * (double(t_) - hyper("delay")))) +
        hyper("gamma_min");
    torch::Tensor wc = wn.clamp(0.0, hyper("norm_clamp"));
    torch::Tensor dc = dn.clamp(0.0, hyper("norm_clamp"));
    ratio = wc.mul(hyper("eta") * phi).div_(dc);
    valid = wc.gt(0).logical_and_(dc.gt(0));
  } else {
    ratio = wn.mul(hyper("eta")).div_(dn.add(hyper("eps")));
    valid = wn.gt(0).logical_and_(dn.gt(0));
  }
  torch::Tensor q = torch::where(valid, ratio, torch::ones_like(ratio));
  if (kind_ == Kind::Lars && hyper("trust_clip") != 0)
    q = q.div(hyper("lr")).clamp_max_(1.0);
  return q;
}

torch::Tensor TorchRule::lambRatio(const torch::Tensor &wn, const torch::Tensor &un) const {
  torch::Tensor wc = wn.clamp(0.0, hyper("norm_clamp"));
  torch::Tensor valid = wc.gt(0).logical_and_(un.gt(0));
  return torch::where(valid, wc.div(un), torch::ones_like(wc));
}

// d = g + wd*w; q = the trust ratio; buf = momentum*buf + q*d; w = w - lr*buf.
void TorchRule::larsLoop() {
  double wd = hyper("weight_decay"), momentum = hyper("momentum"), lr = hyper("lr");
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor &w = params_[i];
    torch::Tensor d = wd != 0 ? grads_[i].add(w, wd) : grads_[i];
    torch::Tensor q = larsRatio(w.norm(), d.norm());
    first_[i].mul_(momentum).addcmul_(d, q);
    w.add_(first_[i], -lr);
  }
}

void TorchRule::larsForeach() {
  double wd = hyper("weight_decay"), momentum = hyper("momentum"), lr = hyper("lr");
  std::vector<torch::Tensor> d = wd != 0 ? at::_foreach_add(grads_, params_, wd) : grads_;
  std::vector<at::Scalar> q = hostScalars(larsRatio(norms(params_), norms(d)));
  // d is the gradient list itself without weight decay: scale a copy then.
  if (wd != 0)
    at::_foreach_mul_(d, q);
  else
    d = at::_foreach_mul(d, q);
  at::_foreach_mul_(first_, momentum);
  at::_foreach_add_(first_, d);
  at::_foreach_add_(params_, first_, -lr);
}

std::pair<double, double> TorchRule::lambBiasCorrections() {
  if (hyper("bias_correction") == 0)
    return {1.0, 1.0};
  return {1 - std::pow(hyper("beta1"), double(t_ + 1)), 1 - std::pow(hyper("beta2"), double(t_ + 1))};
}

// m, v = the Adam moments; u = mh / (sqrt(vh) + eps) + wd*w; r = the trust ratio; w = w - lr*r*u.
void TorchRule::lambLoop() {
  double beta1 = hyper("beta1"), beta2 = hyper("beta2"), eps = hyper("eps"),
         wd = hyper("weight_decay"), lr = hyper("lr");
  auto [bc1, bc2] = lambBiasCorrections();
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor &w = params_[i];
    const torch::Tensor &g = grads_[i];
    first_[i].mul_(beta1).add_(g, 1 - beta1);
    second_[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
    torch::Tensor u = first_[i].div(bc1).div_(second_[i].div(bc2).sqrt_().add_(eps));
    if (wd != 0)
      u.add_(w, wd);
    torch::Tensor r = lambRatio(w.norm(), u.norm());
    w.addcmul_(u, r, -lr);
  }
}

void TorchRule::lambForeach() {
  double beta1 = hyper("beta1"), beta2 = hyper("beta2"), eps = hyper("eps"),
         wd = hyper("weight_decay"), lr = hyper("lr");
  auto [bc1, bc2] = lambBiasCorrections();
  at::_foreach_mul_(first_, beta1);
  at::_foreach_add_(first_, grads_, 1 - beta1);
  at::_foreach_mul_(second_, beta2);
  at::_foreach_addcmul_(second_, grads_, grads_, 1 - beta2);
  std::vector<torch::Tensor> u = at::_foreach_div(first_, bc1);
  {
    std::vector<torch::Tensor> denom = at::_foreach_div(second_, bc2);
    at::_foreach_sqrt_(denom);
    at::_foreach_add_(denom, eps);
    at::_foreach_div_(u, denom);
  }
  if (wd != 0)
    at::_foreach_add_(u, params_, wd);
  std::vector<at::Scalar> step = hostScalars(lambRatio(norms(params_), norms(u)).mul_(-lr));
  at::_foreach_mul_(u, step);
  at::_foreach_add_(params_, u);
}

// d = g + wd*w; buf = d on the first step, else momentum*buf + (1 - dampening)*d;
// w = w - lr*(nesterov ? d + momentum*buf : buf), or w - lr*d without momentum.
void TorchRule::sgdLoop() {
  double wd = hyper("weight_decay"), momentum = hyper("momentum"), dampening = hyper("dampening"),
         lr = hyper("lr");
  bool nesterov = hyper("nesterov") != 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor &w = params_[i];
    torch::Tensor d = wd != 0 ? grads_[i].add(w, wd) : grads_[i];
    if (momentum != 0) {
      torch::Tensor &buf = first_[i];
      if (t_ == 0)
        buf.copy_(d);
      else
        buf.mul_(momentum).add_(d, 1 - dampening);
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    w.add_(d, -lr);
  }
}

void TorchRule::sgdForeach() {
  double wd = hyper("weight_decay"), momentum = hyper("momentum"), dampening = hyper("dampening"),
         lr = hyper("lr");
  bool nesterov = hyper("nesterov") != 0;
  std::vector<torch::Tensor> d = wd != 0 ? at::_foreach_add(grads_, params_, wd) : grads_;
  if (momentum != 0) {
    if (t_ == 0) {
      for (size_t i = 0; i < first_.size(); ++i)
        first_[i].copy_(d[i]);
    } else {
      at::_foreach_mul_(first_, momentum);
      at::_foreach_add_(first_, d, 1 - dampening);
    }
    d = nesterov ? at::_foreach_add(d, first_, momentum) : first_;
  }
  at::_foreach_add_(params_, d, -lr);
}

// w = w*(1 - lr*wd); m, v = the Adam moments; w = w - (lr/bc1)*m / (sqrt(v)/sqrt(bc2) + eps).
void TorchRule::adamwLoop() {
  double beta1 = hyper("beta1"), beta2 = hyper("beta2"), eps = hyper("eps"),
         wd = hyper("weight_decay"), lr = hyper("lr");
  double bc1 = 1 - std::pow(beta1, double(t_ + 1));
  double bc2Root = std::sqrt(1 - std::pow(beta2, double(t_ + 1)));
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor &w = params_[i];
    const torch::Tensor &g = grads_[i];
    w.mul_(1 - lr * wd);
    first_[i].mul_(beta1).add_(g, 1 - beta1);
    second_[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
    torch::Tensor denom = second_[i].sqrt().div_(bc2Root).add_(eps);
    w.addcdiv_(first_[i], denom, -lr / bc1);
  }
}

void TorchRule::adamwForeach() {
  double beta1 = hyper("beta1"), beta2 = hyper("beta2"), eps = hyper("eps"),
         wd = hyper("weight_decay"), lr = hyper("lr");
  double bc1 = 1 - std::pow(beta1, double(t_ + 1));
  double bc2Root = std::sqrt(1 - std::pow(beta2, double(t_ + 1)));
  at::_foreach_mul_(params_, 1 - lr * wd);
  at::_foreach_mul_(first_, beta1);
  at::_foreach_add_(first_, grads_, 1 - beta1);
  at::_foreach_mul_(second_, beta2);
  at::_foreach_addcmul_(second_, grads_, grads_, 1 - beta2);
  std::vector<torch::Tensor> denom = at::_foreach_sqrt(second_);
  at::_foreach_div_(denom, bc2Root);
  at::_foreach_add_(denom, eps);
  at::_foreach_addcdiv_(params_, first_, denom, -lr / bc1);
}
