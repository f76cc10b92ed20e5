optim.rule @forgets_its_state {
  %w = optim.param
  %g = optim.grad
  %buf = optim.state "buf" = 0.0
  optim.update %g
}
