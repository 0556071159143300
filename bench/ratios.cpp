#include "ratios.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace cryptcom::bench {
namespace {

// One ratio per repetition from the matching samples of each input, or the ratio of medians.
std::vector<double> per_rep(const result_store& results, const std::vector<series_key>& inputs,
                            const std::function<std::optional<double>(const double*)>& combine) {
  std::vector<const std::vector<double>*> samples;
  for (const auto& key : inputs) {
    const auto* s = results.samples(key);
    if (s == nullptr || s->empty()) return {};
    samples.push_back(s);
  }
  const std::size_t reps = samples.front()->size();
  const bool paired = std::all_of(samples.begin(), samples.end(),
                                  [&](const std::vector<double>* s) { return s->size() == reps; });
  std::vector<double> out;
  std::vector<double> values(inputs.size());
  if (paired) {
    for (std::size_t r = 0; r < reps; ++r) {
      for (std::size_t i = 0; i < inputs.size(); ++i) values[i] = (*samples[i])[r];
      if (auto v = combine(values.data())) out.push_back(*v);
    }
  } else {
    for (std::size_t i = 0; i < inputs.size(); ++i) values[i] = summarize(*samples[i]).median;
    if (auto v = combine(values.data())) out.push_back(*v);
  }
  return out;
}

std::optional<double> quotient(const double* v) {
  if (v[1] <= 0) return std::nullopt;
  return v[0] / v[1];
}

void add_series(result_store& results, const series_key& key, const std::vector<double>& values) {
  for (const double v : values) results.add(key, v);
}

// The systems of one kind of row: cryptcom's, and the two it is compared with.
struct compared_systems {
  const char* cryptcom;
  const char* plaintext;
  const char* curve;
};

// cryptcom's msgs/s over plaintext's (ratio_plaintext) and curve's (ratio_curve), for every size
// and count (of workers, subscribers: the series' `peers`).
void add_rate_ratios(result_store& results, const compared_systems& systems,
                     const std::vector<std::size_t>& sizes, const std::vector<int>& counts) {
  for (const auto size : sizes) {
    for (const int count : counts) {
      const series_key rate{systems.cryptcom, metric::msgs_per_s, size, count};
      for (const auto& [ratio, other] : {std::pair{metric::ratio_plaintext, systems.plaintext},
                                         std::pair{metric::ratio_curve, systems.curve}}) {
        add_series(results, {systems.cryptcom, ratio, size, count},
                   per_rep(results, {rate, {other, metric::msgs_per_s, size, count}}, quotient));
      }
    }
  }
}

}  // namespace

void add_ratios(const bench_options& options, result_store& results) {
  auto key = [](const char* system, const char* metric, std::size_t size, int peers = 1) {
    return series_key{system, metric, size, peers};
  };
  const char* push = k_cryptcom_push_system;
  const char* pull = k_cryptcom_pull_system;

  // Throughput: every size with one peer, and the scaling rows.
  std::vector<std::pair<std::size_t, int>> points;
  for (const auto size : options.sizes) points.emplace_back(size, 1);
  for (const int peers : options.scale_peers) {
    if (peers > 1) points.emplace_back(options.scale_size, peers);
  }
  for (const auto& [size, peers] : points) {
    for (const char* system : {push, k_cryptcom_auth_push_system}) {
      const auto rate = key(system, metric::msgs_per_s, size, peers);
      add_series(results, key(system, metric::ratio_plaintext, size, peers),
                 per_rep(results, {rate, key(k_plaintext_system, metric::msgs_per_s, size, peers)},
                         quotient));
      add_series(
          results, key(system, metric::ratio_curve, size, peers),
          per_rep(results, {rate, key(k_curve_system, metric::msgs_per_s, size, peers)}, quotient));
      if (peers == 1) {
        add_series(results, key(system, metric::ratio_limit, size),
                   per_rep(results, {rate, key(k_limit_system, metric::msgs_per_s_all_cores, size)},
                           quotient));
      }
    }
    // Authenticated mode's cost: its push rate over base mode's, rep by rep.
    add_series(results, key(k_cryptcom_auth_push_system, metric::ratio_base, size, peers),
               per_rep(results,
                       {key(k_cryptcom_auth_push_system, metric::msgs_per_s, size, peers),
                        key(push, metric::msgs_per_s, size, peers)},
                       quotient));
  }

  // Load balancing, PUSH/PULL: every size and number of workers.
  add_rate_ratios(
      results, {k_cryptcom_pipeline_system, k_plaintext_pipeline_system, k_curve_pipeline_system},
      options.lb_sizes, options.pipeline_workers);

  // Load balancing, the broker: every size, at its number of clients.
  for (const auto size : options.lb_sizes) {
    const int clients = options.broker.clients;
    add_series(results, key(k_cryptcom_broker_system, metric::ratio_plaintext, size, clients),
               per_rep(results,
                       {key(k_cryptcom_broker_system, metric::requests_per_s, size, clients),
                        key(k_plaintext_broker_system, metric::requests_per_s, size, clients)},
                       quotient));
  }

  // PUB/SUB: each subscriber's rate, every size and number of subscribers.
  add_rate_ratios(results,
                  {k_cryptcom_pubsub_system, k_plaintext_pubsub_system, k_curve_pubsub_system},
                  options.pubsub_sizes, options.subscribers);

  // Latency.
  for (const auto size : options.sizes) {
    const auto p50 = key(pull, metric::p50_us, size);
    const auto plain_p50 = key(k_plaintext_system, metric::p50_us, size);
    add_series(results, key(pull, metric::ratio_plaintext, size),
               per_rep(results, {p50, plain_p50}, quotient));
    add_series(results, key(pull, metric::ratio_curve, size),
               per_rep(results, {p50, key(k_curve_system, metric::p50_us, size)}, quotient));
    add_series(results, key(pull, metric::ratio_limit, size),
               per_rep(results, {p50, plain_p50, key(k_limit_system, metric::crypto_path_us, size)},
                       [](const double* v) -> std::optional<double> {
                         if (v[2] <= 0) return std::nullopt;
                         return (v[0] - v[1]) / v[2];
                       }));
  }
}

}  // namespace cryptcom::bench
