// LARS (You, Gitman, Ginsburg 2017, "Large Batch Training of Convolutional Networks") in the torch
// form used by most reference code (Barlow Twins, timm), with optional LARC trust clipping.
//
// For each layer:
//   d   = g + weight_decay*w                        (d = g when the layer has exclude_decay)
//   q   = eta*||w|| / (||d|| + eps) if ||w|| > 0 and ||d|| > 0, else 1
//   q   = min(q / lr, 1)                             when trust_clip (LARC)
//   q   = 1                                          when the layer has exclude_adapt
//   buf = momentum*buf + q*d
//   w   = w - lr*buf
//
// Hyperparameters:
//   lr            learning rate                                  0.1
//   momentum      momentum factor                                0.9
//   weight_decay  L2 weight decay folded into d                  0
//   eta           trust coefficient                              1e-3
//   eps           added to the denominator (timm uses 1e-8)      0
//   trust_clip    LARC clipping of the local rate                false
// Flags: exclude_decay, exclude_adapt (usually set for 1-D tensors). State: momentum_buffer, 0.
optim.rule @lars {
  %lr = optim.hyper "lr" = 1.000000e-01 : f32
  %momentum = optim.hyper "momentum" = 9.000000e-01 : f32
  %weight_decay = optim.hyper "weight_decay" = 0.000000e+00 : f32
  %eta = optim.hyper "eta" = 1.000000e-03 : f32
  %eps = optim.hyper "eps" = 0.000000e+00 : f32
  %trust_clip = optim.hyper "trust_clip" = false
  %exclude_decay = optim.flag "exclude_decay"
  %exclude_adapt = optim.flag "exclude_adapt"
  %w = optim.param
  %g = optim.grad
  %buf = optim.state "momentum_buffer" = 0.000000e+00

  %one = arith.constant 1.000000e+00 : f32
  %decay = optim.mul %weight_decay, %w : f32, !optim.layer
  %g_decayed = optim.add %g, %decay : !optim.layer, !optim.layer
  %d = optim.select %exclude_decay, %g, %g_decayed : !optim.layer, !optim.layer

  %w_norm = optim.norm %w
  %d_norm = optim.norm %d
  %ratio = optim.trust_ratio %w_norm, %d_norm scale %eta eps %eps
  %ratio_per_lr = arith.divf %ratio, %lr : f32
  %clipped = arith.minimumf %ratio_per_lr, %one : f32
  %adapted = arith.select %trust_clip, %clipped, %ratio : f32
  %q = arith.select %exclude_adapt, %one, %adapted : f32

  %buf_decayed = optim.mul %momentum, %buf : f32, !optim.layer
  %direction = optim.mul %q, %d : f32, !optim.layer
  %buf_new = optim.add %buf_decayed, %direction : !optim.layer, !optim.layer
  %delta = optim.mul %lr, %buf_new : f32, !optim.layer
  %w_new = optim.sub %w, %delta : !optim.layer, !optim.layer
  optim.update %w_new, "momentum_buffer" = %buf_new
}
