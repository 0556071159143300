#include "report_hostile.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "hostile_attacks.hpp"

namespace cryptcom::bench {
namespace {

constexpr std::size_t k_size = 64;

std::string fixed(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string pad(const std::string& text, std::size_t width, bool right = true) {
  if (text.size() >= width) return text;
  const std::string fill(width - text.size(), ' ');
  return right ? fill + text : text + fill;
}

}  // namespace

void print_hostile_report(std::ostream& out, const bench_options& options, const host_info& host,
                          const result_store& results) {
  out << "cryptcom_bench --hostile  " << host.date << "\n"
      << "cpu: " << host.cpu << " (" << host.cores << " cores)  libzmq " << host.libzmq
      << "  libsodium " << host.libsodium << "  cryptcom " << host.cryptcom
      << "\nload average at start: " << host.load_average << "\n"
      << "a served client's " << k_size
      << " B round trips (cryptcom DEALER -> echo ROUTER, tcp 127.0.0.1) and the target's CPU and "
         "RSS,\nidle for "
      << options.hostile_idle_window().count() << " ms, then under attack for "
      << options.hostile_attack_window().count() << " ms; a fresh target per attack\n\n";
  const std::vector<std::string> head{"attack", "#",     "idle p50", "p99",       "cpu%",
                                      "RSS MB", "| p50", "p99",      "cpu%",      "RSS MB",
                                      "p50 x",  "t/o",   "newcomer", "idle after"};
  const std::vector<std::size_t> width{18, 2, 9, 9, 6, 7, 9, 9, 6, 7, 7, 4, 9, 11};
  auto row = [&](const std::vector<std::string>& cells) {
    out << "  ";
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out << (i == 0 ? "" : " ") << pad(cells[i], width[i], i != 0);
    }
    out << "\n";
  };
  row(head);
  const auto attacks = hostile_attacks();
  for (const auto& attack : attacks) {
    const std::string system = std::string(k_hostile_prefix) + attack.name;
    auto find = [&](const char* metric) -> std::optional<double> {
      if (auto s = results.find({system, metric, k_size, 1})) return s->median;
      return std::nullopt;
    };
    auto us = [&](const char* metric) {
      const auto v = find(metric);
      if (!v) return std::string("-");
      return *v >= 10000 ? fixed("%.1fms", *v / 1000) : fixed("%.0fus", *v);
    };
    auto pct = [&](const char* metric) {
      const auto v = find(metric);
      return v ? fixed("%.0f", *v) : std::string("-");
    };
    auto mb = [&](const char* metric) {
      const auto v = find(metric);
      return v ? fixed("%.0f", *v / 1e6) : std::string("-");
    };
    if (!find(metric::p50_us)) continue;
    std::string newcomer = "-";
    if (const auto served = find(metric::newcomer_served)) {
      newcomer = *served > 0 ? fixed("%.0fms", find(metric::newcomer_ms).value_or(0))
                             : fixed(">%.0fms", find(metric::newcomer_ms).value_or(0));
    }
    const auto after = find(metric::idle_after_ms);
    const auto ratio = find(metric::rtt_ratio);
    const auto timeouts = find(metric::client_timeouts);
    row({attack.name, attack.finding, us(metric::idle_p50_us), us(metric::idle_p99_us),
         pct(metric::idle_cpu_pct), mb(metric::idle_rss_bytes), "| " + us(metric::p50_us),
         us(metric::p99_us), pct(metric::cpu_pct), mb(metric::rss_bytes),
         ratio ? fixed("%.2f", *ratio) : "-", timeouts ? fixed("%.0f", *timeouts) : "-", newcomer,
         after ? (*after >= 10000 ? ">10000ms" : fixed("%.0fms", *after)) : "-"});
  }
  out << "\n# : issue 9's finding. cpu%: the target's own threads, % of one core. RSS: the whole\n"
         "process (attacker and client included, a few MB), under attack its peak. p50 x: p50\n"
         "under attack over p50 idle. t/o: round trips that waited 2 s and were counted as 2 s.\n"
         "newcomer: a new client's first echo, connecting while the attack is on (>: none within\n"
         "the cap). idle after: from the attack's stop until the target's CPU over 100 ms fell\n"
         "below 10% of a core.\n";
  for (const auto& attack : attacks)
    out << "  " << pad(attack.name, 18, false) << attack.what << "\n";
}

}  // namespace cryptcom::bench
