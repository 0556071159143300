#include "bench_options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

namespace cryptcom::bench {
namespace {

constexpr std::size_t k_max_size = std::size_t{64} << 20;
constexpr int k_max_reps = 1000;
constexpr int k_max_peers = 1000;

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

std::uint64_t parse_unsigned(std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw usage_error(std::string(what) + ": not a number: '" + std::string(text) + "'");
  }
  return value;
}

// "4096", "64K", "64KiB", "1M", "1MiB" (K and M are powers of two, as in the report).
std::size_t parse_size(std::string_view text) {
  const std::string original(text);
  std::size_t multiplier = 1;
  for (auto [suffix, factor] : {std::pair<std::string_view, std::size_t>{"KiB", 1024},
                                {"K", 1024},
                                {"k", 1024},
                                {"MiB", 1 << 20},
                                {"M", 1 << 20},
                                {"B", 1}}) {
    if (text.size() > suffix.size() && text.ends_with(suffix)) {
      text.remove_suffix(suffix.size());
      multiplier = factor;
      break;
    }
  }
  const auto value = parse_unsigned(text, "size");
  if (value == 0 || value > k_max_size / multiplier) {
    throw usage_error("size out of range (1 B to 64 MiB): '" + original + "'");
  }
  return static_cast<std::size_t>(value) * multiplier;
}

int parse_int_in(std::string_view text, std::string_view what, int low, int high) {
  const auto value = parse_unsigned(text, what);
  if (value < static_cast<std::uint64_t>(low) || value > static_cast<std::uint64_t>(high)) {
    throw usage_error(std::string(what) + " out of range (" + std::to_string(low) + " to " +
                      std::to_string(high) + "): " + std::string(text));
  }
  return static_cast<int>(value);
}

template <class T>
void sort_unique(std::vector<T>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

bool bench_options::wants(std::string_view system) const {
  return systems.empty() || std::find(systems.begin(), systems.end(), system) != systems.end();
}

bench_options parse_options(int argc, const char* const* argv) {
  bench_options options;
  std::optional<int> reps;
  std::optional<std::chrono::milliseconds> window;
  std::optional<std::vector<int>> peers;
  std::optional<std::vector<int>> subscribers;
  std::optional<std::size_t> key_memory_keys;
  for (int i = 0; i < argc; ++i) options.command.emplace_back(argv[i]);

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) throw usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--hostile") {
      options.hostile = true;
    } else if (arg == "--sizes") {
      options.sizes.clear();
      for (auto part : split_commas(value())) options.sizes.push_back(parse_size(part));
    } else if (arg == "--reps") {
      reps = parse_int_in(value(), "--reps", 1, k_max_reps);
    } else if (arg == "--window-ms") {
      window = std::chrono::milliseconds(parse_int_in(value(), "--window-ms", 10, 60'000));
    } else if (arg == "--peers") {
      peers.emplace();
      for (auto part : split_commas(value())) {
        peers->push_back(parse_int_in(part, "--peers", 1, k_max_peers));
      }
    } else if (arg == "--lb-sizes") {
      options.lb_sizes.clear();
      for (auto part : split_commas(value())) options.lb_sizes.push_back(parse_size(part));
    } else if (arg == "--pipeline-workers") {
      options.pipeline_workers.clear();
      for (auto part : split_commas(value())) {
        options.pipeline_workers.push_back(
            parse_int_in(part, "--pipeline-workers", 1, k_max_peers));
      }
    } else if (arg == "--broker-clients") {
      options.broker.clients = parse_int_in(value(), "--broker-clients", 1, k_max_peers);
    } else if (arg == "--broker-workers") {
      options.broker.workers = parse_int_in(value(), "--broker-workers", 1, k_max_peers);
    } else if (arg == "--pubsub-sizes") {
      options.pubsub_sizes.clear();
      for (auto part : split_commas(value())) {
        options.pubsub_sizes.push_back(parse_size(part));
        // A 1-byte message is the measurement's hello (pubsub_loop.hpp).
        if (options.pubsub_sizes.back() < 2) throw usage_error("--pubsub-sizes: 2 B or more");
      }
    } else if (arg == "--subscribers") {
      subscribers.emplace();
      for (auto part : split_commas(value())) {
        subscribers->push_back(parse_int_in(part, "--subscribers", 1, k_max_peers));
      }
    } else if (arg == "--scale-size") {
      options.scale_size = parse_size(value());
    } else if (arg == "--systems") {
      options.systems.clear();
      for (auto part : split_commas(value())) options.systems.emplace_back(part);
    } else if (arg == "--json") {
      options.json_path = value();
    } else if (arg == "--plot") {
      options.plot_path = value();
    } else if (arg == "--io-timeout-ms") {
      options.io_timeout =
          std::chrono::milliseconds(parse_int_in(value(), "--io-timeout-ms", 100, 60'000));
    } else if (arg == "--keygen-threads") {
      options.keygen_threads =
          static_cast<std::size_t>(parse_int_in(value(), "--keygen-threads", 1, 64));
    } else if (arg == "--aes") {
      options.aes_256_gcm = true;
    } else if (arg == "--key-memory") {
      key_memory_keys =
          static_cast<std::size_t>(parse_int_in(value(), "--key-memory", 0, 1'000'000));
    } else if (arg == "--soak-s") {
      options.soak = std::chrono::seconds(parse_int_in(value(), "--soak-s", 0, 24 * 3600));
    } else if (arg == "--soak-size") {
      options.soak_size = parse_size(value());
    } else {
      throw usage_error("unknown argument: '" + std::string(arg) + "' (try --help)");
    }
  }

  if (options.hostile && options.quick) {
    throw usage_error("--hostile is not part of --quick and does not combine with it");
  }
  // --quick sets defaults; explicit flags win whatever their order.
  if (options.quick) {
    options.reps = 2;
    options.window = std::chrono::milliseconds(250);
    options.scale_peers = {1, 10};
    options.subscribers = {1, 10};
    options.key_memory_keys = 5000;
  }
  if (key_memory_keys) options.key_memory_keys = *key_memory_keys;
  if (reps) options.reps = *reps;
  if (window) options.window = *window;
  if (peers) options.scale_peers = *peers;
  if (subscribers) options.subscribers = *subscribers;
  // Sizes, peers, workers and subscribers are run in ascending order, each once.
  sort_unique(options.sizes);
  sort_unique(options.scale_peers);
  sort_unique(options.lb_sizes);
  sort_unique(options.pipeline_workers);
  sort_unique(options.pubsub_sizes);
  sort_unique(options.subscribers);
  return options;
}

std::string usage_text(std::string_view program) {
  return "usage: " + std::string(program) +
         " [options]\n"
         "Plain ZeroMQ, ZeroMQ with CURVE and cryptcom side by side over tcp on 127.0.0.1.\n"
         "  --quick              2 reps, 250 ms windows, scaling to 10 peers and subscribers\n"
         "                       (< 60 s)\n"
         "  --sizes LIST         message sizes, e.g. 64,1K,64K,1M (default)\n"
         "  --reps N             repetitions of each measurement (default 5, quick 2)\n"
         "  --window-ms MS       throughput window; latency gets half, limit 30% (default 1000)\n"
         "  --peers LIST         DEALER peers for the scaling rows (default 1,10,100; quick 1,10)\n"
         "  --scale-size SIZE    message size of the scaling rows (default 1K)\n"
         "  --systems LIST       only these: plaintext,curve,limit,cryptcom-push,cryptcom-pull,\n"
         "                       cryptcom-auth-push (authenticated mode); load balancing:\n"
         "                       plaintext-pipeline,curve-pipeline,cryptcom-pipeline (PUSH/PULL),\n"
         "                       plaintext-broker,cryptcom-broker (clients->broker->workers);\n"
         "                       PUB/SUB: plaintext-pubsub,curve-pubsub,cryptcom-pubsub\n"
         "  --lb-sizes LIST      message sizes of the load balancing rows (default 64,1K)\n"
         "  --pipeline-workers LIST  PULL workers of the PUSH/PULL rows (default 1,4)\n"
         "  --broker-clients N   REQ clients of the broker rows (default 20)\n"
         "  --broker-workers N   DEALER workers of the broker rows (default 5)\n"
         "  --pubsub-sizes LIST  message sizes of the PUB/SUB rows (default 64,64K)\n"
         "  --subscribers LIST   SUBs of the PUB/SUB rows (default 1,10,100; quick 1,10)\n"
         "  --json FILE          write every figure as JSON\n"
         "  --plot FILE.svg      draw throughput and p50 latency against size (needs gnuplot)\n"
         "  --io-timeout-ms MS   a send or receive stalled this long fails the run (default "
         "5000)\n"
         "  --keygen-threads N   cryptcom: key generation threads per key pool (default 1)\n"
         "  --aes                cryptcom: seal with AES-256-GCM instead of ChaCha20-Poly1305\n"
         "  --key-memory N       cryptcom: live keys for the memory-per-key figure (default\n"
         "                       20000, quick 5000; 0: skip)\n"
         "  --soak-s S           cryptcom: then one push stream for S seconds, RSS every 10 s\n"
         "  --soak-size SIZE     message size of the soak (default 1K)\n"
         "  --hostile            instead: issue 9's attacks on a cryptcom echo server, a row\n"
         "                       each: a served client's p50/p99 and the server's CPU and RSS,\n"
         "                       idle and under attack (~2 min; --window-ms scales the windows,\n"
         "                       --systems hostile-NAME picks attacks; not part of --quick)\n";
}

std::string size_label(std::size_t bytes) {
  if (bytes >= (1U << 20) && bytes % (1U << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

std::string cores_label(int cores) {
  return std::to_string(cores) + (cores == 1 ? " core" : " cores");
}

}  // namespace cryptcom::bench
