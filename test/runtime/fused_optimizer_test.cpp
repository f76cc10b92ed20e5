//===- fused_optimizer_test.cpp - FusedOptimizer against float64 references ------===//
//
// Every shipped rule, stepped through optfuse::FusedOptimizer, against the independent float64
// LibTorch references of Reference.h: random layer sets with 1-D, zero-initialised, empty and
// multi-million-element tensors, exclusion switches, several parameter groups; checkpoints,
// determinism, and bad input. The `Cuda` tests run the same on a GPU and skip without one.
//
//===----------------------------------------------------------------------===//

#include "runtime/FusedOptimizer.h"
#include "test/runtime/Reference.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iterator>

namespace {

using optfuse::FusedOptimizer;
using optfuse::FusedOptions;

constexpr double kTolerance = 1e-5;

/// Shapes of a layer set with the edge cases: 1-D tensors, an empty tensor, a zero-initialised
/// tensor (index 2), small odd sizes and, when `large`, a layer of a few million elements.
std::vector<std::vector<int64_t>> layerShapes(bool large) {
  std::vector<std::vector<int64_t>> shapes = {{64, 3, 3, 3}, {64}, {64}, {0}, {10, 7}, {1}, {333}};
  if (large)
    shapes.push_back({1536, 1537}); // 2,360,832 elements
  return shapes;
}

/// A model's parameters (float32, on `device`) and a float64 reference copy.
struct Model {
  std::vector<torch::Tensor> params;
  std::vector<reference::Layer> ref;
};

Model makeModel(const std::string &rule, bool large, torch::Device device, uint64_t seed) {
  torch::manual_seed(seed);
  Model model;
  auto shapes = layerShapes(large);
  for (size_t i = 0; i < shapes.size(); ++i) {
    torch::Tensor w = i == 2 ? torch::zeros(shapes[i]) : torch::randn(shapes[i]);
    reference::Layer layer;
    layer.w = w.to(torch::kFloat64);
    for (const std::string &name : reference::stateNames(rule))
      layer.state[name] = torch::zeros(shapes[i], torch::kFloat64);
    model.ref.push_back(layer);
    model.params.push_back(w.to(device).set_requires_grad(true));
  }
  return model;
}

/// Sets fresh random gradients on the parameters and the same (float32-rounded) on the reference.
void setGradients(Model &model, torch::Device device) {
  for (size_t i = 0; i < model.params.size(); ++i) {
    torch::Tensor g = torch::randn(model.params[i].sizes());
    model.params[i].mutable_grad() = g.to(device);
    model.ref[i].g = g.to(torch::kFloat64);
  }
}

/// The state buffers FusedOptimizer keeps for a parameter, read back through its state map.
torch::Tensor stateOf(FusedOptimizer &opt, const torch::Tensor &param, const std::string &name) {
  torch::serialize::OutputArchive archive;
  opt.save(archive);
  std::stringstream stream;
  archive.save_to(stream);
  torch::serialize::InputArchive in;
  in.load_from(stream);
  for (size_t g = 0; g < opt.param_groups().size(); ++g) {
    const auto &params = opt.param_groups()[g].params();
    for (size_t i = 0; i < params.size(); ++i) {
      if (!params[i].is_same(param))
        continue;
      torch::Tensor buffer;
      in.read("optfuse/group/" + std::to_string(g) + "/" + std::to_string(i) + "/" + name, buffer);
      return buffer;
    }
  }
  throw std::runtime_error("parameter not in the optimizer");
}

struct GroupSpec {
  reference::Hypers overrides;
  bool excludeDecay = false, excludeAdapt = false, exclude1d = false;
};

/// Steps `rule` for `steps` steps over the layer set split into `groups` (round-robin), checking
/// every parameter and state buffer against the reference after the last step.
void checkAgainstReference(const std::string &rule, const std::vector<GroupSpec> &groups,
                           int steps, bool large, torch::Device device) {
  Model model = makeModel(rule, large, device, 1234);
  auto bundle = optfuse::Bundle::load(rule);
  std::vector<torch::optim::OptimizerParamGroup> paramGroups;
  std::vector<reference::Hypers> groupHypers;
  std::vector<size_t> groupOf(model.params.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<torch::Tensor> params;
    for (size_t i = g; i < model.params.size(); i += groups.size()) {
      params.push_back(model.params[i]);
      groupOf[i] = g;
    }
    FusedOptions options;
    reference::Hypers hypers = reference::defaults(rule);
    for (const auto &[name, value] : groups[g].overrides) {
      options.set(name, value);
      hypers[name] = value;
    }
    options.exclude_from_decay(groups[g].excludeDecay);
    options.exclude_from_adaptation(groups[g].excludeAdapt);
    options.exclude_1d(groups[g].exclude1d);
    paramGroups.emplace_back(params, std::make_unique<FusedOptions>(options));
    groupHypers.push_back(hypers);
  }
  for (size_t i = 0; i < model.params.size(); ++i) {
    const GroupSpec &spec = groups[groupOf[i]];
    bool oneD = spec.exclude1d && model.params[i].dim() == 1;
    model.ref[i].excludeDecay = (spec.excludeDecay || oneD) && bundle->flagIndex("exclude_decay") >= 0;
    model.ref[i].excludeAdapt = (spec.excludeAdapt || oneD) && bundle->flagIndex("exclude_adapt") >= 0;
  }

  FusedOptimizer opt(std::move(paramGroups), rule);
  for (int t = 0; t < steps; ++t) {
    setGradients(model, device);
    opt.step();
    for (size_t i = 0; i < model.params.size(); ++i)
      reference::step(rule, groupHypers[groupOf[i]], model.ref[i], t);
  }
  EXPECT_EQ(opt.executor_name(), device.is_cuda() ? "cuda" : "cpu");
  for (size_t i = 0; i < model.params.size(); ++i) {
    std::ostringstream who;
    who << rule << " parameter " << i << " " << model.params[i].sizes() << " after " << steps
        << " steps";
    EXPECT_LE(reference::relativeError(model.params[i].detach(), model.ref[i].w), kTolerance)
        << who.str();
    for (const std::string &name : reference::stateNames(rule))
      EXPECT_LE(reference::relativeError(stateOf(opt, model.params[i], name),
                                         model.ref[i].state.at(name)),
                kTolerance)
          << who.str() << ", state " << name;
  }
}

const std::vector<std::string> kRules = {"tvlars", "lars", "lamb", "sgd", "adamw"};

/// Per-rule non-default hyperparameters for a second parameter group.
reference::Hypers otherHypers(const std::string &rule) {
  if (rule == "tvlars")
    return {{"lr", 0.5}, {"lambda", 0.05}, {"alpha", 0.3}, {"delay", 5}, {"gamma_min", 0.01}};
  if (rule == "lars")
    return {{"lr", 0.05}, {"weight_decay", 1e-3}, {"eps", 1e-8}, {"trust_clip", 1}};
  if (rule == "lamb")
    return {{"lr", 5e-3}, {"bias_correction", 0}, {"norm_clamp", INFINITY}};
  if (rule == "sgd")
    return {{"lr", 0.1}, {"nesterov", 1}, {"weight_decay", 1e-4}};
  return {{"lr", 1e-2}, {"beta1", 0.8}, {"weight_decay", 0.1}};
}

void runSuite(torch::Device device) {
  for (const std::string &rule : kRules) {
    SCOPED_TRACE(rule);
    checkAgainstReference(rule, {GroupSpec{}}, 50, /*large=*/true, device);
    checkAgainstReference(rule, {GroupSpec{{}, false, false, /*exclude1d=*/true}}, 50, false, device);
    bool adapt = rule == "tvlars" || rule == "lars" || rule == "lamb";
    checkAgainstReference(
        rule, {GroupSpec{}, GroupSpec{otherHypers(rule), /*excludeDecay=*/true, adapt, false}}, 50,
        false, device);
  }
}

torch::Device cudaOrSkip() { return torch::Device(torch::kCUDA, 0); }

#define SKIP_WITHOUT_CUDA()                                                                        \
  if (!torch::cuda::is_available())                                                                \
  GTEST_SKIP() << "no CUDA device (or LibTorch without CUDA): the CUDA suite runs in "            \
                  "scripts/gpu-check.sh on a GPU machine"

TEST(FusedOptimizer, AllRulesMatchReferenceOnCpu) { runSuite(torch::kCPU); }
TEST(FusedOptimizerCuda, AllRulesMatchReferenceOnCuda) {
  SKIP_WITHOUT_CUDA();
  runSuite(cudaOrSkip());
}

/// TVLARS with its default hyperparameters is the reference implementation's formula: norms
/// clamped at 10, zero-norm fallback, phi = 1/(0.1 + exp(1e-3 (t + 1))), 1-D tensors excluded.
void tvlarsReferenceForm(torch::Device device) {
  checkAgainstReference("tvlars", {GroupSpec{{}, false, false, true}}, 100, false, device);
  // Large weights make the clamp at 10 bite.
  Model model = makeModel("tvlars", false, device, 99);
  for (size_t i = 0; i < model.params.size(); ++i) {
    torch::NoGradGuard guard;
    model.params[i].mul_(20);
    model.ref[i].w.mul_(20);
  }
  FusedOptimizer opt(model.params, "tvlars");
  reference::Hypers hypers = reference::defaults("tvlars");
  for (int t = 0; t < 100; ++t) {
    setGradients(model, device);
    for (auto &p : model.params)
      p.mutable_grad().mul_(30);
    for (auto &layer : model.ref)
      layer.g.mul_(30);
    opt.step();
    for (auto &layer : model.ref)
      reference::step("tvlars", hypers, layer, t);
  }
  for (size_t i = 0; i < model.params.size(); ++i)
    EXPECT_LE(reference::relativeError(model.params[i].detach(), model.ref[i].w), kTolerance)
        << "parameter " << i;
}

TEST(FusedOptimizer, TvlarsDefaultsAreTheReferenceFormula) { tvlarsReferenceForm(torch::kCPU); }
TEST(FusedOptimizerCuda, TvlarsDefaultsAreTheReferenceFormula) {
  SKIP_WITHOUT_CUDA();
  tvlarsReferenceForm(cudaOrSkip());
}

/// Runs `steps` steps of `rule` from seed 5 with gradients from seed 6; optionally checkpoints
/// after `saveAt` steps into a fresh optimizer and model, then continues.
std::vector<torch::Tensor> run(const std::string &rule, int steps, int saveAt,
                               torch::Device device) {
  Model model = makeModel(rule, false, device, 5);
  auto opt = std::make_unique<FusedOptimizer>(model.params, rule,
                                              FusedOptions().set("lr", 0.05).exclude_1d(true));
  torch::manual_seed(6);
  std::string path = testing::TempDir() + "/optfuse-checkpoint.pt";
  for (int t = 0; t < steps; ++t) {
    if (t == saveAt) {
      torch::save(*opt, path);
      std::vector<torch::Tensor> copies;
      for (auto &p : model.params)
        copies.push_back(p.detach().clone().set_requires_grad(true));
      model.params = copies;
      opt = std::make_unique<FusedOptimizer>(model.params, rule,
                                             FusedOptions().set("lr", 0.05).exclude_1d(true));
      torch::load(*opt, path);
      EXPECT_EQ(opt->step_count(), saveAt);
    }
    for (auto &p : model.params)
      p.mutable_grad() = torch::randn(p.sizes()).to(device);
    opt->step();
  }
  std::vector<torch::Tensor> result;
  for (auto &p : model.params)
    result.push_back(p.detach().cpu());
  return result;
}

void checkpointAndDeterminism(torch::Device device) {
  for (const std::string &rule : kRules) {
    auto uninterrupted = run(rule, 30, -1, device);
    auto again = run(rule, 30, -1, device);
    auto resumed = run(rule, 30, 20, device);
    for (size_t i = 0; i < uninterrupted.size(); ++i) {
      EXPECT_TRUE(torch::equal(uninterrupted[i], again[i])) << rule << " run to run, parameter " << i;
      EXPECT_TRUE(torch::equal(uninterrupted[i], resumed[i])) << rule << " resumed, parameter " << i;
    }
  }
}

TEST(FusedOptimizer, CheckpointResumesBitIdenticallyAndRunsAreDeterministic) {
  checkpointAndDeterminism(torch::kCPU);
}
TEST(FusedOptimizerCuda, CheckpointResumesBitIdenticallyAndRunsAreDeterministic) {
  SKIP_WITHOUT_CUDA();
  checkpointAndDeterminism(cudaOrSkip());
}

TEST(FusedOptimizer, ThreadCountDoesNotChangeResults) {
  std::vector<torch::Tensor> results[2];
  int saved = at::get_num_threads();
  for (int threads = 1; threads <= 2; ++threads) {
    at::set_num_threads(threads);
    results[threads - 1] = run("lamb", 5, -1, torch::kCPU);
  }
  at::set_num_threads(saved);
  for (size_t i = 0; i < results[0].size(); ++i)
    EXPECT_TRUE(torch::equal(results[0][i], results[1][i])) << "parameter " << i;
}

/// Copies of the model's parameters, gradients and (when present) state, to check that a failed
/// step changed nothing.
std::vector<torch::Tensor> snapshot(FusedOptimizer &opt, const std::vector<torch::Tensor> &params) {
  std::vector<torch::Tensor> copies;
  for (const auto &p : params) {
    copies.push_back(p.detach().clone());
    if (p.grad().defined())
      copies.push_back(p.grad().clone());
  }
  if (opt.step_count() > 0)
    for (const auto &p : params)
      copies.push_back(stateOf(opt, p, "momentum_buffer"));
  return copies;
}

void expectUnchanged(const std::vector<torch::Tensor> &before,
                     const std::vector<torch::Tensor> &after) {
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_TRUE(torch::equal(before[i], after[i])) << "tensor " << i << " changed";
}

/// Expects `step` to throw a message containing each of `fragments`.
template <typename F> void expectError(F step, std::vector<std::string> fragments) {
  try {
    step();
    ADD_FAILURE() << "no error";
  } catch (const std::exception &e) {
    for (const std::string &fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
          << "message: " << e.what() << "\nexpected to contain: " << fragment;
  }
}

struct BadInputTest : testing::Test {
  void SetUp() override {
    torch::manual_seed(3);
    for (auto shape : std::vector<std::vector<int64_t>>{{4, 5}, {5}, {3, 3}})
      params.push_back(torch::randn(shape).set_requires_grad(true));
    for (auto &p : params)
      p.mutable_grad() = torch::randn(p.sizes());
    opt = std::make_unique<FusedOptimizer>(params, "tvlars");
    opt->step(); // state exists from here on
    for (auto &p : params)
      p.mutable_grad() = torch::randn(p.sizes());
  }
  std::vector<torch::Tensor> params;
  std::unique_ptr<FusedOptimizer> opt;
};

TEST_F(BadInputTest, WrongDtypeNamesTheParameterAndChangesNothing) {
  params[2].mutable_grad() = params[2].grad().to(torch::kFloat64);
  auto before = snapshot(*opt, params);
  expectError([&] { opt->step(); }, {"group 0, parameter 2 ([3, 3])", "float32"});
  expectUnchanged(before, snapshot(*opt, params));
  EXPECT_EQ(opt->step_count(), 1);
}

TEST_F(BadInputTest, NonContiguousGradient) {
  params[0].mutable_grad() = torch::randn({5, 4}).t();
  auto before = snapshot(*opt, params);
  expectError([&] { opt->step(); }, {"group 0, parameter 0 ([4, 5])", "non-contiguous"});
  expectUnchanged(before, snapshot(*opt, params));
}

TEST_F(BadInputTest, NonContiguousParameter) {
  torch::Tensor base = torch::randn({5, 4});
  torch::Tensor view = base.t().set_requires_grad(true);
  view.mutable_grad() = torch::randn({4, 5});
  FusedOptimizer other({view}, "sgd");
  expectError([&] { other.step(); }, {"parameter 0 ([4, 5]) is not contiguous"});
}

TEST_F(BadInputTest, CudaTensorWithACpuOnlyBundle) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device: needs a CUDA tensor";
  torch::Tensor p = torch::randn({8}, torch::kCUDA).set_requires_grad(true);
  p.mutable_grad() = torch::randn({8}, torch::kCUDA);
  // Built by test/runtime/CMakeLists.txt with `optfuse-compile --gpu-arch=` (CPU code only).
  FusedOptimizer other({p}, OPTFUSE_TEST_BUNDLE_DIR "/sgd_cpu_only.optfuse.so");
  auto before = p.detach().clone();
  expectError([&] { other.step(); }, {"no GPU code"});
  EXPECT_TRUE(torch::equal(before, p.detach()));
}

TEST_F(BadInputTest, MismatchedLoadedStateChangesNothing) {
  std::string path = testing::TempDir() + "/optfuse-mismatch.pt";
  std::vector<torch::Tensor> other;
  for (auto shape : std::vector<std::vector<int64_t>>{{4, 5}, {6}, {3, 3}})
    other.push_back(torch::randn(shape).set_requires_grad(true));
  for (auto &p : other)
    p.mutable_grad() = torch::randn(p.sizes());
  FusedOptimizer source(other, "tvlars");
  source.step();
  torch::save(source, path);
  auto before = snapshot(*opt, params);
  expectError([&] { torch::load(*opt, path); },
              {"group 0, parameter 1 ([5])", "momentum_buffer", "[6]"});
  expectUnchanged(before, snapshot(*opt, params));
  EXPECT_EQ(opt->step_count(), 1);

  FusedOptimizer lamb(other, "lamb");
  lamb.step();
  torch::save(lamb, path);
  expectError([&] { torch::load(*opt, path); }, {"rule 'lamb'", "rule 'tvlars'"});
}

TEST_F(BadInputTest, UnknownHyperparameterListsTheValidOnes) {
  expectError([&] { FusedOptimizer(params, "tvlars", FusedOptions().set("learning_rate", 1)); },
              {"no hyperparameter 'learning_rate'", "lr, momentum, weight_decay, eta, alpha"});
  expectError([&] { FusedOptimizer(params, "lamb", FusedOptions().set("bias_correction", 2)); },
              {"is a switch"});
  expectError([&] { FusedOptimizer(params, "sgd", FusedOptions().exclude_from_adaptation(true)); },
              {"rule 'sgd' has no adaptation"});
}

TEST_F(BadInputTest, UnknownRuleName) {
  expectError([&] { FusedOptimizer(params, "larz"); },
              {"unknown rule 'larz'", "tvlars, lars, lamb, sgd and adamw"});
}

TEST_F(BadInputTest, CorruptAndTruncatedBundles) {
  std::string corrupt = testing::TempDir() + "/corrupt.optfuse.so";
  std::ofstream(corrupt) << "this is not a shared object";
  expectError([&] { FusedOptimizer(params, corrupt); }, {"cannot load bundle", corrupt});

  std::ifstream in(optfuse::Bundle::load("tvlars")->path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string truncated = testing::TempDir() + "/truncated.optfuse.so";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expectError([&] { FusedOptimizer(params, truncated); }, {"cannot load bundle", truncated});

  expectError([&] { FusedOptimizer(params, "/no/such/bundle.optfuse.so"); }, {"does not exist"});
}

TEST(FusedOptimizer, ParametersWithoutGradientsAreSkipped) {
  torch::manual_seed(8);
  torch::Tensor a = torch::randn({16}).set_requires_grad(true);
  torch::Tensor b = torch::randn({16}).set_requires_grad(true);
  a.mutable_grad() = torch::randn({16});
  torch::Tensor bBefore = b.detach().clone(), aBefore = a.detach().clone();
  FusedOptimizer opt({a, b}, "sgd");
  opt.step();
  EXPECT_TRUE(torch::equal(b.detach(), bBefore));
  EXPECT_FALSE(torch::equal(a.detach(), aBefore));
}

TEST(FusedOptimizer, NonFiniteGradientSkipsTheWholeStepWhenAsked) {
  torch::manual_seed(9);
  std::vector<torch::Tensor> params = {torch::randn({16}).set_requires_grad(true),
                                       torch::randn({4, 4}).set_requires_grad(true)};
  for (auto &p : params)
    p.mutable_grad() = torch::randn(p.sizes());
  FusedOptimizer opt(params, "lars");
  opt.set_skip_nonfinite(true);
  opt.step();
  EXPECT_FALSE(opt.last_step_skipped());
  params[1].mutable_grad()[2][3] = INFINITY;
  auto before = snapshot(opt, params);
  opt.step();
  EXPECT_TRUE(opt.last_step_skipped());
  EXPECT_EQ(opt.step_count(), 1);
  expectUnchanged(before, snapshot(opt, params));
}

TEST(FusedOptimizer, LearningRateSchedulersDriveTheLrHyperparameter) {
  torch::Tensor p = torch::ones({4}).set_requires_grad(true);
  FusedOptimizer opt({p}, "sgd", FusedOptions().set("lr", 0.1).set("momentum", 0));
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].options().get_lr(), 0.1);
  torch::optim::StepLR scheduler(opt, /*step_size=*/1, /*gamma=*/0.5);
  scheduler.step(); // LibTorch's schedulers start with a step that keeps the initial lr
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].options().get_lr(), 0.1);
  p.mutable_grad() = torch::ones({4});
  opt.step(); // lr 0.1
  scheduler.step();
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].options().get_lr(), 0.05);
  opt.step(); // lr 0.05
  EXPECT_TRUE(torch::allclose(p.detach(), torch::full({4}, 1 - 0.1 - 0.05)));

  // Groups that never set lr report the rule's default.
  FusedOptimizer defaults({p}, "tvlars");
  EXPECT_DOUBLE_EQ(defaults.param_groups()[0].options().get_lr(), 1.0);
}

} // namespace
