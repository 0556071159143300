#include "report_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <optional>

namespace cryptcom::bench {
namespace {

std::string printf_string(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// 1.23M, 45.6k, 789: rates span six orders of magnitude between 1 MiB limit and 64 B plaintext.
std::string short_number(double value) {
  if (!std::isfinite(value)) return "?";
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e6) return printf_string("%.2fM", value / 1e6);
  if (magnitude >= 1e4) return printf_string("%.1fk", value / 1e3);
  if (magnitude >= 100) return printf_string("%.0f", value);
  if (magnitude >= 10) return printf_string("%.1f", value);
  return printf_string("%.2f", value);
}

std::string with_range(const std::optional<summary>& s) {
  if (!s) return "n/a";
  if (s->reps == 1) return short_number(s->median);
  return short_number(s->median) + " [" + short_number(s->min) + ".." + short_number(s->max) + "]";
}

std::string median_of(const std::optional<summary>& s) {
  return s ? short_number(s->median) : std::string("n/a");
}

std::string or_dash(const std::optional<summary>& s) {
  return s ? short_number(s->median) : std::string("-");
}

std::string ratio_figure(const std::optional<summary>& s) {
  return s ? printf_string("%.3f", s->median) : std::string("n/a");
}

std::string pad(std::string text, std::size_t width, bool right) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

constexpr std::size_t k_name_width = 19;
constexpr std::size_t k_rate_width = 25;
constexpr std::size_t k_figure_width = 9;

void print_row(std::ostream& out, const std::string& name, const std::string& rate,
               const std::vector<std::string>& figures) {
  out << "  " << pad(name, k_name_width, false) << pad(rate, k_rate_width, false);
  // A space before each figure keeps columns apart even when a figure fills its width.
  for (const auto& figure : figures) out << ' ' << pad(figure, k_figure_width, true);
  out << '\n';
}

bool is_cryptcom(const std::string& system) { return system.starts_with("cryptcom"); }

// cryptcom's ratio columns (`find(metric)` gives the row's summary), or dashes for the others.
template <class Find>
void add_ratio_figures(std::vector<std::string>& figures, const std::string& system,
                       std::initializer_list<const char*> metrics, Find&& find) {
  for (const char* m : metrics)
    figures.push_back(is_cryptcom(system) ? ratio_figure(find(m)) : "-");
}

void print_size_table(std::ostream& out, std::size_t size, const std::vector<std::string>& systems,
                      const result_store& results, bool with_limit, int limit_threads) {
  auto find = [&](const std::string& system, const char* metric, int peers = 1) {
    return results.find({system, metric, size, peers});
  };
  out << "\n" << size_label(size) << "\n";
  print_row(out, "system", "msgs/s median [min..max]",
            {"MB/s", "cpu us", "p50 us", "p99 us", "cc/plain", "cc/curve", "cc/limit"});
  bool any_cryptcom = false;
  for (const auto& system : systems) {
    const auto rate = find(system, metric::msgs_per_s);
    std::vector<std::string> figures{
        or_dash(find(system, metric::mb_per_s)), or_dash(find(system, metric::cpu_us_per_msg)),
        or_dash(find(system, metric::p50_us)), or_dash(find(system, metric::p99_us))};
    any_cryptcom = any_cryptcom || is_cryptcom(system);
    add_ratio_figures(figures, system,
                      {metric::ratio_plaintext, metric::ratio_curve, metric::ratio_limit},
                      [&](const char* m) { return find(system, m); });
    print_row(out, system, rate ? with_range(rate) : std::string("-"), figures);
  }
  if (with_limit) {
    print_row(out, "limit, 1 core", with_range(find(k_limit_system, metric::msgs_per_s)),
              {median_of(find(k_limit_system, metric::mb_per_s)),
               or_dash(find(k_limit_system, metric::cpu_us_per_msg)), "-", "-", "-", "-", "-"});
    // With one core, the all-cores row is the 1-core row itself.
    if (limit_threads > 1) {
      print_row(out, "limit, " + cores_label(limit_threads),
                with_range(find(k_limit_system, metric::msgs_per_s_all_cores)),
                {median_of(find(k_limit_system, metric::mb_per_s_all_cores)), "-", "-", "-", "-",
                 "-", "-"});
    }
    print_row(
        out, "limit, RTT path", "-",
        {"-", "-", median_of(find(k_limit_system, metric::crypto_path_us)), "-", "-", "-", "-"});
  }
  if (!any_cryptcom) {
    print_row(out, "cryptcom", "n/a (not in this run)",
              {"n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"});
  }
  if (const auto base = find(k_cryptcom_auth_push_system, metric::ratio_base)) {
    out << "  authenticated / base mode push msgs/s (median of per-rep ratios): "
        << printf_string("%.3f", base->median) << " [" << printf_string("%.3f", base->min) << ".."
        << printf_string("%.3f", base->max) << "]\n";
  }
}

void print_scaling_table(std::ostream& out, const bench_options& options,
                         const std::vector<std::string>& systems, const result_store& results) {
  out << "\nscaling: one-way " << size_label(options.scale_size)
      << ", N DEALER peers -> 1 ROUTER, RSS growth per connected peer (both ends)\n";
  print_row(out, "system", "msgs/s median [min..max]",
            {"peers", "MB/s", "cpu us", "RSS/peer", "cc/plain", "cc/curve"});
  for (const auto& system : systems) {
    for (const int peers : options.scale_peers) {
      auto find = [&](const char* metric) {
        return results.find({system, metric, options.scale_size, peers});
      };
      const auto rate = find(metric::msgs_per_s);
      if (!rate) continue;
      const auto rss = find(metric::rss_per_peer_bytes);
      std::vector<std::string> figures{std::to_string(peers), median_of(find(metric::mb_per_s)),
                                       median_of(find(metric::cpu_us_per_msg)),
                                       rss ? printf_string("%.1f KiB", rss->median / 1024) : "n/a"};
      add_ratio_figures(figures, system, {metric::ratio_plaintext, metric::ratio_curve}, find);
      print_row(out, system, with_range(rate), figures);
    }
  }
}

// The PUSH/PULL rows: every system that has them, each load balancing size and worker count.
void print_pipeline_table(std::ostream& out, const bench_options& options,
                          const result_store& results) {
  const std::vector<std::string> systems{k_plaintext_pipeline_system, k_curve_pipeline_system,
                                         k_cryptcom_pipeline_system};
  bool header = false;
  for (const auto& system : systems) {
    for (const auto size : options.lb_sizes) {
      for (const int workers : options.pipeline_workers) {
        auto find = [&](const char* metric) {
          return results.find({system, metric, size, workers});
        };
        const auto rate = find(metric::msgs_per_s);
        if (!rate) continue;
        if (!header) {
          out << "\nload balancing: one PUSH -> N PULL workers, one-way, msgs/s summed over the "
                 "PULLs;\nspread: (most - fewest messages a PULL got) / mean per PULL; cc/plain, "
                 "cc/curve:\ncryptcom-pipeline msgs/s over plaintext-pipeline's and "
                 "curve-pipeline's\n";
          print_row(out, "system", "msgs/s median [min..max]",
                    {"size", "PULLs", "MB/s", "cpu us", "spread", "cc/plain", "cc/curve"});
          header = true;
        }
        const auto spread = find(metric::worker_spread);
        std::vector<std::string> figures{size_label(size), std::to_string(workers),
                                         median_of(find(metric::mb_per_s)),
                                         median_of(find(metric::cpu_us_per_msg)),
                                         spread ? printf_string("%.3f", spread->median) : "-"};
        add_ratio_figures(figures, system, {metric::ratio_plaintext, metric::ratio_curve}, find);
        print_row(out, system, with_range(rate), figures);
      }
    }
  }
}

// The broker rows: plaintext's and cryptcom's broker at each load balancing size.
void print_broker_table(std::ostream& out, const bench_options& options,
                        const result_store& results) {
  const int clients = options.broker.clients;
  bool header = false;
  for (const std::string system : {k_plaintext_broker_system, k_cryptcom_broker_system}) {
    for (const auto size : options.lb_sizes) {
      auto find = [&](const char* metric) { return results.find({system, metric, size, clients}); };
      const auto rate = find(metric::requests_per_s);
      if (!rate) continue;
      if (!header) {
        out << "\nload balancing: " << clients << " REQ clients -> broker -> "
            << options.broker.workers
            << " DEALER workers (echo), one request in flight per client;\n"
               "plaintext-broker: zmq_proxy(ROUTER, DEALER); cryptcom-broker: "
               "cryptcom::zmq::broker;\n"
               "p50/p99: a request's round trip; start ms: until every client had a reply and "
               "every\n"
               "worker had served (once per rep, at the first size); cc/plain: requests/s over\n"
               "plaintext-broker's\n";
        print_row(
            out, "system", "req/s median [min..max]",
            {"size", "clients", "cpu us", "p50 us", "p99 us", "spread", "start ms", "cc/plain"});
        header = true;
      }
      const auto spread = find(metric::worker_spread);
      std::vector<std::string> figures{size_label(size),
                                       std::to_string(clients),
                                       median_of(find(metric::cpu_us_per_msg)),
                                       median_of(find(metric::p50_us)),
                                       median_of(find(metric::p99_us)),
                                       spread ? printf_string("%.3f", spread->median) : "-",
                                       or_dash(find(metric::startup_ms))};
      add_ratio_figures(figures, system, {metric::ratio_plaintext}, find);
      print_row(out, system, with_range(rate), figures);
    }
  }
}

// The PUB/SUB rows, found by name: each size, each number of subscribers, each system.
void print_fan_out_table(std::ostream& out, const bench_options& options,
                         const result_store& results) {
  const char* const systems[] = {k_plaintext_pubsub_system, k_curve_pubsub_system,
                                 k_cryptcom_pubsub_system};
  bool header = false;
  for (const auto size : options.pubsub_sizes) {
    for (const int subscribers : options.subscribers) {
      for (const char* system : systems) {
        auto find = [&](const char* metric) {
          return results.find({system, metric, size, subscribers});
        };
        const auto rate = find(metric::msgs_per_s);
        if (!rate) continue;
        if (!header) {
          out << "\nPUB/SUB fan-out: 1 PUB -> N SUB subscribed to everything, no copy dropped;"
                 " msgs/s and MB/s\nreceived by each subscriber, CPU per message published\n";
          print_row(
              out, "system", "msgs/s median [min..max]",
              {"size", "subs", "MB/s", "pub cpu", "all cpu", "ramp ms", "cc/plain", "cc/curve"});
          header = true;
        }
        std::vector<std::string> figures{size_label(size),
                                         std::to_string(subscribers),
                                         median_of(find(metric::mb_per_s)),
                                         median_of(find(metric::publisher_cpu_us_per_msg)),
                                         median_of(find(metric::cpu_us_per_msg)),
                                         or_dash(find(metric::ramp_ms))};
        add_ratio_figures(figures, system, {metric::ratio_plaintext, metric::ratio_curve}, find);
        print_row(out, system, with_range(rate), figures);
      }
    }
  }
  if (header) {
    out << "  pub cpu: the publisher's threads (its loop, its context's and socket's I/O threads,\n"
           "  its key pool), all cpu: every thread of the process, in us per message published;\n"
           "  ramp ms (first size): from joining until the stream ran without stalls;\n"
           "  cc/plain, cc/curve: cryptcom-pubsub msgs/s over plaintext-pubsub's and "
           "curve-pubsub's\n";
  }
}

void print_key_memory(std::ostream& out, const bench_options& options,
                      const result_store& results) {
  const auto per_key =
      results.find({k_cryptcom_push_system, metric::rss_per_key_bytes, options.key_memory_keys, 1});
  if (!per_key) return;
  out << "\nmemory per live one-time key (" << options.key_memory_keys
      << " keys held, both ends' bookkeeping): " << printf_string("%.0f", per_key->median)
      << " B median [" << printf_string("%.0f", per_key->min) << ".."
      << printf_string("%.0f", per_key->max) << "]\n";
}

void print_soak(std::ostream& out, const bench_options& options, const result_store& results,
                const std::vector<soak_sample>& soak) {
  if (soak.empty()) return;
  const auto rate =
      results.find({k_cryptcom_push_system, metric::soak_msgs_per_s, options.soak_size, 1});
  out << "\nsoak: cryptcom-push " << size_label(options.soak_size) << " for "
      << options.soak.count() << " s at " << (rate ? short_number(rate->median) : "?")
      << " msgs/s; resident size (whole process):\n ";
  // About twelve samples across the run, and always the last one.
  const std::size_t step = std::max<std::size_t>(1, soak.size() / 12);
  for (std::size_t i = 0; i < soak.size(); ++i) {
    if (i % step != 0 && i + 1 != soak.size()) continue;
    out << printf_string(" %.0fs:", soak[i].seconds)
        << printf_string("%.1fMB", static_cast<double>(soak[i].rss_bytes) / 1e6);
  }
  const auto [low, high] = std::minmax_element(
      soak.begin(), soak.end(),
      [](const soak_sample& a, const soak_sample& b) { return a.rss_bytes < b.rss_bytes; });
  out << "\n  first to last: "
      << printf_string("%+.1f MB",
                       static_cast<double>(soak.back().rss_bytes - soak.front().rss_bytes) / 1e6)
      << ", range " << printf_string("%.1f", static_cast<double>(low->rss_bytes) / 1e6) << ".."
      << printf_string("%.1f MB", static_cast<double>(high->rss_bytes) / 1e6) << " over "
      << soak.back().messages << " messages\n";
}

}  // namespace

void print_report(std::ostream& out, const bench_options& options, const host_info& host,
                  const std::vector<std::string>& systems, const result_store& results,
                  const std::vector<soak_sample>& soak) {
  out << "cryptcom_bench  " << host.date << "\n"
      << "cpu: " << host.cpu << " (" << host.cores << " cores)  libzmq " << host.libzmq
      << "  libsodium " << host.libsodium << "  cryptcom " << host.cryptcom
      << "\nload average at start: " << host.load_average << "\n"
      << "tcp on 127.0.0.1; " << options.reps << " reps, interleaved; one-way window "
      << options.window.count() << " ms, REQ/REP window " << options.latency_window().count()
      << " ms, limit window " << options.limit_window().count() << " ms\n"
      << "msgs/s and MB/s (10^6 B/s): DEALER -> ROUTER one-way; p50/p99: REQ/REP round trip\n";
  const bool with_limit = options.wants(k_limit_system);
  // A run of load balancing or PUB/SUB rows alone has no per-size table to show.
  if (!systems.empty() || with_limit) {
    for (const auto size : options.sizes) {
      print_size_table(out, size, systems, results, with_limit, options.limit_threads);
    }
  }
  if (!systems.empty() && !options.scale_peers.empty()) {
    print_scaling_table(out, options, systems, results);
  }
  print_pipeline_table(out, options, results);
  print_broker_table(out, options, results);
  print_fan_out_table(out, options, results);
  print_key_memory(out, options, results);
  print_soak(out, options, results, soak);
  out << "\ncpu us: process CPU time (user + system, all threads, both ends) per message over the\n"
         "one-way window; for the limit, one message's time on its single thread.\n";
  const std::string all_cores = "limit, " + cores_label(options.limit_threads);
  out << "limit: libsodium alone per message, both ends: 2 X25519 key generations, 2 X25519\n"
         "agreements, ChaCha20-Poly1305 seal and open of the payload, 10 HMAC-SHA256.\n"
         "limit, 1 core: on one thread.";
  if (options.limit_threads > 1) {
    out << " " << all_cores << ": measured with " << options.limit_threads
        << " threads at once (one per\n"
           "core, each on its own buffers, started together), their rates summed.";
  }
  out << "\nRTT path: that work without the key generations, twice (request and reply): the\n"
         "cryptography a REQ/REP round trip cannot avoid.\n"
         "cc/plain, cc/curve, cc/limit (medians of per-rep ratios): cryptcom-push msgs/s over\n"
         "plaintext's, curve's and the \""
      << all_cores
      << "\" row's; cryptcom-pull p50 over plaintext's and\n"
         "curve's p50, and (p50 - plaintext p50) / RTT path.\n";
}

}  // namespace cryptcom::bench
