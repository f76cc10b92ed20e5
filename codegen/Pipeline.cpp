//===- Pipeline.cpp - From a spec to LLVM IR and bundles ------------------===//
//
// This file implements the compilation stages behind optfuse-compile.
//
//===----------------------------------------------------------------------===//

#include "codegen/Pipeline.h"
#include "codegen/Passes.h"
#include "dialect/OptimOps.h"
#include "passes/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::optim;

void mlir::optim::registerPipelineDialects(DialectRegistry &registry) {
  registry.insert<OptimDialect, arith::ArithDialect, math::MathDialect, func::FuncDialect,
                  scf::SCFDialect, vector::VectorDialect, cf::ControlFlowDialect,
                  LLVM::LLVMDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  vector::registerConvertVectorToLLVMInterface(registry);
}

LogicalResult mlir::optim::planRules(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createPlanSweeps());
  pm.addPass(createCSEPass());
  return pm.run(module);
}

LogicalResult mlir::optim::lowerToLoops(ModuleOp module, unsigned vectorWidth) {
  PassManager pm(module.getContext());
  LowerToCpuOptions options;
  options.vectorWidth = vectorWidth;
  pm.addPass(createLowerToCpu(options));
  pm.addPass(createCanonicalizerPass());
  return pm.run(module);
}

LogicalResult mlir::optim::lowerLoopsToLLVM(ModuleOp module) {
  PassManager pm(module.getContext());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  return pm.run(module);
}

std::unique_ptr<CpuTarget> mlir::optim::createCpuTarget(llvm::StringRef cpu, std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpuName = cpu.str(), features;
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? ",+" : ",-") + feature.first().str();
  }
  auto result = std::make_unique<CpuTarget>();
  result->machine.reset(target->createTargetMachine(triple, cpuName, features, {},
                                                    llvm::Reloc::PIC_, std::nullopt,
                                                    llvm::CodeGenOptLevel::Aggressive));
  const llvm::MCSubtargetInfo *info = result->machine->getMCSubtargetInfo();
  if (!info->isCPUStringValid(cpuName)) {
    error = "unknown CPU '" + cpu.str() + "' for " + triple.str() +
            " (use 'native' or an LLVM CPU name such as x86-64-v3)";
    return nullptr;
  }
  if (info->checkFeatures("+avx512f"))
    result->vectorWidth = 16;
  else if (info->checkFeatures("+avx"))
    result->vectorWidth = 8;
  return result;
}

std::unique_ptr<llvm::Module> mlir::optim::translateAndOptimize(ModuleOp module,
                                                                llvm::LLVMContext &context,
                                                                CpuTarget &target) {
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, context, "optfuse");
  if (!llvmModule)
    return nullptr;
  llvm::TargetMachine &machine = *target.machine;
  llvmModule->setTargetTriple(machine.getTargetTriple());
  llvmModule->setDataLayout(machine.createDataLayout());
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", machine.getTargetCPU());
    if (!machine.getTargetFeatureString().empty())
      function.addFnAttr("target-features", machine.getTargetFeatureString());
  }

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgsccs;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgsccs);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgsccs, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(*llvmModule, modules);
  return llvmModule;
}

LogicalResult mlir::optim::writeBundle(llvm::Module &llvmModule, CpuTarget &target,
                                       llvm::StringRef outputPath, std::string &error) {
  llvm::SmallString<128> object;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("optfuse", "o", object)) {
    error = "cannot create a temporary object file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeObject(object);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(object, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write " + object.str().str() + ": " + ec.message();
      return failure();
    }
    llvm::legacy::PassManager pm;
    if (target.machine->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot emit object files";
      return failure();
    }
    pm.run(llvmModule);
  }

  // Link with the system C compiler driver (it knows the platform's shared-object conventions).
  const char *cc = getenv("CC");
  llvm::ErrorOr<std::string> linker = llvm::sys::findProgramByName(cc && *cc ? cc : "cc");
  if (!linker) {
    error = "cannot find a C compiler to link the bundle ('cc', or set CC); run scripts/setup.sh";
    return failure();
  }
  llvm::SmallString<128> temporary(outputPath);
  temporary += ".tmp";
  llvm::FileRemover removeTemporary(temporary);
  std::string temporaryPath = temporary.str().str();
  llvm::SmallVector<llvm::StringRef> args = {*linker, "-shared", "-o", temporaryPath, object, "-lm"};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    error = "linking the bundle with " + *linker + " failed" + (message.empty() ? "" : ": " + message);
    return failure();
  }
  if (std::error_code ec = llvm::sys::fs::rename(temporary, outputPath)) {
    error = "cannot write " + outputPath.str() + ": " + ec.message();
    return failure();
  }
  return success();
}
