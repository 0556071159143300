// The ratio rows: cryptcom's figures against plaintext's, curve's and the limit's, computed from
// the samples of a finished run. Pure functions over a result_store; not thread-safe (they add to
// the store).
#pragma once

#include "bench_options.hpp"
#include "results.hpp"

namespace cryptcom::bench {

// Adds metric::ratio_plaintext, ratio_curve and ratio_limit series for cryptcom-push (every
// size, and the scaling rows) and cryptcom-pull (every size), ratio_plaintext and ratio_curve
// for cryptcom-pipeline (every load balancing size and number of workers) and cryptcom-pubsub
// (every PUB/SUB size and number of subscribers), ratio_plaintext for cryptcom-broker
// (requests/s, every load balancing size), wherever both sides were measured.
// Each repetition gives one ratio of figures measured moments apart; when a failed measurement
// left the two sides with different numbers of samples, pairing them by repetition is impossible
// and the one ratio of the medians is recorded instead.
void add_ratios(const bench_options& options, result_store& results);

}  // namespace cryptcom::bench
