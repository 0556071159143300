#include "key_memory.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "cryptcom/engine.hpp"
#include "cryptcom/key_source.hpp"
#include "cryptcom/random.hpp"
#include "memory_usage.hpp"

namespace cryptcom::bench {
namespace {

constexpr cryptcom::peer_id k_peer_a = 1;  // how B names A
constexpr cryptcom::peer_id k_peer_b = 2;  // how A names B

// Delivers every frame either engine has for the other until neither has any. Bounded: a key
// request and its answer take two frames each way at most.
void shuttle(cryptcom::engine& a, cryptcom::engine& b, cryptcom::time_point now) {
  for (int round = 0; round < 100; ++round) {
    bool moved = false;
    while (auto t = a.poll_transmit()) {
      (void)b.receive(k_peer_a, t->frame, now);
      moved = true;
    }
    while (auto t = b.poll_transmit()) {
      (void)a.receive(k_peer_b, t->frame, now);
      moved = true;
    }
    if (!moved) return;
  }
  throw std::runtime_error("key memory: the engines kept exchanging frames");
}

}  // namespace

double measure_key_memory(std::size_t keys, const cryptcom_settings& settings) {
  if (keys == 0) throw std::runtime_error("key memory: needs at least one key");
  cryptcom::options o;
  o.pool_target = keys;
  o.pool_low_watermark = keys / 2;
  o.max_keys_per_peer = keys;
  o.max_keys_total = keys;
  o.key_grant_rate = keys;        // the burst is max_keys_per_peer: all of them at once
  o.unproven_grant_burst = keys;  // granted before A has used any
  // Long enough that nothing expires while the keys are generated.
  o.key_ttl = std::chrono::hours(1);

  cryptcom::key_pool_options pool_options;
  pool_options.threads = settings.keygen_threads;
  const std::unique_ptr<cryptcom::key_pool> pool_a = cryptcom::make_key_pool(pool_options);
  const std::unique_ptr<cryptcom::key_pool> pool_b = cryptcom::make_key_pool(pool_options);
  const std::unique_ptr<cryptcom::random_source> random_a = cryptcom::make_system_random();
  const std::unique_ptr<cryptcom::random_source> random_b = cryptcom::make_system_random();
  const auto now = std::chrono::steady_clock::now();
  cryptcom::engine a(o, *pool_a, *random_a, now);
  cryptcom::engine b(o, *pool_b, *random_b, now);
  if (!a.construction_status().ok()) {
    throw std::runtime_error("key memory: " + a.construction_status().to_string());
  }

  release_free_memory();
  const auto before = resident_bytes();
  a.connect(k_peer_b, now);  // asks B for `keys` keys
  shuttle(a, b, now);
  release_free_memory();
  const auto after = resident_bytes();

  const auto live = b.stats().live_keys;
  const auto held = a.usable_keys(k_peer_b);
  if (live != keys || held != keys) {
    throw std::runtime_error("key memory: asked for " + std::to_string(keys) + " keys, B holds " +
                             std::to_string(live) + " and A " + std::to_string(held));
  }
  if (!before || !after) throw std::runtime_error("key memory: cannot read VmRSS");
  return static_cast<double>(*after - *before) / static_cast<double>(keys);
}

}  // namespace cryptcom::bench
