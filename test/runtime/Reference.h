//===- Reference.h - Independent float64 references of the shipped rules --*- C++ -*-===//
//
// Each shipped rule written directly from ../shared/ALGORITHMS.md with plain LibTorch ops in
// float64, one layer at a time. The tests compare the compiled rules against these; nothing here
// shares code with the compiler or the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_TEST_RUNTIME_REFERENCE_H
#define OPTFUSE_TEST_RUNTIME_REFERENCE_H

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

namespace reference {

using Hypers = std::map<std::string, double>;

/// One layer in float64: parameter, gradient and named state buffers.
struct Layer {
  torch::Tensor w, g;
  std::map<std::string, torch::Tensor> state;
  bool excludeDecay = false, excludeAdapt = false;
};

/// The rules' defaults, as the specs document them.
inline Hypers defaults(const std::string &rule) {
  if (rule == "tvlars")
    return {{"lr", 1.0},     {"momentum", 0.9},    {"weight_decay", 5e-4},
            {"eta", 1e-3},   {"alpha", 0.1},       {"lambda", 1e-3},
            {"delay", -1.0}, {"gamma_min", 0.0},   {"norm_clamp", 10.0}};
  if (rule == "lars")
    return {{"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 0.0},
            {"eta", 1e-3}, {"eps", 0.0},    {"trust_clip", 0.0}};
  if (rule == "lamb")
    return {{"lr", 1e-3}, {"beta1", 0.9},          {"beta2", 0.999},     {"eps", 1e-6},
            {"weight_decay", 0.01}, {"bias_correction", 1.0}, {"norm_clamp", 10.0}};
  if (rule == "sgd")
    return {{"lr", 0.01}, {"momentum", 0.9}, {"dampening", 0.0}, {"weight_decay", 0.0},
            {"nesterov", 0.0}};
  if (rule == "adamw")
    return {{"lr", 1e-3}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.01}};
  throw std::invalid_argument("no reference for rule " + rule);
}

/// The state buffers a rule keeps.
inline std::vector<std::string> stateNames(const std::string &rule) {
  if (rule == "lamb" || rule == "adamw")
    return {"exp_avg", "exp_avg_sq"};
  return {"momentum_buffer"};
}

/// The L2 norm as a double.
inline double l2(const torch::Tensor &x) {
  return x.numel() == 0 ? 0.0 : x.norm().item<double>();
}

/// One step of `rule` on one layer at step counter t (0 on the first step).
inline void step(const std::string &rule, const Hypers &h, Layer &layer, int64_t t) {
  auto hp = [&](const char *name) { return h.at(name); };
  torch::Tensor &w = layer.w;
  const torch::Tensor &g = layer.g;
  if (rule == "tvlars" || rule == "lars") {
    torch::Tensor d = layer.excludeDecay ? g.clone() : g + hp("weight_decay") * w;
    double q = 1.0;
    if (!layer.excludeAdapt) {
      double wn = l2(w), dn = l2(d);
      if (rule == "tvlars") {
        wn = std::min(std::max(wn, 0.0), hp("norm_clamp"));
        dn = std::min(std::max(dn, 0.0), hp("norm_clamp"));
        double phi = 1.0 / (hp("alpha") + std::exp(hp("lambda") * (double(t) - hp("delay")))) +
                     hp("gamma_min");
        q = (wn > 0 && dn > 0) ? hp("eta") * phi * wn / dn : 1.0;
      } else {
        q = (wn > 0 && dn > 0) ? hp("eta") * wn / (dn + hp("eps")) : 1.0;
        if (hp("trust_clip") != 0)
          q = std::min(q / hp("lr"), 1.0);
      }
    }
    torch::Tensor &buf = layer.state.at("momentum_buffer");
    buf = hp("momentum") * buf + q * d;
    w = w - hp("lr") * buf;
  } else if (rule == "sgd") {
    torch::Tensor d = layer.excludeDecay ? g.clone() : g + hp("weight_decay") * w;
    torch::Tensor &buf = layer.state.at("momentum_buffer");
    // The buffer is kept even without momentum (then it is unused: the step is plain SGD).
    buf = t == 0 ? d.clone() : hp("momentum") * buf + (1 - hp("dampening")) * d;
    torch::Tensor direction = d;
    if (hp("momentum") != 0)
      direction = hp("nesterov") != 0 ? d + hp("momentum") * buf : buf;
    w = w - hp("lr") * direction;
  } else if (rule == "lamb") {
    torch::Tensor &m = layer.state.at("exp_avg");
    torch::Tensor &v = layer.state.at("exp_avg_sq");
    m = hp("beta1") * m + (1 - hp("beta1")) * g;
    v = hp("beta2") * v + (1 - hp("beta2")) * g * g;
    double bc1 = 1, bc2 = 1;
    if (hp("bias_correction") != 0) {
      bc1 = 1 - std::pow(hp("beta1"), double(t + 1));
      bc2 = 1 - std::pow(hp("beta2"), double(t + 1));
    }
    torch::Tensor u = (m / bc1) / ((v / bc2).sqrt() + hp("eps"));
    if (!layer.excludeDecay)
      u = u + hp("weight_decay") * w;
    double r = 1.0;
    if (!layer.excludeAdapt) {
      double wn = std::min(std::max(l2(w), 0.0), hp("norm_clamp"));
      double un = l2(u);
      r = (wn > 0 && un > 0) ? wn / un : 1.0;
    }
    w = w - hp("lr") * r * u;
  } else if (rule == "adamw") {
    torch::Tensor &m = layer.state.at("exp_avg");
    torch::Tensor &v = layer.state.at("exp_avg_sq");
    if (!layer.excludeDecay)
      w = w * (1 - hp("lr") * hp("weight_decay"));
    m = hp("beta1") * m + (1 - hp("beta1")) * g;
    v = hp("beta2") * v + (1 - hp("beta2")) * g * g;
    double bc1 = 1 - std::pow(hp("beta1"), double(t + 1));
    double bc2 = 1 - std::pow(hp("beta2"), double(t + 1));
    w = w - (hp("lr") / bc1) * m / (v.sqrt() / std::sqrt(bc2) + hp("eps"));
  } else {
    throw std::invalid_argument("no reference for rule " + rule);
  }
}

/// The largest relative error of `actual` against `expected`: max|a - e| / max(max|e|, tiny).
inline double relativeError(const torch::Tensor &actual, const torch::Tensor &expected) {
  if (expected.numel() == 0)
    return 0.0;
  torch::Tensor a = actual.to(torch::kFloat64).cpu().reshape({-1});
  torch::Tensor e = expected.to(torch::kFloat64).cpu().reshape({-1});
  double scale = std::max(e.abs().max().item<double>(), 1e-30);
  return (a - e).abs().max().item<double>() / scale;
}

} // namespace reference

#endif // OPTFUSE_TEST_RUNTIME_REFERENCE_H
