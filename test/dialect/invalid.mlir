// Invalid rules: each case is rejected with a message that says what is wrong and how to fix it.
// RUN: optfuse-opt %s -split-input-file -verify-diagnostics

// A rule with no body at all.
// expected-error @+1 {{'optim.rule' op @empty has no 'optim.update': a rule must end with 'optim.update' writing the parameter's new value and every state buffer}}
optim.rule @empty {
}

// -----

// A rule that computes but never updates.
// expected-error @+1 {{'optim.rule' op @no_update has no 'optim.update'}}
optim.rule @no_update {
  %w = optim.param
  %n = optim.norm %w
}

// -----

// A state buffer that is never written.
optim.rule @state_never_written {
  %w = optim.param
  // expected-note @+1 {{declared here}}
  %buf = optim.state "momentum_buffer" = 0.0
  // expected-error @+1 {{'optim.update' op never writes state buffer 'momentum_buffer'; add `, "momentum_buffer" = %new_value` (or write back its old value)}}
  optim.update %w
}

// -----

// A state buffer written twice.
optim.rule @state_written_twice {
  %w = optim.param
  %buf = optim.state "momentum_buffer" = 0.0
  // expected-error @+1 {{'optim.update' op writes state buffer 'momentum_buffer' twice; each state buffer is written exactly once}}
  optim.update %w, "momentum_buffer" = %buf, "momentum_buffer" = %buf
}

// -----

// Writing a state buffer the rule does not declare.
optim.rule @unknown_state {
  %w = optim.param
  %m = optim.state "exp_avg" = 0.0
  // expected-error @+1 {{'optim.update' op writes unknown state buffer 'exp_avg_sq'; declared state buffers: 'exp_avg'}}
  optim.update %w, "exp_avg" = %m, "exp_avg_sq" = %m
}

// -----

// A hyperparameter declared twice.
optim.rule @hyper_twice {
  // expected-note @+1 {{first declared here}}
  %lr = optim.hyper "lr" = 1.0 : f32
  // expected-error @+1 {{'optim.hyper' op declares hyperparameter 'lr' twice; each name must be unique}}
  %lr2 = optim.hyper "lr" = 2.0 : f32
  %w = optim.param
  optim.update %w
}

// -----

// A state buffer declared twice.
optim.rule @state_twice {
  %w = optim.param
  // expected-note @+1 {{first declared here}}
  %a = optim.state "buf" = 0.0
  // expected-error @+1 {{'optim.state' op declares state buffer 'buf' twice; each name must be unique}}
  %b = optim.state "buf" = 1.0
  optim.update %w, "buf" = %a
}

// -----

// The parameter declared twice.
optim.rule @param_twice {
  // expected-note @+1 {{first declared here}}
  %w = optim.param
  // expected-error @+1 {{'optim.param' op is declared twice in the rule; declare it once and reuse its value}}
  %w2 = optim.param
  optim.update %w
}

// -----

// The step counter declared twice.
optim.rule @step_twice {
  // expected-note @+1 {{first declared here}}
  %t = optim.step
  // expected-error @+1 {{'optim.step' op is declared twice in the rule}}
  %t2 = optim.step
  %w = optim.param
  optim.update %w
}

// -----

// A reduction of a scalar: norms are taken over layers.
optim.rule @norm_of_scalar {
  %lr = optim.hyper "lr" = 1.0 : f32
  %w = optim.param
  // expected-error @+1 {{'optim.norm' op operand #0 must be the fp32 elements of one layer, but got 'f32'}}
  %n = "optim.norm"(%lr) : (f32) -> f32
  optim.update %w
}

// -----

// A dot product of a layer and a scalar.
optim.rule @dot_with_scalar {
  %lr = optim.hyper "lr" = 1.0 : f32
  %w = optim.param
  // expected-error @+1 {{'optim.dot' op operand #1 must be the fp32 elements of one layer, but got 'f32'}}
  %n = "optim.dot"(%w, %lr) : (!optim.layer, f32) -> f32
  optim.update %w
}

// -----

// Type mismatch: an elementwise op of a layer cannot produce a scalar.
optim.rule @result_type_mismatch {
  %w = optim.param
  %g = optim.grad
  // expected-error @+2 {{'optim.add' op inferred type(s) '!optim.layer' are incompatible with return type(s) of operation 'f32'}}
  // expected-error @+1 {{'optim.add' op failed to infer returned types}}
  %s = "optim.add"(%w, %g) : (!optim.layer, !optim.layer) -> f32
  optim.update %w
}

// -----

// Type mismatch: the parameter's new value must be a layer.
optim.rule @update_with_scalar {
  %lr = optim.hyper "lr" = 1.0 : f32
  %w = optim.param
  // expected-error @+1 {{'optim.update' op operand #0 must be the fp32 elements of one layer, but got 'f32'}}
  "optim.update"(%lr) <{state_names = []}> : (f32) -> ()
}

