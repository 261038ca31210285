// launch/main.cpp — entry point of the `vrf` binary: runs the CLI, turns any failure into a
// one-line `error: ...` on stderr and a non-zero exit code.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "launch/cli.h"

int main(int argc, char** argv) {
  try {
    return vrf::launch::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout);
  } catch (const vrf::ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
