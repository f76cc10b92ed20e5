// Every optim op parses, verifies, prints and re-parses (custom and generic forms).
// RUN: optfuse-opt %s | optfuse-opt | FileCheck %s
// RUN: optfuse-opt %s --mlir-print-op-generic | optfuse-opt | FileCheck %s

// CHECK-LABEL: optim.rule @all_ops {
optim.rule @all_ops {
  // CHECK: %lr = optim.hyper "lr" = 1.000000e-01 : f32
  %lr = optim.hyper "lr" = 0.1 : f32
  // CHECK: %nesterov = optim.hyper "nesterov" = false
  %nesterov = optim.hyper "nesterov" = false
  // CHECK: %t = optim.step
  %t = optim.step
  // CHECK: %skip = optim.flag "skip"
  %skip = optim.flag "skip"
  // CHECK: %w = optim.param
  %w = optim.param
  // CHECK: %g = optim.grad
  %g = optim.grad
  // CHECK: %m = optim.state "m" = 0.000000e+00
  %m = optim.state "m" = 0.0
  // CHECK: %v = optim.state "v" = 1.000000e+00
  %v = optim.state "v" = 1.0
  // CHECK: optim.add %w, %g : !optim.layer, !optim.layer
  %a = optim.add %w, %g : !optim.layer, !optim.layer
  // CHECK: optim.sub %{{.*}}, %lr : !optim.layer, f32
  %b = optim.sub %a, %lr : !optim.layer, f32
  // CHECK: optim.mul %lr, %{{.*}} : f32, !optim.layer
  %c = optim.mul %lr, %b : f32, !optim.layer
  // CHECK: optim.div %{{.*}}, %{{.*}} : !optim.layer, !optim.layer
  %d = optim.div %c, %a : !optim.layer, !optim.layer
  // CHECK: optim.max %{{.*}}, %lr : !optim.layer, f32
  %e = optim.max %d, %lr : !optim.layer, f32
  // CHECK: optim.min %lr, %{{.*}} : f32, !optim.layer
  %f = optim.min %lr, %e : f32, !optim.layer
  // CHECK: optim.pow %{{.*}}, %lr : !optim.layer, f32
  %h = optim.pow %f, %lr : !optim.layer, f32
  // CHECK: optim.neg %{{.*}} : !optim.layer
  %i = optim.neg %h : !optim.layer
  // CHECK: optim.abs %{{.*}} : !optim.layer
  %j = optim.abs %i : !optim.layer
  // CHECK: optim.sqrt %{{.*}} : !optim.layer
  %k = optim.sqrt %j : !optim.layer
  // CHECK: optim.rsqrt %{{.*}} : !optim.layer
  %l = optim.rsqrt %k : !optim.layer
  // CHECK: optim.exp %{{.*}} : !optim.layer
  %n = optim.exp %l : !optim.layer
  // CHECK: optim.log %{{.*}} : f32
  %o = optim.log %lr : f32
  // CHECK: optim.select %skip, %w, %{{.*}} : !optim.layer, !optim.layer
  %p = optim.select %skip, %w, %n : !optim.layer, !optim.layer
  // CHECK: optim.clamp %{{.*}}, %lr, %{{.*}} : !optim.layer
  %q = optim.clamp %p, %lr, %o : !optim.layer
  // CHECK: optim.norm %{{.*}}
  %r = optim.norm %q
  // CHECK: optim.sum %g
  %s = optim.sum %g
  // CHECK: optim.dot %w, %g
  %u = optim.dot %w, %g
  // CHECK: optim.trust_ratio %{{.*}}, %{{.*}} scale %lr eps %{{.*}}
  %x = optim.trust_ratio %r, %s scale %lr eps %u
  // CHECK: optim.trust_ratio %{{.*}}, %{{.*}}{{$}}
  %y = optim.trust_ratio %r, %s
  // CHECK: optim.tv_coeff %t alpha %lr lambda %{{.*}} delay %{{.*}} floor %{{.*}}
  %z = optim.tv_coeff %t alpha %lr lambda %x delay %y floor %o
  %step = optim.mul %z, %q : f32, !optim.layer
  %w_new = optim.sub %w, %step : !optim.layer, !optim.layer
  // CHECK: optim.update %{{.*}}, "m" = %{{.*}}, "v" = %v
  optim.update %w_new, "m" = %q, "v" = %v
}

// A rule with no state and arith on scalars.
// CHECK-LABEL: optim.rule @plain_sgd {
// CHECK: optim.update %{{.*}}{{$}}
optim.rule @plain_sgd {
  %lr = optim.hyper "lr" = 0.01 : f32
  %w = optim.param
  %g = optim.grad
  %neg = arith.negf %lr : f32
  %step = optim.mul %neg, %g : f32, !optim.layer
  %w_new = optim.add %w, %step : !optim.layer, !optim.layer
  optim.update %w_new
}
