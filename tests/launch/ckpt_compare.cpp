// tests/launch/ckpt_compare.cpp — test tool: `ckpt_compare STEP_DIR_A STEP_DIR_B` exits 0 when the
// two checkpoints hold bit-identical tensors (every dataset of shared.h5 and of each users file
// listed by A's manifest; names, dtypes, shapes and bytes), and 1 naming the first difference.
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "io/checkpoint_directory.h"
#include "io/tensor_file.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: ckpt_compare STEP_DIR_A STEP_DIR_B\n";
    return 2;
  }
  try {
    const auto manifest = vrf::io::validate_checkpoint(argv[1]);
    vrf::io::validate_checkpoint(argv[2]);
    int64_t compared = 0;
    for (const auto& file : manifest.files) {
      const auto a = vrf::io::read_tensor_file((fs::path(argv[1]) / file.name).string(), "/");
      const auto b = vrf::io::read_tensor_file((fs::path(argv[2]) / file.name).string(), "/");
      const std::map<std::string, torch::Tensor> by_name(b.begin(), b.end());
      if (a.size() != b.size()) {
        std::cerr << file.name << ": " << a.size() << " vs " << b.size() << " datasets\n";
        return 1;
      }
      for (const auto& [name, x] : a) {
        const auto found = by_name.find(name);
        if (found == by_name.end()) {
          std::cerr << file.name << ": " << name << " only in " << argv[1] << "\n";
          return 1;
        }
        const auto& y = found->second;
        if (x.scalar_type() != y.scalar_type() || x.sizes() != y.sizes() ||
            std::memcmp(x.data_ptr(), y.data_ptr(), x.numel() * x.element_size()) != 0) {
          std::cerr << file.name << ": " << name << " differs (max |a - b| = "
                    << (x.to(torch::kFloat64) - y.to(torch::kFloat64)).abs().max().item<double>()
                    << ")\n";
          return 1;
        }
        ++compared;
      }
    }
    std::cout << "identical: " << compared << " tensors in " << manifest.files.size() << " files\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ckpt_compare: " << e.what() << "\n";
    return 1;
  }
}
