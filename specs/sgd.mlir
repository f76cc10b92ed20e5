// SGD with momentum, dampening and Nesterov momentum, in torch.optim.SGD's convention.
//
// For each layer, at step t (0 on the first step):
//   d   = g + weight_decay*w                   (d = g when the layer has exclude_decay)
//   buf = d on the first step, else momentum*buf + (1 - dampening)*d
//   dir = nesterov ? d + momentum*buf : buf    (dir = d when momentum is 0: no buffer is used)
//   w   = w - lr*dir
// The first step is t == 0 for every layer (torch starts a layer's buffer on the first step that
// layer has a gradient; the two agree unless a layer first gets a gradient later with dampening).
//
// Hyperparameters:
//   lr            learning rate                    0.01
//   momentum      momentum factor                  0.9
//   dampening     dampening of the momentum        0
//   weight_decay  L2 weight decay folded into d    0
//   nesterov      Nesterov momentum                false
// Flags: exclude_decay. State: momentum_buffer, initially 0.
optim.rule @sgd {
  %lr = optim.hyper "lr" = 1.000000e-02 : f32
  %momentum = optim.hyper "momentum" = 9.000000e-01 : f32
  %dampening = optim.hyper "dampening" = 0.000000e+00 : f32
  %weight_decay = optim.hyper "weight_decay" = 0.000000e+00 : f32
  %nesterov = optim.hyper "nesterov" = false
  %t = optim.step
  %exclude_decay = optim.flag "exclude_decay"
  %w = optim.param
  %g = optim.grad
  %buf = optim.state "momentum_buffer" = 0.000000e+00

  %zero = arith.constant 0.000000e+00 : f32
  %one = arith.constant 1.000000e+00 : f32
  %decay = optim.mul %weight_decay, %w : f32, !optim.layer
  %g_decayed = optim.add %g, %decay : !optim.layer, !optim.layer
  %d = optim.select %exclude_decay, %g, %g_decayed : !optim.layer, !optim.layer

  // buf = d on the first step, else momentum*buf + (1 - dampening)*d.
  %first = arith.cmpf oeq, %t, %zero : f32
  %keep = arith.subf %one, %dampening : f32
  %buf_decayed = optim.mul %momentum, %buf : f32, !optim.layer
  %d_damped = optim.mul %keep, %d : f32, !optim.layer
  %buf_next = optim.add %buf_decayed, %d_damped : !optim.layer, !optim.layer
  %buf_new = optim.select %first, %d, %buf_next : !optim.layer, !optim.layer

  // The direction: Nesterov looks ahead; without momentum torch uses d itself.
  %lookahead = optim.mul %momentum, %buf_new : f32, !optim.layer
  %nesterov_dir = optim.add %d, %lookahead : !optim.layer, !optim.layer
  %momentum_dir = optim.select %nesterov, %nesterov_dir, %buf_new : !optim.layer, !optim.layer
  %has_momentum = arith.cmpf une, %momentum, %zero : f32
  %dir = optim.select %has_momentum, %momentum_dir, %d : !optim.layer, !optim.layer
  %delta = optim.mul %lr, %dir : f32, !optim.layer
  %w_new = optim.sub %w, %delta : !optim.layer, !optim.layer
  optim.update %w_new, "momentum_buffer" = %buf_new
}
