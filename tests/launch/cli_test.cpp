// tests/launch/cli_test.cpp — the top-level command line.
#include "launch/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/errors.h"

namespace vrf::launch {
namespace {

TEST(CliTest, HelpListsOptionsAndOnlyExistingCommands) {
  std::ostringstream out;
  EXPECT_EQ(run_cli({"--help"}, out), 0);
  EXPECT_NE(out.str().find("--version"), std::string::npos) << out.str();
  for (const auto& command : commands()) {
    EXPECT_NE(out.str().find(command.name), std::string::npos) << command.name;
  }
  if (commands().empty()) {
    EXPECT_EQ(out.str().find("Commands:"), std::string::npos);
  }
}

TEST(CliTest, NoArgumentsPrintsHelp) {
  std::ostringstream out;
  EXPECT_EQ(run_cli({}, out), 0);
  EXPECT_NE(out.str().find("Usage: vrf"), std::string::npos);
}

TEST(CliTest, Version) {
  std::ostringstream out;
  EXPECT_EQ(run_cli({"--version"}, out), 0);
  EXPECT_EQ(out.str(), "vrf " + version_string() + "\n");
}

TEST(CliTest, UnknownCommandAndOptionAreConfigErrors) {
  std::ostringstream out;
  try {
    run_cli({"frobnicate"}, out);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown command 'frobnicate'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(run_cli({"--no-such-flag"}, out), ConfigError);
}

}  // namespace
}  // namespace vrf::launch
