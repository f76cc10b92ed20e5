optim.rule @a {
  %w = optim.param
  optim.update %w
}
optim.rule @b {
  %w = optim.param
  optim.update %w
}
