// LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning"): Adam moments with a
// layer-wise trust ratio. The norm clamp of the common PyTorch reference is a hyperparameter.
//
// For each layer, at step t (0 on the first step):
//   m  = beta1*m + (1 - beta1)*g
//   v  = beta2*v + (1 - beta2)*g*g
//   mh = m / (1 - beta1^(t+1)),  vh = v / (1 - beta2^(t+1))   when bias_correction, else m, v
//   u  = mh / (sqrt(vh) + eps) + weight_decay*w        (no decay term with exclude_decay)
//   r  = clamp(||w||, 0, norm_clamp) / ||u|| if both norms > 0, else 1  (1 with exclude_adapt)
//   w  = w - lr*r*u
//
// Hyperparameters:
//   lr               learning rate                                      1e-3
//   beta1, beta2     moment decay rates                                 0.9, 0.999
//   eps              added to sqrt(vh)                                  1e-6
//   weight_decay     decoupled decay added to the update direction      0.01
//   bias_correction  divide the moments by 1 - beta^(t+1)               true
//   norm_clamp       upper clamp of ||w||; inf gives the paper's form   10
// Flags: exclude_decay, exclude_adapt. State: exp_avg (m) and exp_avg_sq (v), initially 0.
optim.rule @lamb {
  %lr = optim.hyper "lr" = 1.000000e-03 : f32
  %beta1 = optim.hyper "beta1" = 9.000000e-01 : f32
  %beta2 = optim.hyper "beta2" = 9.990000e-01 : f32
  %eps = optim.hyper "eps" = 9.99999997e-07 : f32
  %weight_decay = optim.hyper "weight_decay" = 0.00999999977 : f32
  %bias_correction = optim.hyper "bias_correction" = true
  %norm_clamp = optim.hyper "norm_clamp" = 1.000000e+01 : f32
  %t = optim.step
  %exclude_decay = optim.flag "exclude_decay"
  %exclude_adapt = optim.flag "exclude_adapt"
  %w = optim.param
  %g = optim.grad
  %m = optim.state "exp_avg" = 0.000000e+00
  %v = optim.state "exp_avg_sq" = 0.000000e+00

  %zero = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  // Moments.
  %keep1 = arith.subf %one, %beta1 : f32
  %keep2 = arith.subf %one, %beta2 : f32
  %m_decayed = optim.mul %beta1, %m : f32, !optim.layer
  %g_scaled = optim.mul %keep1, %g : f32, !optim.layer
  %m_new = optim.add %m_decayed, %g_scaled : !optim.layer, !optim.layer
  %v_decayed = optim.mul %beta2, %v : f32, !optim.layer
  %g2 = optim.mul %g, %g : !optim.layer, !optim.layer
  %g2_scaled = optim.mul %keep2, %g2 : f32, !optim.layer
  %v_new = optim.add %v_decayed, %g2_scaled : !optim.layer, !optim.layer

  // Bias correction: 1 - beta^(t+1), or 1 when disabled.
  %t1 = arith.addf %t, %one : f32
  %beta1_t = math.powf %beta1, %t1 : f32
  %beta2_t = math.powf %beta2, %t1 : f32
  %bc1_on = arith.subf %one, %beta1_t : f32
  %bc2_on = arith.subf %one, %beta2_t : f32
  %bc1 = arith.select %bias_correction, %bc1_on, %one : f32
  %bc2 = arith.select %bias_correction, %bc2_on, %one : f32

  // u = mh / (sqrt(vh) + eps) + weight_decay*w.
  %mh = optim.div %m_new, %bc1 : !optim.layer, f32
  %vh = optim.div %v_new, %bc2 : !optim.layer, f32
  %root = optim.sqrt %vh : !optim.layer
  %denom = optim.add %root, %eps : !optim.layer, f32
  %adam = optim.div %mh, %denom : !optim.layer, !optim.layer
  %decay = optim.mul %weight_decay, %w : f32, !optim.layer
  %u_decayed = optim.add %adam, %decay : !optim.layer, !optim.layer
  %u = optim.select %exclude_decay, %adam, %u_decayed : !optim.layer, !optim.layer

  // The trust ratio on the clamped parameter norm.
  %w_norm = optim.norm %w
  %u_norm = optim.norm %u
  %wn = optim.clamp %w_norm, %zero, %norm_clamp : f32
  %ratio = optim.trust_ratio %wn, %u_norm
  %r = arith.select %exclude_adapt, %one, %ratio : f32
  %step = arith.mulf %lr, %r : f32
  %delta = optim.mul %step, %u : f32, !optim.layer
  %w_new = optim.sub %w, %delta : !optim.layer, !optim.layer
  optim.update %w_new, "exp_avg" = %m_new, "exp_avg_sq" = %v_new
}
