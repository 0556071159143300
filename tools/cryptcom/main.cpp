// cryptcom: the command-line tool of an installed cryptcom.
//   cryptcom inspect ...      what a wiretap sees of cryptcom traffic (payloads stay sealed)
//   cryptcom keygen NAME      a CurveZMQ key pair in czmq's zcert format
//   cryptcom echo-server ...  examples/echo_server      cryptcom echo-client ...  echo_client
//   cryptcom bench ...        the benchmark (bench/)
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.hpp"

namespace {

const char* usage =
    "usage: cryptcom COMMAND [ARGS...]   (cryptcom COMMAND --help for its arguments)\n"
    "  inspect      print what a wiretap may know of captured cryptcom traffic: frame kinds,\n"
    "               key ids, sizes, offers, acknowledgements, rejections; payloads stay sealed\n"
    "  keygen       make a CurveZMQ key pair in czmq's zcert format (for the authenticated\n"
    "               mode, not yet available, and for ZeroMQ's CURVE as a second layer today)\n"
    "  echo-server  a cryptcom ROUTER (or REP) that echoes every message (examples/echo_server)\n"
    "  echo-client  send messages to an echo server and check the echoes (examples/echo_client)\n"
    "  bench        plaintext ZeroMQ vs CURVE vs cryptcom, side by side (bench/)\n"
    "  version      print the version\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "%s", usage);
    return 64;
  }
  const std::string_view command = argv[1];
  int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  if (command == "inspect") return cryptcom::tool::run_inspect(sub_argc, sub_argv);
  if (command == "keygen") return cryptcom::tool::run_keygen(sub_argc, sub_argv);
  if (command == "echo-server")
    return cryptcom::tool::run_program("echo_server", sub_argc, sub_argv);
  if (command == "echo-client")
    return cryptcom::tool::run_program("echo_client", sub_argc, sub_argv);
  if (command == "bench") return cryptcom::tool::run_program("cryptcom_bench", sub_argc, sub_argv);
  if (command == "version" || command == "--version") {
    std::printf("cryptcom %s\n", CRYPTCOM_VERSION_TEXT);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::printf("%s", usage);
    return 0;
  }
  std::fprintf(stderr, "cryptcom: unknown command '%s'\n\n%s", argv[1], usage);
  return 64;
}
