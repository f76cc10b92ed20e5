# lit configuration for optfuse's regression tests: FileCheck tests of the dialect, the passes,
# code generation and the tools.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "optfuse"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "lit-expect-exit.sh", "runtime", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.optfuse_obj_root, "test")

config.substitutions.append(("%specs", os.path.join(config.optfuse_src_root, "specs")))
config.substitutions.append(
    ("%expect-exit", "sh " + os.path.join(config.test_source_root, "lit-expect-exit.sh")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
tool_dirs = [
    os.path.join(config.optfuse_obj_root, "tools", "optfuse-opt"),
    os.path.join(config.optfuse_obj_root, "tools", "optfuse-compile"),
    config.llvm_tools_dir,
]
llvm_config.add_tool_substitutions(["optfuse-opt", "optfuse-compile"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

if config.ptxas_executable and os.path.exists(config.ptxas_executable):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas_executable))
if config.cuda_home:
    config.environment["CUDA_HOME"] = config.cuda_home
