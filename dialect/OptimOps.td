//===- OptimOps.td - Operations of the optim dialect -------*- tablegen -*-===//
//
// This file defines the operations of the optim dialect: the rule container, the declarations a
// rule reads (hyperparameters, step, flags, parameter, gradient, state), elementwise math with
// scalar broadcast, per-layer reductions, the domain ops the layer-wise rules share, the update,
// and the explicit sweeps that sweep planning produces.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_DIALECT_OPTIMOPS_TD
#define OPTFUSE_DIALECT_OPTIMOPS_TD

include "dialect/OptimDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/OpAsmInterface.td"

//===----------------------------------------------------------------------===//
// The rule
//===----------------------------------------------------------------------===//

def Optim_RuleOp : Optim_Op<"rule", [Symbol, IsolatedFromAbove, NoRegionArguments,
    NoTerminator]> {
  let summary = "a layer-wise optimizer update rule";
  let description = [{
    The body states, for one layer, what a step reads and writes. It declares its inputs with
    `optim.hyper`, `optim.step`, `optim.flag`, `optim.param`, `optim.grad` and `optim.state`,
    computes with optim, `arith` and `math` operations, and ends with exactly one `optim.update`
    that writes the parameter and every state buffer once. The compiler applies the rule to every
    layer of a model in one fused step.

    Example (SGD with momentum):

    ```mlir
    optim.rule @sgd {
      %lr = optim.hyper "lr" = 1.000000e-01 : f32
      %mom = optim.hyper "momentum" = 9.000000e-01 : f32
      %w = optim.param
      %g = optim.grad
      %buf = optim.state "momentum_buffer" = 0.0
      %mb = optim.mul %mom, %buf : f32, !optim.layer
      %b1 = optim.add %mb, %g : !optim.layer, !optim.layer
      %step = optim.mul %lr, %b1 : f32, !optim.layer
      %w1 = optim.sub %w, %step : !optim.layer, !optim.layer
      optim.update %w1, "momentum_buffer" = %b1
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region AnyRegion:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The terminating update, or null when the body has none.
    UpdateOp getUpdate();
  }];
}

//===----------------------------------------------------------------------===//
// Declarations: what a rule reads
//===----------------------------------------------------------------------===//

// Declarations are not Pure: an unused declaration still belongs to the rule's interface (its
// hyperparameters and state buffers), so dead-code elimination must keep it.
class Optim_DeclOp<string mnemonic, list<Trait> traits = []>
    : Optim_Op<mnemonic, !listconcat(traits, [HasParent<"RuleOp">,
          DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>])>;

def Optim_HyperOp : Optim_DeclOp<"hyper", [AllTypesMatch<["default_value", "result"]>]> {
  let summary = "a named hyperparameter with its default value";
  let description = [{
    A runtime scalar, set per parameter group (e.g. `lr`, `momentum`, `weight_decay`). Its type is
    `f32`, or `i1` for a switch such as `nesterov`. The name is what users pass to the optimizer;
    the default applies when they do not.

    ```mlir
    %lr = optim.hyper "lr" = 1.000000e+00 : f32
    %nesterov = optim.hyper "nesterov" = false
    ```
  }];
  let arguments = (ins StrAttr:$name, TypedAttrInterface:$default_value);
  let results = (outs AnyTypeOf<[F32, I1]>:$result);
  let assemblyFormat = "$name `=` $default_value attr-dict";
  let hasVerifier = 1;
}

def Optim_StepOp : Optim_DeclOp<"step"> {
  let summary = "the optimizer step counter";
  let description = [{
    The global step counter `t` as an `f32`: 0 on the first step, incremented after every step.

    ```mlir
    %t = optim.step
    ```
  }];
  let results = (outs F32:$result);
  let assemblyFormat = "attr-dict";
}

def Optim_FlagOp : Optim_DeclOp<"flag"> {
  let summary = "a per-layer switch";
  let description = [{
    A boolean set per layer by the runtime, for example `exclude_decay` or `exclude_adapt`
    (set for 1-D tensors by the references). Use it in `optim.select`.

    ```mlir
    %no_decay = optim.flag "exclude_decay"
    %d = optim.select %no_decay, %g, %d0 : !optim.layer, !optim.layer
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs I1:$result);
  let assemblyFormat = "$name attr-dict";
  let hasVerifier = 1;
}

def Optim_ParamOp : Optim_DeclOp<"param"> {
  let summary = "the layer's parameter";
  let description = [{
    The current values of the layer's parameter tensor. `optim.update` writes its new value.

    ```mlir
    %w = optim.param
    ```
  }];
  let results = (outs Optim_LayerType:$result);
  let assemblyFormat = "attr-dict";
}

def Optim_GradOp : Optim_DeclOp<"grad"> {
  let summary = "the layer's gradient";
  let description = [{
    The gradient of the layer's parameter (read only).

    ```mlir
    %g = optim.grad
    ```
  }];
  let results = (outs Optim_LayerType:$result);
  let assemblyFormat = "attr-dict";
}

def Optim_StateOp : Optim_DeclOp<"state"> {
  let summary = "a named per-layer state buffer with its initial value";
  let description = [{
    A buffer with one fp32 element per parameter element, kept across steps and saved with the
    optimizer (e.g. a momentum buffer). It holds `init` in every element before the first step;
    `optim.update` writes its new value.

    ```mlir
    %buf = optim.state "momentum_buffer" = 0.000000e+00
    ```
  }];
  let arguments = (ins StrAttr:$name, F32Attr:$init);
  let results = (outs Optim_LayerType:$result);
  let assemblyFormat = "$name `=` $init attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise math with scalar broadcast
//===----------------------------------------------------------------------===//

class Optim_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : Optim_Op<mnemonic, !listconcat(traits, [Pure,
          DeclareOpInterfaceMethods<InferTypeOpInterface>])>;

class Optim_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Optim_ElementwiseOp<mnemonic, traits> {
  let summary = "elementwise " # what;
  let description = [{
    Elementwise }] # what # [{ of two operands, each an `f32` scalar or a `!optim.layer`; a
    scalar is broadcast over the layer. The result is a layer if either operand is one.

    ```mlir
    %y = optim.}] # mnemonic # [{ %a, %x : f32, !optim.layer
    ```
  }];
  let arguments = (ins Optim_ScalarOrLayer:$lhs, Optim_ScalarOrLayer:$rhs);
  let results = (outs Optim_ScalarOrLayer:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Optim_AddOp : Optim_BinaryOp<"add", "addition", [Commutative]>;
def Optim_SubOp : Optim_BinaryOp<"sub", "subtraction">;
def Optim_MulOp : Optim_BinaryOp<"mul", "multiplication", [Commutative]>;
def Optim_DivOp : Optim_BinaryOp<"div", "division">;
def Optim_MaxOp : Optim_BinaryOp<"max", "maximum (NaN-propagating)", [Commutative]>;
def Optim_MinOp : Optim_BinaryOp<"min", "minimum (NaN-propagating)", [Commutative]>;
def Optim_PowOp : Optim_BinaryOp<"pow", "power `lhs ^ rhs`">;

class Optim_UnaryOp<string mnemonic, string what>
    : Optim_ElementwiseOp<mnemonic, [SameOperandsAndResultType]> {
  let summary = "elementwise " # what;
  let description = [{
    Elementwise }] # what # [{ of an `f32` scalar or a `!optim.layer`.

    ```mlir
    %y = optim.}] # mnemonic # [{ %x : !optim.layer
    ```
  }];
  let arguments = (ins Optim_ScalarOrLayer:$input);
  let results = (outs Optim_ScalarOrLayer:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasCanonicalizer = 1;
}

def Optim_NegOp : Optim_UnaryOp<"neg", "negation">;
def Optim_AbsOp : Optim_UnaryOp<"abs", "absolute value">;
def Optim_SqrtOp : Optim_UnaryOp<"sqrt", "square root">;
def Optim_RsqrtOp : Optim_UnaryOp<"rsqrt", "reciprocal square root">;
def Optim_ExpOp : Optim_UnaryOp<"exp", "exponential">;
def Optim_LogOp : Optim_UnaryOp<"log", "natural logarithm">;

def Optim_SelectOp : Optim_ElementwiseOp<"select"> {
  let summary = "choose between two values with a per-layer condition";
  let description = [{
    `%c ? %a : %b` where `%c` is an `i1` scalar (a flag, a boolean hyperparameter or a comparison
    of scalars) and the branches are `f32` scalars or layers (a scalar branch is broadcast).

    ```mlir
    %d = optim.select %no_decay, %g, %d0 : !optim.layer, !optim.layer
    ```
  }];
  let arguments = (ins I1:$condition, Optim_ScalarOrLayer:$true_value,
                   Optim_ScalarOrLayer:$false_value);
  let results = (outs Optim_ScalarOrLayer:$result);
  let assemblyFormat = [{
    $condition `,` $true_value `,` $false_value attr-dict `:` type($true_value) `,` type($false_value)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Optim_ClampOp : Optim_ElementwiseOp<"clamp"> {
  let summary = "clamp into [lo, hi]";
  let description = [{
    `min(max(x, lo), hi)` elementwise; `lo` and `hi` are `f32` scalars (infinities disable a side).
    NaN stays NaN.

    ```mlir
    %wn = optim.clamp %norm, %zero, %ten : f32
    ```
  }];
  let arguments = (ins Optim_ScalarOrLayer:$input, F32:$lo, F32:$hi);
  let results = (outs Optim_ScalarOrLayer:$result);
  let assemblyFormat = "$input `,` $lo `,` $hi attr-dict `:` type($input)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Reductions over a layer
//===----------------------------------------------------------------------===//

class Optim_ReductionOp<string mnemonic, string what> : Optim_Op<mnemonic, [Pure]> {
  let summary = what # " over the whole layer";
  let results = (outs F32:$result);
}

def Optim_NormOp : Optim_ReductionOp<"norm", "L2 norm"> {
  let description = [{
    `sqrt(sum(x*x))` over all elements of a layer value; 0 for a layer of no elements.

    ```mlir
    %wn = optim.norm %w
    ```
  }];
  let arguments = (ins Optim_LayerType:$input);
  let assemblyFormat = "$input attr-dict";
}

def Optim_SumOp : Optim_ReductionOp<"sum", "sum"> {
  let description = [{
    The sum of all elements of a layer value; 0 for a layer of no elements.

    ```mlir
    %s = optim.sum %x
    ```
  }];
  let arguments = (ins Optim_LayerType:$input);
  let assemblyFormat = "$input attr-dict";
  let hasCanonicalizer = 1;
}

def Optim_DotOp : Optim_ReductionOp<"dot", "dot product"> {
  let description = [{
    `sum(a*b)` over all elements of two layer values.

    ```mlir
    %s = optim.dot %g, %w
    ```
  }];
  let arguments = (ins Optim_LayerType:$lhs, Optim_LayerType:$rhs);
  let assemblyFormat = "$lhs `,` $rhs attr-dict";
}

//===----------------------------------------------------------------------===//
// Domain ops shared by the layer-wise rules
//===----------------------------------------------------------------------===//

def Optim_TrustRatioOp : Optim_Op<"trust_ratio", [Pure, AttrSizedOperandSegments]> {
  let summary = "layer-wise trust ratio with the zero-norm fallback";
  let description = [{
    `scale * num / (den + eps)` when `num > 0` and `den > 0`, else exactly 1 (zero-initialised
    biases, empty layers, zero gradients). `scale` defaults to 1 and `eps` to 0. This is the LARS
    local rate (`num = ||w||`, `den = ||g + wd*w||`, `scale = eta`) and the LAMB ratio.

    ```mlir
    %q = optim.trust_ratio %wn, %dn scale %eta eps %eps
    ```
  }];
  let arguments = (ins F32:$num, F32:$den, Optional<F32>:$scale, Optional<F32>:$eps);
  let results = (outs F32:$result);
  let assemblyFormat = "$num `,` $den (`scale` $scale^)? (`eps` $eps^)? attr-dict";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Optim_TvCoeffOp : Optim_Op<"tv_coeff", [Pure]> {
  let summary = "the TVLARS time-varying coefficient phi(t)";
  let description = [{
    `phi(t) = 1 / (alpha + exp(lambda * (t - delay))) + floor`: a sigmoid-like coefficient that
    starts near `1/alpha + floor` and decays to `floor`, centred at step `delay` with speed
    `lambda`. The TVLARS reference uses alpha 0.1, delay -1 and floor 0.

    ```mlir
    %phi = optim.tv_coeff %t alpha %alpha lambda %lambda delay %delay floor %floor
    ```
  }];
  let arguments = (ins F32:$step, F32:$alpha, F32:$lambda, F32:$delay, F32:$floor);
  let results = (outs F32:$result);
  let assemblyFormat = [{
    $step `alpha` $alpha `lambda` $lambda `delay` $delay `floor` $floor attr-dict
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// The update
//===----------------------------------------------------------------------===//

def Optim_UpdateOp : Optim_Op<"update", [Terminator, HasParent<"RuleOp">]> {
  let summary = "the new values of the parameter and every state buffer";
  let description = [{
    Ends a rule: the first operand is the parameter's new value, then each state buffer's new
    value by name. Every state buffer of the rule is written exactly once.

    ```mlir
    optim.update %w_new, "momentum_buffer" = %buf_new
    ```
  }];
  let arguments = (ins Optim_LayerType:$param, Variadic<Optim_LayerType>:$states,
                   StrArrayAttr:$state_names);
  let assemblyFormat = "custom<StateUpdates>($param, $states, $state_names) attr-dict";
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "Value":$param, "ValueRange":$states, "ArrayRef<StringRef>":$names), [{
      build($_builder, $_state, param, states, $_builder.getStrArrayAttr(names));
    }]>
  ];
}

//===----------------------------------------------------------------------===//
// Planned form: explicit sweeps over memory
//===----------------------------------------------------------------------===//

def Optim_SweepOp : Optim_Op<"sweep", [HasParent<"RuleOp">, RecursiveMemoryEffects,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "one pass over the elements of a layer";
  let description = [{
    Produced by sweep planning. The body runs once per element: its block arguments are the
    elements of `inputs` (each `f32`), it may use scalars defined above, and it yields one `f32`
    per result. An `f32` result is the sum of the yielded values over the layer (a reduction); a
    `!optim.layer` result is the layer of yielded values (written by `optim.update`). Sweeps run
    in order; every reduction of a sweep is computed in the same pass over memory.

    ```mlir
    %s:2 = optim.sweep ins(%w, %g) -> f32, f32 {
    ^bb0(%we: f32, %ge: f32):
      %ww = arith.mulf %we, %we : f32
      %gg = arith.mulf %ge, %ge : f32
      optim.yield %ww, %gg : f32, f32
    }
    ```
  }];
  let arguments = (ins Variadic<Optim_LayerType>:$inputs);
  let results = (outs Variadic<Optim_ScalarOrLayer>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `ins` `(` $inputs `)` (`->` type($results)^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The number of reductions (f32 results); they come before the layer results.
    unsigned getNumReductions();
    /// Bytes moved per layer element: every input read once, every layer result written once.
    unsigned getBytesPerElement() { return 4 * (getInputs().size() + getNumResults() -
                                                getNumReductions()); }
  }];
}

def Optim_YieldOp : Optim_Op<"yield", [Pure, Terminator, HasParent<"SweepOp">]> {
  let summary = "the per-element values of a sweep";
  let description = [{
    Ends a sweep body with one `f32` per sweep result.

    ```mlir
    optim.yield %a, %b : f32, f32
    ```
  }];
  let arguments = (ins Variadic<F32>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ValueRange()); }]>];
}

#endif // OPTFUSE_DIALECT_OPTIMOPS_TD
