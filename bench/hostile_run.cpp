#include "hostile_run.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <thread>
#include <zmq.hpp>

#include "attacker/echo_server.hpp"
#include "attacker/served_client.hpp"
#include "hostile_attacks.hpp"
#include "memory_usage.hpp"
#include "summary.hpp"

namespace cryptcom::bench {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t k_message_size = 64;
constexpr auto k_round_trip_timeout = 2s;
constexpr auto k_newcomer_timeout = 5s;
constexpr auto k_idle_limit = 10s;
// "Idle": the target's threads used less than this share of one core over 100 ms.
constexpr double k_idle_cpu_share = 0.10;

struct window_figures {
  std::vector<double> round_trips_us;
  std::uint64_t timeouts = 0;
  double cpu_pct = 0;
};

// Round trips one after the other for `window`, the target's CPU over the same time.
window_figures measure(hostile::served_client& client, const hostile::echo_server& target,
                       std::chrono::milliseconds window) {
  window_figures f;
  const double cpu0 = target.cpu_seconds();
  const auto t0 = clock_type::now();
  const auto end = t0 + window;
  while (clock_type::now() < end) {
    if (const auto t = client.round_trip(k_message_size, k_round_trip_timeout)) {
      f.round_trips_us.push_back(std::chrono::duration<double, std::micro>(*t).count());
    } else {
      f.round_trips_us.push_back(
          std::chrono::duration<double, std::micro>(k_round_trip_timeout).count());
      ++f.timeouts;
    }
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  f.cpu_pct = 100.0 * (target.cpu_seconds() - cpu0) / seconds;
  return f;
}

// The peak of the process's RSS while it runs, sampled every 100 ms.
class rss_peak {
 public:
  rss_peak()
      : thread_([this] {
          while (!stop_) {
            if (const auto r = resident_bytes(); r && *r > peak_) peak_ = *r;
            for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(10ms);
          }
        }) {}
  ~rss_peak() { stop(); }
  std::int64_t stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    return peak_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> peak_{0};
  std::thread thread_;
};

// Milliseconds from now until the target's CPU over a 100 ms interval falls below
// k_idle_cpu_share of a core (the start of that interval); k_idle_limit when it does not.
double idle_after_ms(const hostile::echo_server& target) {
  constexpr auto interval = 100ms;
  const auto start = clock_type::now();
  auto from = start;
  double cpu = target.cpu_seconds();
  while (from - start < k_idle_limit) {
    std::this_thread::sleep_for(interval);
    const auto to = clock_type::now();
    const double now_cpu = target.cpu_seconds();
    if (now_cpu - cpu < k_idle_cpu_share * std::chrono::duration<double>(to - from).count()) {
      return std::chrono::duration<double, std::milli>(from - start).count();
    }
    cpu = now_cpu;
    from = to;
  }
  return std::chrono::duration<double, std::milli>(k_idle_limit).count();
}

cryptcom::zmq::socket_options target_options(const bench_options& options) {
  cryptcom::zmq::socket_options o;
  o.linger = 0ms;
  if (options.aes_256_gcm) o.engine.cipher = cryptcom::aead::aes_256_gcm;
  o.key_pool_options.threads = options.keygen_threads;
  return o;
}

void run_one(const hostile_attack& attack, const bench_options& options,
             const std::shared_ptr<cryptcom::key_pool>& client_pool, const std::string& where,
             progress_line& progress, result_store& results) {
  const std::string system = std::string(k_hostile_prefix) + attack.name;
  auto add = [&](const char* metric, double value) {
    results.add({system, metric, k_message_size, 1}, value);
  };
  release_free_memory();
  const cryptcom::zmq::socket_options target_opts = target_options(options);
  hostile::echo_server target(target_opts);
  cryptcom::zmq::socket_options client_opts;
  client_opts.engine = target_opts.engine;
  client_opts.key_pool = client_pool;
  client_opts.linger = 0ms;
  ::zmq::context_t ctx;
  hostile::served_client client(ctx, target.endpoint(), client_opts);

  progress.show(where + "idle");
  // Warm-up: keys exchanged both ways, pools at their steady size.
  if (client.round_trips_us(k_message_size, 2s, 50, 5s).empty() || client.timed_out()) {
    throw std::runtime_error("the served client was not served with the target idle");
  }
  auto idle = measure(client, target, options.hostile_idle_window());
  const auto idle_rss = resident_bytes().value_or(0);

  progress.show(where + "starting the attack");
  std::unique_ptr<running_attack> running = attack.start(target);
  progress.show(where + "under attack");
  rss_peak peak;
  auto during = measure(client, target, options.hostile_attack_window());
  std::optional<std::chrono::milliseconds> newcomer;
  if (attack.times_newcomer) {
    newcomer = hostile::first_echo(target.endpoint(), client_opts, k_newcomer_timeout);
  }
  running->stop();  // nothing more sent; what was sent stays queued for the target
  const std::int64_t during_rss = peak.stop();
  progress.show(where + "stopped, waiting for the target to be idle");
  const double idle_after = idle_after_ms(target);
  const std::string tally = running->tally();
  running.reset();  // its connections closed
  progress.note(where + "done: " + tally);

  const double idle_p50 = percentile(idle.round_trips_us, 50);
  const double during_p50 = percentile(during.round_trips_us, 50);
  add(metric::idle_p50_us, idle_p50);
  add(metric::idle_p99_us, percentile(idle.round_trips_us, 99));
  add(metric::idle_cpu_pct, idle.cpu_pct);
  add(metric::idle_rss_bytes, static_cast<double>(idle_rss));
  add(metric::p50_us, during_p50);
  add(metric::p99_us, percentile(during.round_trips_us, 99));
  add(metric::cpu_pct, during.cpu_pct);
  add(metric::rss_bytes, static_cast<double>(during_rss));
  add(metric::rtt_ratio, during_p50 / idle_p50);
  add(metric::client_timeouts, static_cast<double>(during.timeouts));
  add(metric::idle_after_ms, idle_after);
  if (attack.times_newcomer) {
    add(metric::newcomer_served, newcomer ? 1.0 : 0.0);
    add(metric::newcomer_ms,
        static_cast<double>(
            newcomer
                .value_or(std::chrono::duration_cast<std::chrono::milliseconds>(k_newcomer_timeout))
                .count()));
  }
}

}  // namespace

run_outcome run_hostile(const bench_options& options, progress_line& progress) {
  run_outcome outcome;
  cryptcom::key_pool_options pool_options;
  pool_options.threads = options.keygen_threads;
  const std::shared_ptr<cryptcom::key_pool> client_pool(cryptcom::make_key_pool(pool_options));
  const auto attacks = hostile_attacks();
  for (std::size_t i = 0; i < attacks.size(); ++i) {
    const auto& attack = attacks[i];
    if (!options.wants(std::string(k_hostile_prefix) + attack.name)) continue;
    const std::string where = "hostile " + std::to_string(i + 1) + "/" +
                              std::to_string(attacks.size()) + ", " + attack.name + ": ";
    try {
      run_one(attack, options, client_pool, where, progress, outcome.results);
    } catch (const std::exception& e) {
      outcome.failures.push_back(where + e.what());
      progress.note("FAILED " + outcome.failures.back());
    }
  }
  progress.finish();
  return outcome;
}

}  // namespace cryptcom::bench
