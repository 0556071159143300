// cryptcom_bench_check_json FILE: reads what `cryptcom_bench --json FILE` wrote and checks its
// shape: the header's fields, and for every row its fields, types and that the figures are
// positive where a zero or negative value can only mean a broken measurement. It judges no
// performance. Prints every problem found; exits 0 when there is none.

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using json = nlohmann::json;

const std::set<std::string> k_systems{"plaintext",          "curve",
                                      "cryptcom-push",      "cryptcom-pull",
                                      "cryptcom-auth-push", "limit",
                                      "plaintext-pipeline", "curve-pipeline",
                                      "cryptcom-pipeline",  "plaintext-broker",
                                      "cryptcom-broker",    "plaintext-pubsub",
                                      "curve-pubsub",       "cryptcom-pubsub"};
// --hostile: one system per attack, "hostile-<attack>".
const std::set<std::string> k_hostile_systems{
    "hostile-forged-rejections", "hostile-key-hoard-64", "hostile-key-hoard-paths",
    "hostile-forged-peers",      "hostile-idle-peers",   "hostile-instance-churn",
    "hostile-failed-opens",      "hostile-malformed",    "hostile-random-guids"};
const std::set<std::string> k_hostile_metrics{
    "idle_p50_us",   "idle_p99_us", "idle_cpu_pct",   "idle_rss_bytes", "p50_us",
    "p99_us",        "cpu_pct",     "rss_bytes",      "rtt_ratio",      "client_timeouts",
    "idle_after_ms", "newcomer_ms", "newcomer_served"};
// Figures of the hostile rows that are honestly zero at times: no CPU over a window, no
// timeouts, idle at once, a newcomer not served.
const std::set<std::string> k_non_negative_metrics{"idle_cpu_pct", "cpu_pct", "client_timeouts",
                                                   "idle_after_ms", "newcomer_served"};
const std::set<std::string> k_metrics{
    "msgs_per_s",      "mb_per_s",           "p50_us",
    "p99_us",          "rss_per_peer_bytes", "msgs_per_s_2core",
    "mb_per_s_2core",  "crypto_path_us",     "rss_per_key_bytes",
    "ratio_plaintext", "ratio_curve",        "ratio_limit",
    "cpu_us_per_msg",  "rss_soak_bytes",     "rss_soak_growth_bytes",
    "soak_msgs_per_s", "ratio_base",         "worker_spread",
    "requests_per_s",  "startup_ms",         "publisher_cpu_us_per_msg",
    "ramp_ms"};
// Figures of the comparison that are honestly zero at times: workers that shared evenly, a
// PUB/SUB stream that never stalled.
const std::set<std::string> k_comparison_non_negative_metrics{"worker_spread", "ramp_ms"};
// Resident memory is a difference of two readings and may honestly be negative; so may
// cryptcom-pull's ratio_limit, a difference of latencies over a time.
const std::set<std::string> k_signed_metrics{"rss_per_peer_bytes", "rss_per_key_bytes",
                                             "ratio_limit", "rss_soak_growth_bytes"};

class checker {
 public:
  void problem(const std::string& where, const std::string& what) {
    problems_.push_back(where + ": " + what);
  }
  [[nodiscard]] const std::vector<std::string>& problems() const { return problems_; }

