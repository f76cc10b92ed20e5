//===- Bundle.cpp - Loading compiled rules --------------------------------===//

#include "runtime/Bundle.h"

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

using namespace optfuse;

namespace {

bool isFile(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

/// dlopen maps a file by its ELF headers and crashes (SIGBUS) on a file cut short, so the headers
/// are checked against the file's size first. Returns an empty string or what is wrong.
std::string checkElf(const std::string &path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    return "cannot be read";
  auto size = static_cast<uint64_t>(file.tellg());
  Elf64_Ehdr header;
  file.seekg(0);
  if (size < sizeof(header) || !file.read(reinterpret_cast<char *>(&header), sizeof(header)) ||
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
    return "is not a shared object";
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN)
    return "is not a 64-bit shared object";
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      header.e_phoff + uint64_t(header.e_phnum) * sizeof(Elf64_Phdr) > size ||
      header.e_shoff + uint64_t(header.e_shnum) * header.e_shentsize > size)
    return "is truncated (its ELF headers point past its end)";
  for (int i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    file.seekg(header.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr));
    if (!file.read(reinterpret_cast<char *>(&segment), sizeof(segment)))
      return "is truncated";
    if (segment.p_type == PT_LOAD && segment.p_offset + segment.p_filesz > size)
      return "is truncated (a loadable segment ends past the end of the file)";
  }
  return {};
}

std::vector<int> parseIndices(const std::string &field) {
  std::vector<int> indices;
  if (field == "-")
    return indices;
  std::stringstream stream(field);
  std::string item;
  while (std::getline(stream, item, ','))
    indices.push_back(std::stoi(item));
  return indices;
}

} // namespace

std::vector<std::string> Bundle::searchPath() {
  std::vector<std::string> dirs;
  if (const char *env = std::getenv("OPTFUSE_BUNDLE_PATH")) {
    std::stringstream stream(env);
    std::string dir;
    while (std::getline(stream, dir, ':'))
      if (!dir.empty())
        dirs.push_back(dir);
  }
#ifdef OPTFUSE_BUILD_BUNDLE_DIR
  dirs.push_back(OPTFUSE_BUILD_BUNDLE_DIR);
#endif
#ifdef OPTFUSE_INSTALL_BUNDLE_DIR
  dirs.push_back(OPTFUSE_INSTALL_BUNDLE_DIR);
#endif
  return dirs;
}

std::shared_ptr<const Bundle> Bundle::load(const std::string &rule) {
  std::string path;
  bool byPath = rule.find('/') != std::string::npos ||
                (rule.size() > 3 && rule.compare(rule.size() - 3, 3, ".so") == 0);
  if (byPath) {
    if (!isFile(rule))
      throw std::runtime_error("optfuse: bundle file '" + rule + "' does not exist");
    path = rule;
  } else {
    std::vector<std::string> dirs = searchPath();
    for (const std::string &dir : dirs) {
      if (isFile(dir + "/" + rule + ".optfuse.so")) {
        path = dir + "/" + rule + ".optfuse.so";
        break;
      }
    }
    if (path.empty()) {
      std::string message = "optfuse: unknown rule '" + rule +
                            "': the shipped rules are tvlars, lars, lamb, sgd and adamw; a rule "
                            "of your own is given as the path of its bundle (searched:";
      for (const std::string &dir : dirs)
        message += " " + dir;
      throw std::runtime_error(message + ")");
    }
  }

  std::string problem = checkElf(path);
  if (!problem.empty())
    throw std::runtime_error("optfuse: cannot load bundle '" + path + "': the file " + problem);

  std::shared_ptr<Bundle> bundle(new Bundle());
  bundle->path_ = path;
  // RTLD_LOCAL: two bundles export the same symbol names.
  bundle->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!bundle->handle_)
    throw std::runtime_error("optfuse: cannot load bundle '" + path +
                             "' (corrupt, truncated or not a bundle): " + dlerror());
  auto *abi = static_cast<const char *>(dlsym(bundle->handle_, "optfuse_abi"));
  if (!abi)
    throw std::runtime_error("optfuse: '" + path +
                             "' is not an optfuse bundle (it has no optfuse_abi)");
  try {
    bundle->parseAbi(abi);
  } catch (const std::exception &e) {
    throw std::runtime_error("optfuse: bundle '" + path + "': " + e.what());
  }
  for (size_t i = 0; i < bundle->gpuImages_.size(); ++i) {
    bundle->gpuImages_[i].data =
        static_cast<const char *>(dlsym(bundle->handle_, bundle->gpuSymbols_[i].c_str()));
    if (!bundle->gpuImages_[i].data)
      throw std::runtime_error("optfuse: bundle '" + path + "' lacks its GPU image " +
                               bundle->gpuSymbols_[i]);
  }
  for (size_t k = 0; k < bundle->sweeps_.size(); ++k) {
    std::string symbol = "optfuse_sweep_" + std::to_string(k);
    auto function = reinterpret_cast<OptfuseSweepFn>(dlsym(bundle->handle_, symbol.c_str()));
    if (!function)
      throw std::runtime_error("optfuse: bundle '" + path + "' lacks its CPU code (" + symbol +
                               ")");
    bundle->functions_.push_back(function);
  }
  return bundle;
}

