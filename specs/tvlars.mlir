// TVLARS: time-varying LARS (Do et al., "Revisiting LARS for Large Batch Training Generalization
// of Neural Networks"). It replaces learning-rate warm-up with a sigmoid-like coefficient phi(t) on
// the LARS trust ratio: early steps explore with a large layer-wise rate, later steps act as LARS.
//
// For each layer, at step t (0 on the first step):
//   d     = g + weight_decay*w                     (d = g when the layer has exclude_decay)
//   phi   = 1 / (alpha + exp(lambda*(t - delay))) + gamma_min
//   wn    = clamp(||w||, 0, norm_clamp);  dn = clamp(||d||, 0, norm_clamp)
//   q     = eta*phi*wn/dn if wn > 0 and dn > 0, else 1   (q = 1 when the layer has exclude_adapt)
//   buf   = momentum*buf + q*d
//   w     = w - lr*buf
//
// Hyperparameters (defaults reproduce the TVLARS reference implementation exactly: alpha 0.1 and
// delay -1 give phi(t) = 1/(0.1 + exp(lambda*(t+1))); gamma_min 0; both norms clamped at 10):
//   lr            learning rate, constant (no warm-up)                 1.0
//   momentum      momentum factor                                      0.9
//   weight_decay  L2 weight decay folded into d                        5e-4
//   eta           LARS trust coefficient                               1e-3
//   alpha         sets the early plateau of phi, 1/alpha               0.1
//   lambda        decay speed of phi (the paper's delay factor)        1e-3
//   delay         step d_e around which phi decays                     -1
//   gamma_min     floor of phi                                         0
//   norm_clamp    upper clamp of both norms; inf disables the clamp    10
// Flags: exclude_decay, exclude_adapt (the reference sets both for 1-D tensors).
// State: momentum_buffer, initially 0.
optim.rule @tvlars {
  %lr = optim.hyper "lr" = 1.000000e+00 : f32
  %momentum = optim.hyper "momentum" = 9.000000e-01 : f32
  %weight_decay = optim.hyper "weight_decay" = 5.000000e-04 : f32
  %eta = optim.hyper "eta" = 1.000000e-03 : f32
  %alpha = optim.hyper "alpha" = 1.000000e-01 : f32
  %lambda = optim.hyper "lambda" = 1.000000e-03 : f32
  %delay = optim.hyper "delay" = -1.000000e+00 : f32
  %gamma_min = optim.hyper "gamma_min" = 0.000000e+00 : f32
  %norm_clamp = optim.hyper "norm_clamp" = 1.000000e+01 : f32
  %t = optim.step
  %exclude_decay = optim.flag "exclude_decay"
  %exclude_adapt = optim.flag "exclude_adapt"
  %w = optim.param
  %g = optim.grad
  %buf = optim.state "momentum_buffer" = 0.000000e+00

  // d = g + weight_decay*w, or g for layers excluded from weight decay.
  %decay = optim.mul %weight_decay, %w : f32, !optim.layer
  %g_decayed = optim.add %g, %decay : !optim.layer, !optim.layer
  %d = optim.select %exclude_decay, %g, %g_decayed : !optim.layer, !optim.layer

  // The trust ratio on the clamped norms, scaled by eta*phi(t).
  %zero = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %w_norm = optim.norm %w
  %d_norm = optim.norm %d
  %wn = optim.clamp %w_norm, %zero, %norm_clamp : f32
  %dn = optim.clamp %d_norm, %zero, %norm_clamp : f32
  %phi = optim.tv_coeff %t alpha %alpha lambda %lambda delay %delay floor %gamma_min
  %scale = arith.mulf %eta, %phi : f32
  %ratio = optim.trust_ratio %wn, %dn scale %scale
  %q = arith.select %exclude_adapt, %one, %ratio : f32

  // Momentum on the scaled direction, then the step.
  %buf_decayed = optim.mul %momentum, %buf : f32, !optim.layer
  %direction = optim.mul %q, %d : f32, !optim.layer
  %buf_new = optim.add %buf_decayed, %direction : !optim.layer, !optim.layer
  %delta = optim.mul %lr, %buf_new : f32, !optim.layer
  %w_new = optim.sub %w, %delta : !optim.layer, !optim.layer
  optim.update %w_new, "momentum_buffer" = %buf_new
}
