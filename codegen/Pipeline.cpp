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
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
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
                  LLVM::LLVMDialect, gpu::GPUDialect, NVVM::NVVMDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
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

//===----------------------------------------------------------------------===//
// GPU code
//===----------------------------------------------------------------------===//

/// Runs `program` with `args`; its standard error goes to `errorOutput`. Returns its exit code,
/// -1 when it could not run.
static int runTool(llvm::StringRef program, llvm::ArrayRef<llvm::StringRef> args,
                   std::string &errorOutput) {
  llvm::SmallString<128> errFile;
  if (llvm::sys::fs::createTemporaryFile("optfuse-tool", "txt", errFile))
    return -1;
  llvm::FileRemover remover(errFile);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, std::nullopt, llvm::StringRef(errFile)};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(program, args, std::nullopt, redirects, 0, 0, &message);
  if (auto buffer = llvm::MemoryBuffer::getFile(errFile))
    errorOutput = (*buffer)->getBuffer().str();
  if (rc < 0)
    errorOutput += message;
  return rc;
}

LogicalResult mlir::optim::compileGpu(ModuleOp module, llvm::ArrayRef<std::string> archs,
                                      llvm::StringRef cudaHome, bool ptxOnly, GpuCode &code,
                                      std::string &error) {
  std::string hint = " (CUDA toolkit at '" + cudaHome.str() +
                     "'; point at another install with --cuda-home=DIR or CUDA_HOME, or compile "
                     "without GPU code with --gpu-arch=)";
  std::string libdevice = (cudaHome + "/nvvm/libdevice/libdevice.10.bc").str();
  if (!llvm::sys::fs::exists(libdevice)) {
    error = "cannot find libdevice at " + libdevice + hint;
    return failure();
  }
  std::string ptxas = (cudaHome + "/bin/ptxas").str();
  if (!ptxOnly && !llvm::sys::fs::can_execute(ptxas)) {
    error = "cannot find ptxas at " + ptxas + hint;
    return failure();
  }

  OwningOpRef<ModuleOp> copy = module.clone();
  PassManager lower(module.getContext());
  LowerToGpuOptions lowerOptions;
  lower.addPass(createLowerToGpu(lowerOptions));
  if (failed(lower.run(*copy))) {
    error = "lowering to the GPU kernel failed";
    return failure();
  }
  auto gpuModule = *copy->getOps<gpu::GPUModuleOp>().begin();
  code.blockSize = cast<IntegerAttr>(gpuModule->getAttr("optfuse.block_size")).getInt();
  code.layerScalars = cast<IntegerAttr>(gpuModule->getAttr("optfuse.layer_scalars")).getInt();

  PassManager pm(module.getContext());
  pm.addNestedPass<gpu::GPUModuleOp>(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions nvvmOptions;
  nvvmOptions.indexBitwidth = 64;
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(nvvmOptions));
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());
  for (const std::string &arch : archs) {
    GpuNVVMAttachTargetOptions target;
    target.chip = arch;
    target.features = "+ptx80";
    target.optLevel = 3;
    target.linkLibs.push_back(libdevice);
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (failed(pm.run(*copy))) {
    error = "compiling the GPU kernel to PTX failed";
    return failure();
  }

  auto binaryOp = *copy->getOps<gpu::BinaryOp>().begin();
  for (Attribute attr : binaryOp.getObjects()) {
    auto object = cast<gpu::ObjectAttr>(attr);
    GpuImage image;
    image.arch = cast<NVVM::NVVMTargetAttr>(object.getTarget()).getChip().str();
    image.ptx = object.getObject().getValue().str();
    if (!ptxOnly) {
      llvm::SmallString<128> ptxFile, cubinFile;
      if (llvm::sys::fs::createTemporaryFile("optfuse", "ptx", ptxFile) ||
          llvm::sys::fs::createTemporaryFile("optfuse", "cubin", cubinFile)) {
        error = "cannot create temporary files for ptxas";
        return failure();
      }
      llvm::FileRemover removePtx(ptxFile), removeCubin(cubinFile);
      {
        std::error_code ec;
        llvm::raw_fd_ostream os(ptxFile, ec);
        os << image.ptx;
      }
      std::string archFlag = "-arch=" + image.arch;
      llvm::SmallVector<llvm::StringRef> args = {ptxas, archFlag, "-O3", "-v", ptxFile, "-o", cubinFile};
      if (runTool(ptxas, args, image.ptxasReport) != 0) {
        error = "ptxas rejected the " + image.arch + " kernel:\n" + image.ptxasReport;
        return failure();
      }
      auto cubin = llvm::MemoryBuffer::getFile(cubinFile);
      if (!cubin) {
        error = "ptxas wrote no cubin for " + image.arch;
        return failure();
      }
      image.cubin = (*cubin)->getBuffer().str();
    }
    code.images.push_back(std::move(image));
  }
  return success();
}

std::string mlir::optim::getGpuAbiText(const GpuCode &code) {
  if (code.images.empty())
    return "";
  std::string text = "gpu " + std::to_string(code.blockSize) + " " +
                     std::to_string(code.layerScalars) + "\n";
  for (const GpuImage &image : code.images) {
    text += "ptx " + image.arch + " optfuse_ptx_" + image.arch + " " +
            std::to_string(image.ptx.size()) + "\n";
    if (!image.cubin.empty())
      text += "cubin " + image.arch + " optfuse_cubin_" + image.arch + " " +
              std::to_string(image.cubin.size()) + "\n";
  }
  return text;
}

/// Adds an exported constant byte array `name` holding `bytes` (NUL-terminated when `text`).
static void addBytes(llvm::Module &module, llvm::StringRef name, llvm::StringRef bytes, bool text) {
  llvm::Constant *data = llvm::ConstantDataArray::getString(module.getContext(), bytes, text);
  new llvm::GlobalVariable(module, data->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, data, name);
}

void mlir::optim::addBundleData(llvm::Module &llvmModule, llvm::StringRef abiText,
                                const GpuCode &code) {
  addBytes(llvmModule, "optfuse_abi", abiText, /*text=*/true);
  for (const GpuImage &image : code.images) {
    addBytes(llvmModule, "optfuse_ptx_" + image.arch, image.ptx, /*text=*/true);
    if (!image.cubin.empty())
      addBytes(llvmModule, "optfuse_cubin_" + image.arch, image.cubin, /*text=*/false);
  }
}
