// `cryptcom_bench --hostile`: for each of issue 9's attacks (hostile_attacks.hpp), a fresh target
// (a cryptcom ROUTER echo server with the library's default options, its own context and key
// pool) and one served client (a cryptcom DEALER doing 64-byte round trips one after the other):
//  1. idle: the client's round trips for `idle window`, the target's CPU over it, the RSS;
//  2. the attack is started and brought into force (its peers made, its keys hoarded, its
//     flood running);
//  3. during: the same measurement for `attack window`, RSS sampled every 100 ms (peak kept);
//     a round trip that times out (2 s) counts as 2 s and is counted; then, for the attacks
//     that lock newcomers out, a new client connects and its first echo is timed (5 s cap);
//  4. the attack stops sending (its connections stay open, so what it sent stays queued for the
//     target), and the time until the target's CPU over 100 ms falls below 10% of a core is
//     measured (10 s cap): issue 9's "idle again within 1 s of the flood's end".
// The target's CPU is the CPU time of the threads its construction started (libzmq's I/O and
// reaper threads of its context, the socket's I/O thread, its key generator, the echo loop), read
// from their CPU clocks; the attacker and the client run in this process but on threads of their
// own, so they are not in it. RSS is the whole process's: the attacker's and the client's share
// is a few MB and the same idle and during.
// Not thread-safe: one run at a time.
#pragma once

#include "bench_options.hpp"
#include "progress.hpp"
#include "runner.hpp"

namespace cryptcom::bench {

[[nodiscard]] run_outcome run_hostile(const bench_options& options, progress_line& progress);

}  // namespace cryptcom::bench