void Bundle::parseAbi(const std::string &text) {
  std::stringstream lines(text);
  std::string line;
  bool versionSeen = false;
  while (std::getline(lines, line)) {
    std::stringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "optfuse-bundle") {
      int version = 0;
      fields >> version;
      if (version != OPTFUSE_BUNDLE_FORMAT_VERSION)
        throw std::runtime_error("format version " + std::to_string(version) +
                                 ", this runtime reads version " +
                                 std::to_string(OPTFUSE_BUNDLE_FORMAT_VERSION) +
                                 "; recompile it with the matching optfuse-compile");
      versionSeen = true;
    } else if (!versionSeen) {
      throw std::runtime_error("the ABI text does not start with its format version");
    } else if (kind == "rule") {
      fields >> ruleName_;
    } else if (kind == "hyper") {
      HyperInfo hyper;
      std::string type, value;
      fields >> hyper.name >> type >> value;
      hyper.defaultValue = std::strtod(value.c_str(), nullptr);
      hyper.isBool = type == "bool";
      hypers_.push_back(hyper);
    } else if (kind == "flag") {
      std::string name;
      fields >> name;
      flags_.push_back(name);
    } else if (kind == "buffer") {
      BufferInfo buffer;
      std::string value;
      fields >> buffer.name >> value;
      buffer.init = std::strtod(value.c_str(), nullptr);
      buffers_.push_back(buffer);
    } else if (kind == "sweep") {
      SweepInfo sweep;
      int index;
      std::string reads, writes;
      fields >> index >> sweep.reductions >> reads >> writes >> sweep.bytesPerElement;
      sweep.reads = parseIndices(reads);
      sweep.writes = parseIndices(writes);
      sweeps_.push_back(sweep);
    } else if (kind == "gpu") {
      fields >> gpuBlockSize_ >> gpuLayerScalars_;
    } else if (kind == "ptx" || kind == "cubin") {
      GpuImageInfo image;
      std::string symbol;
      fields >> image.arch >> symbol >> image.size;
      image.isCubin = kind == "cubin";
      gpuImages_.push_back(image);
      gpuSymbols_.push_back(symbol);
    } else if (kind == "plan") {
      plan_ += line.substr(5) + "\n";
    } else {
      throw std::runtime_error("unknown ABI record '" + kind + "'");
    }
    if (fields.fail())
      throw std::runtime_error("malformed ABI record '" + line + "'");
  }
  if (!versionSeen || ruleName_.empty() || buffers_.size() < 2)
    throw std::runtime_error("incomplete ABI text");
  if (!gpuImages_.empty() && gpuBlockSize_ <= 0)
    throw std::runtime_error("GPU images without their launch record");
  for (const SweepInfo &sweep : sweeps_)
    for (const std::vector<int> *indices : {&sweep.reads, &sweep.writes})
      for (int index : *indices)
        if (index < 0 || index >= static_cast<int>(buffers_.size()))
          throw std::runtime_error("sweep names buffer " + std::to_string(index) +
                                   " of " + std::to_string(buffers_.size()));
}

Bundle::~Bundle() {
  if (handle_)
    dlclose(handle_);
}

int Bundle::totalReductions() const {
  int total = 0;
  for (const SweepInfo &sweep : sweeps_)
    total += sweep.reductions;
  return total;
}

int Bundle::hyperIndex(const std::string &name) const {
  for (size_t i = 0; i < hypers_.size(); ++i)
    if (hypers_[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int Bundle::flagIndex(const std::string &name) const {
  auto it = std::find(flags_.begin(), flags_.end(), name);
  return it == flags_.end() ? -1 : static_cast<int>(it - flags_.begin());
}
