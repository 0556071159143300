// Every sample the run produced, grouped by (system, metric, size, peers) in first-seen order.
// Not thread-safe: the runner records from one thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "summary.hpp"

namespace cryptcom::bench {

// Metric names, as written in the JSON "metric" field.
namespace metric {
inline constexpr const char* msgs_per_s = "msgs_per_s";
inline constexpr const char* mb_per_s = "mb_per_s";  // 10^6 bytes per second
inline constexpr const char* p50_us = "p50_us";
inline constexpr const char* p99_us = "p99_us";
inline constexpr const char* rss_per_peer_bytes = "rss_per_peer_bytes";
// Process CPU time (all threads, both ends) per message over the one-way window; for the limit,
// the time of one message on its single thread.
inline constexpr const char* cpu_us_per_msg = "cpu_us_per_msg";
// The limit measured on every core at once: one thread per core this process may run on
// (bench_options::limit_threads, the JSON header's "limit_threads"), all in the same window. The
// JSON names date from when this was twice the 1-core figure on a 2-core machine; they are kept
// so that the tools reading the files keep working.
inline constexpr const char* msgs_per_s_all_cores = "msgs_per_s_2core";
inline constexpr const char* mb_per_s_all_cores = "mb_per_s_2core";
// The limit row's cryptographic time on the critical path of one REQ/REP round trip, keys
// pre-generated: request sealed and opened, reply sealed and opened (4 X25519 agreements, 4 key
// schedules, the AEAD over the payload 4 times).
inline constexpr const char* crypto_path_us = "crypto_path_us";
// Resident memory per live one-time key, both ends' bookkeeping included; `size` is the number of
// keys the measurement held.
inline constexpr const char* rss_per_key_bytes = "rss_per_key_bytes";
// The soak: resident size of the process, one sample every 10 s of a full-rate cryptcom-push
// stream (min, median and max over the samples; reps = samples), the growth from the first
// sample to the last (signed), and the stream's rate.
inline constexpr const char* rss_soak_bytes = "rss_soak_bytes";
inline constexpr const char* rss_soak_growth_bytes = "rss_soak_growth_bytes";
inline constexpr const char* soak_msgs_per_s = "soak_msgs_per_s";
// cryptcom against the others, one figure per repetition (the reps are interleaved, so each
// ratio compares runs made moments apart). cryptcom-push: msgs/s over plaintext's, curve's and
// the all-cores limit's. cryptcom-pull: p50 over plaintext's and curve's p50, and ratio_limit =
// (p50 - plaintext p50) / crypto_path_us: the time cryptcom adds to a round trip in units of the
// cryptography it cannot avoid (the target is at most 1.3).
inline constexpr const char* ratio_plaintext = "ratio_plaintext";
inline constexpr const char* ratio_curve = "ratio_curve";
inline constexpr const char* ratio_limit = "ratio_limit";
// cryptcom-auth-push: msgs/s over cryptcom-push's (authenticated mode's cost over base mode's).
inline constexpr const char* ratio_base = "ratio_base";
// Load balancing rows: `peers` is the number of PULL workers (PUSH/PULL) or of clients (broker).
// The broker rows' rate: replies received by all clients together per second. Their ratios:
// cryptcom-pipeline's msgs/s over plaintext-pipeline's and curve-pipeline's (ratio_plaintext,
// ratio_curve), cryptcom-broker's requests/s over plaintext-broker's (ratio_plaintext).
inline constexpr const char* requests_per_s = "requests_per_s";
// The broker rows: from the clients' first requests until every client had a reply and every
// worker had served one (connections, key requests), once per measurement; `size` is the first
// load balancing size, whose requests those were.
inline constexpr const char* startup_ms = "startup_ms";
// How unevenly the workers shared the window's messages: (most - fewest) / mean per worker; 0 is
// even. Only with several workers.
inline constexpr const char* worker_spread = "worker_spread";
// PUB/SUB rows (the *-pubsub systems; `peers` is the number of subscribers): msgs_per_s and
// mb_per_s are what each subscriber received, cpu_us_per_msg is every thread's CPU time per
// message published, and this the publisher's threads' alone. Their ratios: cryptcom-pubsub's
// msgs/s over plaintext-pubsub's and curve-pubsub's (ratio_plaintext, ratio_curve).
inline constexpr const char* publisher_cpu_us_per_msg = "publisher_cpu_us_per_msg";
// PUB/SUB rows, once per measurement (`size` is the first PUB/SUB size): from every subscriber
// having joined until the stream ran without stalls (a cryptcom subscriber's key allowance
// growing with use); 0 when it never stalled.
inline constexpr const char* ramp_ms = "ramp_ms";
// --hostile: one series per attack, system "hostile-<attack>", size = the served client's message
// size. A served client's round trips and the target's CPU (its own threads only, in % of one
// core) and RSS (the whole process), with the target idle and then during the attack; the
// p50 ratio; how many of the client's round trips timed out during it; how long after the attack
// stopped the target was idle again; and for the attacks that lock newcomers out, a new client's
// time to its first echo and whether it got one.
inline constexpr const char* idle_p50_us = "idle_p50_us";
inline constexpr const char* idle_p99_us = "idle_p99_us";
inline constexpr const char* idle_cpu_pct = "idle_cpu_pct";
inline constexpr const char* idle_rss_bytes = "idle_rss_bytes";
inline constexpr const char* cpu_pct = "cpu_pct";
inline constexpr const char* rss_bytes = "rss_bytes";
inline constexpr const char* rtt_ratio = "rtt_ratio";
inline constexpr const char* client_timeouts = "client_timeouts";
inline constexpr const char* idle_after_ms = "idle_after_ms";
inline constexpr const char* newcomer_ms = "newcomer_ms";
inline constexpr const char* newcomer_served = "newcomer_served";
}  // namespace metric

inline constexpr const char* k_limit_system = "limit";
inline constexpr const char* k_plaintext_system = "plaintext";
inline constexpr const char* k_curve_system = "curve";
inline constexpr const char* k_cryptcom_push_system = "cryptcom-push";
inline constexpr const char* k_cryptcom_auth_push_system = "cryptcom-auth-push";
inline constexpr const char* k_cryptcom_pull_system = "cryptcom-pull";
inline constexpr const char* k_hostile_prefix = "hostile-";
inline constexpr const char* k_plaintext_pipeline_system = "plaintext-pipeline";
inline constexpr const char* k_curve_pipeline_system = "curve-pipeline";
inline constexpr const char* k_cryptcom_pipeline_system = "cryptcom-pipeline";
inline constexpr const char* k_plaintext_broker_system = "plaintext-broker";
inline constexpr const char* k_cryptcom_broker_system = "cryptcom-broker";
inline constexpr const char* k_plaintext_pubsub_system = "plaintext-pubsub";
inline constexpr const char* k_curve_pubsub_system = "curve-pubsub";
inline constexpr const char* k_cryptcom_pubsub_system = "cryptcom-pubsub";

struct series_key {
  std::string system;
  std::string metric;
  std::size_t size = 0;
  int peers = 1;

  bool operator==(const series_key&) const = default;
};

struct series {
  series_key key;
  std::vector<double> samples;
};

class result_store {
 public:
  void add(const series_key& key, double value);

  [[nodiscard]] const std::vector<series>& all() const { return series_; }

  // Summary of one series; empty when nothing was recorded for it.
  [[nodiscard]] std::optional<summary> find(const series_key& key) const;

  // The samples of one series in the order they were added; null when there is none.
  [[nodiscard]] const std::vector<double>* samples(const series_key& key) const;

 private:
  std::vector<series> series_;
};

}  // namespace cryptcom::bench
