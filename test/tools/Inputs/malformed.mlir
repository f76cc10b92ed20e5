optim.rule @r {
  %w = optim.param
  %x = optim.add %w : !optim.layer
}
