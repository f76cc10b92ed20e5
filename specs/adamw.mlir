// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization") in torch.optim.AdamW's
// convention (amsgrad off).
//
// For each layer, at step t (0 on the first step):
//   w   = w * (1 - lr*weight_decay)             (skipped when the layer has exclude_decay)
//   m   = beta1*m + (1 - beta1)*g
//   v   = beta2*v + (1 - beta2)*g*g
//   bc1 = 1 - beta1^(t+1),  bc2 = 1 - beta2^(t+1)
//   w   = w - (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps)
//
// Hyperparameters:
//   lr             learning rate                 1e-3
//   beta1, beta2   moment decay rates            0.9, 0.999
//   eps            added to the denominator      1e-8
//   weight_decay   decoupled weight decay        0.01
// Flags: exclude_decay. State: exp_avg (m) and exp_avg_sq (v), initially 0.
optim.rule @adamw {
  %lr = optim.hyper "lr" = 1.000000e-03 : f32
  %beta1 = optim.hyper "beta1" = 9.000000e-01 : f32
  %beta2 = optim.hyper "beta2" = 9.990000e-01 : f32
  %eps = optim.hyper "eps" = 9.99999993e-09 : f32
  %weight_decay = optim.hyper "weight_decay" = 0.00999999977 : f32
  %t = optim.step
  %exclude_decay = optim.flag "exclude_decay"
  %w = optim.param
  %g = optim.grad
  %m = optim.state "exp_avg" = 0.000000e+00
  %v = optim.state "exp_avg_sq" = 0.000000e+00

  %one = arith.constant 1.000000e+00 : f32
  // Decoupled decay.
  %lr_wd = arith.mulf %lr, %weight_decay : f32
  %shrink_on = arith.subf %one, %lr_wd : f32
  %shrink = arith.select %exclude_decay, %one, %shrink_on : f32
  %w_decayed = optim.mul %w, %shrink : !optim.layer, f32

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

  // Bias-corrected step.
  %t1 = arith.addf %t, %one : f32
  %beta1_t = math.powf %beta1, %t1 : f32
  %beta2_t = math.powf %beta2, %t1 : f32
  %bc1 = arith.subf %one, %beta1_t : f32
  %bc2 = arith.subf %one, %beta2_t : f32
  %step_size = arith.divf %lr, %bc1 : f32
  %bc2_root = math.sqrt %bc2 : f32
  %root = optim.sqrt %v_new : !optim.layer
  %root_corrected = optim.div %root, %bc2_root : !optim.layer, f32
  %denom = optim.add %root_corrected, %eps : !optim.layer, f32
  %ratio = optim.div %m_new, %denom : !optim.layer, !optim.layer
  %delta = optim.mul %step_size, %ratio : f32, !optim.layer
  %w_new = optim.sub %w_decayed, %delta : !optim.layer, !optim.layer
  optim.update %w_new, "exp_avg" = %m_new, "exp_avg_sq" = %v_new
}