// -----

// Type mismatch: a select needs an i1 condition.
optim.rule @select_condition {
  %lr = optim.hyper "lr" = 1.0 : f32
  %w = optim.param
  %g = optim.grad
  // expected-error @+1 {{'optim.select' op operand #0 must be 1-bit signless integer, but got 'f32'}}
  %d = "optim.select"(%lr, %w, %g) : (f32, !optim.layer, !optim.layer) -> !optim.layer
  optim.update %d
}

// -----

// A hyperparameter must be f32 or a boolean.
optim.rule @hyper_int {
  // expected-error @+1 {{'optim.hyper' op result #0 must be 32-bit float or 1-bit signless integer, but got 'i32'}}
  %n = optim.hyper "steps" = 3 : i32
  %w = optim.param
  optim.update %w
}

// -----

// A hyperparameter name that the runtime could not expose.
optim.rule @hyper_bad_name {
  // expected-error @+1 {{'optim.hyper' op hyperparameter name 'learning rate' is not an identifier: use letters, digits and '_', starting with a letter or '_' (the runtime exposes it by this name)}}
  %lr = optim.hyper "learning rate" = 1.0 : f32
  %w = optim.param
  optim.update %w
}

// -----

// A NaN default.
optim.rule @hyper_nan {
  // expected-error @+1 {{'optim.hyper' op hyperparameter 'lr' has a NaN default; give a number (infinity is allowed)}}
  %lr = optim.hyper "lr" = 0x7FC00000 : f32
  %w = optim.param
  optim.update %w
}

// -----

// A state buffer must start finite.
optim.rule @state_inf {
  %w = optim.param
  // expected-error @+1 {{'optim.state' op state buffer 'buf' needs a finite initial value, got INF}}
  %buf = optim.state "buf" = 0x7F800000
  optim.update %w, "buf" = %buf
}

// -----

// A flag name must be an identifier.
optim.rule @flag_bad_name {
  // expected-error @+1 {{'optim.flag' op flag name '1d' is not an identifier}}
  %f = optim.flag "1d"
  %w = optim.param
  optim.update %w
}

// -----

// Misplaced: a declaration outside a rule.
func.func @outside() {
  // expected-error @+1 {{'optim.param' op expects parent op 'optim.rule'}}
  %w = optim.param
  return
}

// -----

// Misplaced: the update must end the rule.
optim.rule @update_not_last {
  %w = optim.param
  // expected-error @+1 {{'optim.update' op must be the last operation in the parent block}}
  optim.update %w
  %g = optim.grad
}

// -----

// Misplaced: a yield belongs to a sweep.
optim.rule @yield_in_rule {
  %w = optim.param
  // expected-error @+1 {{'optim.yield' op expects parent op 'optim.sweep'}}
  optim.yield
  optim.update %w
}

// -----

// Operations from other dialects are not part of a rule.
optim.rule @foreign_op {
  %w = optim.param
  // expected-error @+1 {{'memref.alloc' op is not allowed in an optim.rule: a rule body holds optim operations and arith/math operations on scalars}}
  %m = memref.alloc() : memref<4xf32>
  optim.update %w
}

// -----

// Control flow is expressed with optim.select, not regions.
optim.rule @region_op {
  %w = optim.param
  %c = arith.constant true
  // expected-error @+1 {{'scf.if' op is not allowed in an optim.rule}}
  scf.if %c {
  }
  optim.update %w
}

// -----

// A sweep body must take one f32 element per swept layer.
optim.rule @sweep_args {
  %w = optim.param
  %g = optim.grad
  // expected-error @+1 {{'optim.sweep' op body takes 1 element arguments but 2 layers are swept}}
  %s = optim.sweep ins(%w, %g) -> f32 {
  ^bb0(%we: f32):
    optim.yield %we : f32
  }
  optim.update %w
}

// -----

// Reductions come before layer results in a sweep.
optim.rule @sweep_result_order {
  %w = optim.param
  // expected-error @+1 {{'optim.sweep' op reduction results must come before layer results}}
  %r:2 = optim.sweep ins(%w) -> !optim.layer, f32 {
  ^bb0(%we: f32):
    optim.yield %we, %we : f32, f32
  }
  optim.update %r#0
}

// -----

// A trust ratio is computed from scalars.
optim.rule @trust_ratio_of_layer {
  %w = optim.param
  %n = optim.norm %w
  // expected-error @+1 {{'optim.trust_ratio' op operand #0 must be 32-bit float, but got '!optim.layer'}}
  %q = "optim.trust_ratio"(%w, %n) <{operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (!optim.layer, f32) -> f32
  optim.update %w
}
