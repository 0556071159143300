// cryptcom_micro_bench: Google Benchmark over the primitives and, later, the engine. Every file in
// bench/micro/ registers its own benchmarks; this one only makes sure libsodium is initialised
// before any of them runs.

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::fputs("libsodium failed to initialise\n", stderr);
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