  void header(const json& h) {
    if (!h.is_object()) return problem("header", "missing or not an object");
    for (const char* name : {"date", "cpu", "libzmq", "libsodium", "cryptcom", "command"}) {
      if (!h.contains(name) || !h[name].is_string() || h[name].get<std::string>().empty()) {
        problem(std::string("header.") + name, "missing, not a string or empty");
      }
    }
    if (!h.contains("cores") || !h["cores"].is_number_integer() ||
        h["cores"].get<long long>() < 1) {
      problem("header.cores", "missing or not a positive integer");
    }
    // Optional: files written before the all-cores limit row was measured (it was then twice
    // the 1-core figure) do not have it.
    if (h.contains("limit_threads") &&
        (!h["limit_threads"].is_number_integer() || h["limit_threads"].get<long long>() < 1)) {
      problem("header.limit_threads", "not a positive integer");
    }
    static const std::regex iso8601(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
    if (h.contains("date") && h["date"].is_string() &&
        !std::regex_match(h["date"].get<std::string>(), iso8601)) {
      problem("header.date", "not an ISO 8601 UTC time");
    }
  }

  void row(const json& r, std::size_t index) {
    const std::string where = "rows[" + std::to_string(index) + "]";
    if (!r.is_object()) return problem(where, "not an object");
    for (const char* name : {"system", "metric", "size", "peers", "min", "median", "max", "reps"}) {
      if (!r.contains(name)) problem(where, std::string("no field \"") + name + "\"");
    }
    if (r.size() != 8) problem(where, "expected exactly 8 fields, got " + std::to_string(r.size()));
    const auto text = [&](const char* name) {
      return r.contains(name) && r[name].is_string() ? r[name].get<std::string>() : std::string();
    };
    const std::string system = text("system");
    const std::string metric = text("metric");
    const bool hostile = k_hostile_systems.contains(system);
    if (!k_systems.contains(system) && !hostile) {
      problem(where, "unknown system '" + system + "'");
    }
    if (hostile ? !k_hostile_metrics.contains(metric) : !k_metrics.contains(metric)) {
      problem(where, "unknown metric '" + metric + "' for " + system);
    }
    for (const char* name : {"size", "peers", "reps"}) {
      if (r.contains(name) &&
          (!r[name].is_number_unsigned() || r[name].get<unsigned long long>() < 1)) {
        problem(where, std::string(name) + " is not a positive integer");
      }
    }
    bool numbers = true;
    for (const char* name : {"min", "median", "max"}) {
      if (!r.contains(name) || !r[name].is_number() || !std::isfinite(r[name].get<double>())) {
        problem(where, std::string(name) + " is not a finite number");
        numbers = false;
      }
    }
    if (numbers) {
      const double low = r["min"].get<double>();
      const double mid = r["median"].get<double>();
      const double high = r["max"].get<double>();
      if (!(low <= mid && mid <= high)) problem(where, "min <= median <= max does not hold");
      if (hostile ? k_non_negative_metrics.contains(metric)
                  : k_comparison_non_negative_metrics.contains(metric)) {
        if (low < 0) problem(where, metric + " must be >= 0, min is " + std::to_string(low));
      } else if (!k_signed_metrics.contains(metric) && low <= 0) {
        problem(where, metric + " must be > 0, min is " + std::to_string(low));
      }
    }
    if (!system.empty() && !metric.empty() && r.contains("size") && r.contains("peers")) {
      const auto key = std::make_tuple(system, metric, r["size"].dump(), r["peers"].dump());
      if (!seen_.insert(key).second) problem(where, "duplicate of an earlier row");
      present_.insert({system, metric});
      if (hostile) {
        hostile_rows_ = true;
      } else {
        comparison_rows_ = true;
      }
    }
  }

  // The rows a complete run must have: a comparison run its comparison rows, a --hostile run
  // (which may pick attacks with --systems) every figure of each attack it has.
  void coverage() {
    if (hostile_rows_) hostile_coverage();
    if (comparison_rows_) {
      comparison_coverage();
      pubsub_coverage();
    }
  }

  // The PUB/SUB rows (ramp_ms is optional: a system that never stalls has 0).
  void pubsub_coverage() {
    for (const char* system : {"plaintext-pubsub", "curve-pubsub", "cryptcom-pubsub"}) {
      for (const char* metric :
           {"msgs_per_s", "mb_per_s", "cpu_us_per_msg", "publisher_cpu_us_per_msg"}) {
        if (!present_.contains({system, metric})) {
          problem("rows", std::string("no ") + system + " " + metric);
        }
      }
    }
    for (const char* metric : {"ratio_plaintext", "ratio_curve"}) {
      if (!present_.contains({"cryptcom-pubsub", metric})) {
        problem("rows", std::string("no cryptcom-pubsub ") + metric);
      }
    }
  }

  void hostile_coverage() {
    for (const auto& system : k_hostile_systems) {
      bool any = false;
      for (const auto& metric : k_hostile_metrics) any = any || present_.contains({system, metric});
      if (!any) continue;
      for (const char* metric :
           {"idle_p50_us", "idle_p99_us", "idle_cpu_pct", "idle_rss_bytes", "p50_us", "p99_us",
            "cpu_pct", "rss_bytes", "rtt_ratio", "client_timeouts", "idle_after_ms"}) {
        if (!present_.contains({system, metric})) problem("rows", "no " + system + " " + metric);
      }
      if (present_.contains({system, "newcomer_ms"}) !=
          present_.contains({system, "newcomer_served"})) {
        problem("rows", system + ": newcomer_ms and newcomer_served go together");
      }
    }
  }

  void comparison_coverage() {
    for (const auto& [system, metric] :
         std::vector<std::pair<std::string, std::string>>{{"plaintext", "msgs_per_s"},
                                                          {"plaintext", "p50_us"},
                                                          {"curve", "msgs_per_s"},
                                                          {"curve", "p99_us"},
                                                          {"limit", "msgs_per_s"},
                                                          {"limit", "msgs_per_s_2core"},
                                                          {"limit", "crypto_path_us"},
                                                          {"plaintext", "rss_per_peer_bytes"},
                                                          {"cryptcom-push", "msgs_per_s"},
                                                          {"cryptcom-push", "cpu_us_per_msg"},
                                                          {"cryptcom-push", "cpu_us_per_msg"},
                                                          {"cryptcom-push", "rss_per_peer_bytes"},
                                                          {"cryptcom-push", "rss_per_key_bytes"},
                                                          {"cryptcom-push", "ratio_plaintext"},
                                                          {"cryptcom-push", "ratio_limit"},
                                                          {"cryptcom-pull", "p50_us"},
                                                          {"cryptcom-pull", "ratio_limit"},
                                                          {"plaintext-pipeline", "msgs_per_s"},
                                                          {"curve-pipeline", "msgs_per_s"},
                                                          {"cryptcom-pipeline", "msgs_per_s"},
                                                          {"cryptcom-pipeline", "cpu_us_per_msg"},
                                                          {"cryptcom-pipeline", "worker_spread"},
                                                          {"cryptcom-pipeline", "ratio_plaintext"},
                                                          {"cryptcom-pipeline", "ratio_curve"},
                                                          {"plaintext-broker", "requests_per_s"},
                                                          {"cryptcom-broker", "requests_per_s"},
                                                          {"cryptcom-broker", "p50_us"},
                                                          {"cryptcom-broker", "startup_ms"},
                                                          {"cryptcom-broker", "worker_spread"},
                                                          {"cryptcom-broker", "ratio_plaintext"}}) {
      if (!present_.contains({system, metric})) problem("rows", "no " + system + " " + metric);
    }
  }

 private:
  std::vector<std::string> problems_;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> seen_;
  std::set<std::pair<std::string, std::string>> present_;
  bool hostile_rows_ = false;
  bool comparison_rows_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " FILE.json\n";
    return 2;
  }
  std::ifstream file(argv[1]);
  if (!file) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 1;
  }
  json document;
  try {
    document = json::parse(file);
  } catch (const json::exception& e) {
    std::cerr << argv[1] << ": not valid JSON: " << e.what() << "\n";
    return 1;
  }
  checker check;
  if (!document.is_object()) {
    check.problem("document", "not an object");
  } else {
    check.header(document.contains("header") ? document["header"] : json());
    if (!document.contains("rows") || !document["rows"].is_array() || document["rows"].empty()) {
      check.problem("rows", "missing, not an array or empty");
    } else {
      for (std::size_t i = 0; i < document["rows"].size(); ++i) check.row(document["rows"][i], i);
      check.coverage();
    }
  }
  for (const auto& problem : check.problems()) std::cerr << argv[1] << ": " << problem << "\n";
  if (!check.problems().empty()) return 1;
  std::cout << argv[1] << ": valid, " << document["rows"].size() << " rows\n";
  return 0;
}
