// `cryptcom echo-server`, `echo-client`, `bench`: the example and benchmark programs, run by
// name. An installed package keeps them in libexec/cryptcom/ beside the tool's bin/; a build
// tree has them where it built them. The program replaces this process (exec), so its output,
// exit status and signals are its own.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"

namespace cryptcom::tool {

namespace {

std::vector<std::filesystem::path> places(const char* program) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back(self.parent_path() / CRYPTCOM_LIBEXEC_FROM_BIN / program);
  const std::string name = program;
  if (name == "echo_server") out.emplace_back(CRYPTCOM_BUILD_ECHO_SERVER);
  if (name == "echo_client") out.emplace_back(CRYPTCOM_BUILD_ECHO_CLIENT);
#ifdef CRYPTCOM_BUILD_BENCH_PROGRAM
  if (name == "cryptcom_bench") out.emplace_back(CRYPTCOM_BUILD_BENCH_PROGRAM);
#endif
  return out;
}

}  // namespace

int run_program(const char* program, int argc, char** argv) {
  std::vector<char*> args;
  args.push_back(const_cast<char*>(program));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::string looked;
  for (const auto& path : places(program)) {
    if (::access(path.c_str(), X_OK) == 0) {
      ::execv(path.c_str(), args.data());
      std::fprintf(stderr, "cryptcom: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
      return 1;
    }
    looked += " " + path.string();
  }
  std::fprintf(stderr, "cryptcom: %s is not installed (looked in:%s)\n", program, looked.c_str());
  return 1;
}

}  // namespace cryptcom::tool
