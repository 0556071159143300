// The subcommands of the `cryptcom` tool. Each takes the arguments after its name (argv[0] is the
// subcommand) and returns the process's exit status: 0 success, 1 failure, 64 bad arguments.
#pragma once

namespace cryptcom::tool {

int run_inspect(int argc, char** argv);
int run_keygen(int argc, char** argv);
// echo-server, echo-client, bench: executes the installed program (does not return on success).
int run_program(const char* program, int argc, char** argv);

}  // namespace cryptcom::tool
