//===- optfuse-compile.cpp - Compile a rule spec into a bundle ------------===//
//
// optfuse-compile SPEC.mlir -o OUT: plans the rule's sweeps, lowers them to vectorized native code
// and writes one self-contained bundle (a shared object) that the runtime loads. `--emit` stops at
// an earlier stage and prints it instead.
//
//===----------------------------------------------------------------------===//

#include "codegen/Abi.h"
#include "codegen/Pipeline.h"
#include "dialect/OptimOps.h"
#include "passes/Passes.h"
#include "tools/common/InputCheck.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {
enum class Emit { Plan, Loops, LLVM, PTX, Bundle };

cl::OptionCategory category("optfuse-compile options");
cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<spec.mlir>"), cl::init("-"),
                                   cl::cat(category));
cl::opt<std::string> outputFilename(
    "o", cl::desc("Output file (default: NAME.optfuse.so for bundles, standard output otherwise)"),
    cl::value_desc("file"), cl::cat(category));
cl::opt<Emit> emit(
    "emit", cl::desc("Stage to stop at and write"), cl::init(Emit::Bundle),
    cl::values(clEnumValN(Emit::Plan, "mlir", "the planned rule in the optim dialect"),
               clEnumValN(Emit::Loops, "loops", "the CPU sweep functions as scf/vector loops"),
               clEnumValN(Emit::LLVM, "llvm", "optimized LLVM IR of the CPU code"),
               clEnumValN(Emit::PTX, "ptx", "the PTX of the GPU kernels, for each --gpu-arch"),
               clEnumValN(Emit::Bundle, "bundle", "the loadable bundle (a shared object)")),
    cl::cat(category));
cl::opt<std::string> cpu("cpu",
                         cl::desc("CPU to compile for: 'native' (the host) or an LLVM CPU name "
                                  "such as x86-64-v3 or skylake-avx512"),
                         cl::init("native"), cl::cat(category));
cl::opt<unsigned> vectorWidth("vector-width",
                              cl::desc("f32 lanes per vector (default: the CPU's widest vectors)"),
                              cl::init(0), cl::cat(category));
cl::opt<std::string> gpuArchs(
    "gpu-arch",
    cl::desc("Comma-separated GPU architectures to compile the kernels for (empty: CPU code only)"),
    cl::init("sm_80,sm_90"), cl::cat(category));
cl::opt<std::string> cudaHome(
    "cuda-home", cl::desc("CUDA toolkit with libdevice and ptxas (default: $CUDA_HOME, else "
                          "/usr/local/cuda)"),
    cl::init(""), cl::cat(category));
cl::opt<bool> printPtxas("print-ptxas",
                         cl::desc("Print ptxas's register and spill report to standard error"),
                         cl::init(false), cl::cat(category));
cl::opt<bool> printPlan("print-plan",
                        cl::desc("Print the sweep plan (reads, reductions, writes, bytes per "
                                 "element) to standard error"),
                        cl::init(false), cl::cat(category));
} // namespace

static int fail(llvm::StringRef message) {
  llvm::WithColor::error(llvm::errs(), "optfuse-compile") << message << "\n";
  return 1;
}

/// Writes a stage's text to `-o` (standard output by default); returns the exit code.
static int writeText(llvm::function_ref<void(llvm::raw_ostream &)> print) {
  std::string error;
  auto output = openOutputFile(outputFilename.empty() ? std::string("-") : outputFilename.getValue(),
                               &error);
  if (!output)
    return fail(error);
  print(output->os());
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "optfuse-compile: compile a layer-wise optimizer rule (optim dialect) into a bundle\n\n"
      "  optfuse-compile specs/tvlars.mlir -o tvlars.optfuse.so\n"
      "  optfuse-compile specs/lamb.mlir --emit=llvm --print-plan\n");

  DialectRegistry registry;
  optim::registerPipelineDialects(registry);
  MLIRContext context(registry);

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFilename, &error);
  if (!input)
    return fail(error);
  std::string problem = optfuse::checkInput(*input, registry);
  if (!problem.empty()) {
    optfuse::reportInputError(inputFilename, problem);
    return 1;
  }

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  SmallVector<optim::RuleOp> rules(module->getOps<optim::RuleOp>());
  if (rules.size() != 1) {
    std::string name = inputFilename == "-" ? "<stdin>" : inputFilename.getValue();
    Location loc = rules.size() > 1 ? rules[1].getLoc() : FileLineColLoc::get(&context, name, 1, 1);
    emitError(loc) << "a spec for optfuse-compile holds exactly one 'optim.rule', found "
                   << rules.size();
    return 1;
  }
  std::string ruleName = rules.front().getSymName().str();

  if (failed(optim::planRules(*module)))
    return 1;
  if (printPlan)
    llvm::errs() << optim::describePlan(*module->getOps<optim::RuleOp>().begin()) << "\n";
  if (emit == Emit::Plan)
    return writeText([&](llvm::raw_ostream &os) { module->print(os); });

  // GPU code, from the planned rule (on a copy).
  std::string abiText = optim::getAbiText(*module->getOps<optim::RuleOp>().begin());
  optim::GpuCode gpuCode;
  SmallVector<std::string> archs;
  for (StringRef arch : llvm::split(StringRef(gpuArchs), ','))
    if (!arch.trim().empty())
      archs.push_back(arch.trim().str());
  if (emit == Emit::PTX && archs.empty())
    return fail("--emit=ptx needs at least one --gpu-arch");
  if (!archs.empty() && (emit == Emit::PTX || emit == Emit::LLVM || emit == Emit::Bundle)) {
    std::string home = cudaHome;
    if (home.empty())
      home = getenv("CUDA_HOME") && *getenv("CUDA_HOME") ? getenv("CUDA_HOME") : "/usr/local/cuda";
    if (failed(optim::compileGpu(*module, archs, home, emit == Emit::PTX, gpuCode, error)))
      return fail(error);
    if (printPtxas)
      for (const optim::GpuImage &image : gpuCode.images)
        llvm::errs() << image.ptxasReport;
    abiText += optim::getGpuAbiText(gpuCode);
  }
  if (emit == Emit::PTX)
    return writeText([&](llvm::raw_ostream &os) {
      for (const optim::GpuImage &image : gpuCode.images)
        os << "// optfuse: " << ruleName << " kernels for " << image.arch << "\n" << image.ptx;
    });

  std::unique_ptr<optim::CpuTarget> target = optim::createCpuTarget(cpu, error);
  if (!target)
    return fail(error);
  if (failed(optim::lowerToLoops(*module, vectorWidth ? vectorWidth : target->vectorWidth)))
    return 1;
  if (emit == Emit::Loops)
    return writeText([&](llvm::raw_ostream &os) { module->print(os); });

  if (failed(optim::lowerLoopsToLLVM(*module)))
    return 1;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      optim::translateAndOptimize(*module, llvmContext, *target);
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  optim::addBundleData(*llvmModule, abiText, gpuCode);
  if (emit == Emit::LLVM)
    return writeText([&](llvm::raw_ostream &os) { llvmModule->print(os, nullptr); });

  std::string path = outputFilename.empty() ? ruleName + ".optfuse.so" : outputFilename.getValue();
  if (path == "-")
    return fail("a bundle is a shared object and cannot go to standard output; give -o FILE");
  if (failed(optim::writeBundle(*llvmModule, *target, path, error)))
    return fail(error);
  return 0;
}
