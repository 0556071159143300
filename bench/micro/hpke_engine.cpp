// cryptcom's own operations, one at a time: key generation as the key pool does it, HPKE base
// mode single-shot seal and open (what the engine calls per message), and one message through two
// engines back to back (seal, frame, decode, open, deliver; no sockets, no threads).
//
// Secrets live in sodium_malloc'd memory and are wiped when each benchmark ends.

#include <benchmark/benchmark.h>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cryptcom/engine.hpp"
#include "cryptcom/identity.hpp"
#include "cryptcom/key_source.hpp"
#include "cryptcom/random.hpp"
#include "crypto/hpke.hpp"
#include "micro_keys.hpp"
#include "wire/frame.hpp"

namespace {

using cryptcom::byte;
using cryptcom::public_key;

using cryptcom::micro::generate;
using cryptcom::micro::info_bytes;
using cryptcom::micro::secret_block;

// HPKE's GenerateKeyPair, as the key pool's threads run it: 32 random bytes (one getrandom
// system call each) and one base-point multiplication.
void keygen(benchmark::State& state) {
  secret_block secret(1);
  for (auto _ : state) {
    public_key pub = generate(secret.at(0));
    benchmark::DoNotOptimize(pub.bytes.data());
  }
}
BENCHMARK(keygen);

// A key pool's next(): a pre-generated pair handed over under its mutex. The pool is filled
// before timing, and refilled with the timer paused, so only the hand-over is measured.
void key_pool_next(benchmark::State& state) {
  cryptcom::key_pool_options options;
  options.capacity = 4096;
  // Taking just over half keeps the generator asleep while timing, and starts it for the pause.
  options.low_watermark = 2048;
  options.threads = 1;
  auto pool = cryptcom::make_key_pool(options);
  secret_block secret(1);
  // Bounded (10 s): the pool's thread makes 4096 pairs in well under a second.
  auto wait_full = [&] {
    for (int i = 0; i < 2000 && pool->stats().ready < options.capacity; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  wait_full();
  std::size_t taken = 0;
  for (auto _ : state) {
    public_key pub = pool->next(secret.at(0));
    benchmark::DoNotOptimize(pub.bytes.data());
    if (++taken == options.capacity / 2 + 1) {  // the last one starts the refill
      state.PauseTiming();
      wait_full();
      taken = 0;
      state.ResumeTiming();
    }
  }
}
BENCHMARK(key_pool_next);

// One recipient key pair and a batch of ephemeral pairs, each used for one seal and regenerated
// with the timer paused once the batch is spent (pausing per seal would time the pause itself:
// reading the CPU clocks costs microseconds on a VM). seal_base's own cost is then one X25519
// agreement, the key schedule and the AEAD.
class hpke_fixture {
 public:
  static constexpr std::size_t batch = 1024;

  explicit hpke_fixture(std::size_t size)
      : secrets_(1 + batch), ephemeral_publics_(batch), plaintext_(size), aad_(40) {
    recipient_ = generate(secrets_.at(0));
    randombytes_buf(plaintext_.data(), plaintext_.size());
    randombytes_buf(aad_.data(), aad_.size());
    ciphertext_.resize(size + cryptcom::hpke::tag_size);
    opened_.resize(size);
    refill();
  }

  // Fresh ephemeral pairs for the next `batch` seals.
  void refill() {
    for (std::size_t i = 0; i < batch; ++i) ephemeral_publics_[i] = generate(secrets_.at(1 + i));
    next_ = 0;
  }
  bool spent() const { return next_ == batch; }

  cryptcom::status seal() {
    const cryptcom::hpke::ephemeral_key eph{secrets_.at(1 + next_), ephemeral_publics_[next_]};
    ++next_;
    return cryptcom::hpke::seal_base(cryptcom::hpke::aead_id::chacha20_poly1305, recipient_,
                                     info_bytes(), aad_, plaintext_, eph, enc_, ciphertext_);
  }

  cryptcom::status open() {
    return cryptcom::hpke::open_base(cryptcom::hpke::aead_id::chacha20_poly1305, enc_,
                                     secrets_.at(0), recipient_, info_bytes(), aad_, ciphertext_,
                                     opened_);
  }

  const std::vector<byte>& opened() const { return opened_; }

 private:
  secret_block secrets_;  // 0: the recipient's, then the ephemeral ones
  public_key recipient_;
  std::vector<public_key> ephemeral_publics_;
  std::size_t next_ = 0;
  public_key enc_;
  std::vector<byte> plaintext_;
  std::vector<byte> aad_;
  std::vector<byte> ciphertext_;
  std::vector<byte> opened_;
};

void hpke_seal_base(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  hpke_fixture f(size);
  for (auto _ : state) {
    if (f.spent()) {
      state.PauseTiming();
      f.refill();
      state.ResumeTiming();
    }
    if (!f.seal().ok()) {
      state.SkipWithError("seal_base failed");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}
BENCHMARK(hpke_seal_base)->Arg(64)->Arg(64 * 1024);

void hpke_open_base(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  hpke_fixture f(size);
  if (!f.seal().ok()) {
    state.SkipWithError("seal_base failed");
    return;
  }
  // The same ciphertext opened again and again: open_base itself keeps no state.
  for (auto _ : state) {
    if (!f.open().ok()) {
      state.SkipWithError("open_base failed");
      break;
    }
    benchmark::DoNotOptimize(f.opened().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}
BENCHMARK(hpke_open_base)->Arg(64)->Arg(64 * 1024);

// A key_source handing out pairs generated beforehand, so that engine benchmarks can leave key
// generation out of the timed work, as the background pool does in production. refill() runs
// with the timer paused.
class pregenerated_keys final : public cryptcom::key_source {
 public:
  explicit pregenerated_keys(std::size_t count) : secrets_(count), publics_(count) { refill(); }

  void refill() {
    for (std::size_t i = 0; i < secrets_.count(); ++i) publics_[i] = generate(secrets_.at(i));
    next_ = 0;
  }
  bool low() const { return secrets_.count() - next_ < 256; }

  public_key next(cryptcom::mutable_secret_key_view secret_out) override {
    if (next_ == secrets_.count()) return generate(secret_out);  // ran dry: pay for it here
    auto slot = secrets_.at(next_);
    std::memcpy(secret_out.data(), slot.data(), slot.size());
    sodium_memzero(slot.data(), slot.size());
    return publics_[next_++];
  }

 private:
  secret_block secrets_;
  std::vector<public_key> publics_;
  std::size_t next_ = 0;
};

// Engines A and B with default options on `keys` pre-generated pairs each (0: generated inline).
// A names B a_to_b, B names A b_to_a.
constexpr cryptcom::peer_id a_to_b = 2;
constexpr cryptcom::peer_id b_to_a = 1;
// With `authenticated`, A is an initiator knowing B's identity and B accepts any identity
// (docs/PROTOCOL.md §12).
struct two_engines {
  explicit two_engines(std::size_t keys, bool authenticated = false)
      : keys_a(keys),
        keys_b(keys),
        a(options_of(authenticated, true), keys_a, *random_a, start),
        b(options_of(authenticated, false), keys_b, *random_b, start) {}
  pregenerated_keys keys_a;
  pregenerated_keys keys_b;
  std::unique_ptr<cryptcom::random_source> random_a = cryptcom::make_system_random();
  std::unique_ptr<cryptcom::random_source> random_b = cryptcom::make_system_random();
  cryptcom::time_point start = std::chrono::steady_clock::now();
  std::optional<cryptcom::identity> id_a = identity_or_abort(), id_b = identity_or_abort();
  cryptcom::engine a;
  cryptcom::engine b;

 private:
  static cryptcom::identity identity_or_abort() {
    auto id = cryptcom::identity::generate();
    if (!id.ok()) std::abort();
    return *id;
  }
  cryptcom::options options_of(bool authenticated, bool is_a) const {
    cryptcom::options o;
    if (!authenticated) return o;
    if (is_a) {
      o.auth.self = *id_a;
      o.auth.peer_key = id_b->public_value();
    } else {
      o.auth.self = *id_b;
      o.auth.policy = cryptcom::peer_policy::any;
    }
    return o;
  }
};

// Engine A sends one message of state.range(0) bytes to engine B, B opens and delivers it; the
// frames B sends back (key offers, acknowledgements) are fed to A. With keys pre-generated
// (range(1) == 0) this is what one message costs the two I/O threads together; with range(1)
// == 1 the keys are generated inline, which adds the two key generations the pool's threads
// would otherwise pay.
void engine_send_receive(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const bool inline_keys = state.range(1) != 0;
  two_engines pair(inline_keys ? 0 : 8192, state.range(2) != 0);
  auto& keys_a = pair.keys_a;
  auto& keys_b = pair.keys_b;
  auto& start = pair.start;
  auto& a = pair.a;
  auto& b = pair.b;
  std::vector<byte> payload(size);
  randombytes_buf(payload.data(), payload.size());
  const cryptcom::byte_view part(payload.data(), payload.size());
  std::uint64_t delivered = 0;

  auto exchange = [&](cryptcom::time_point now) {
    while (auto t = a.poll_transmit()) (void)b.receive(b_to_a, t->frame, now);
    while (auto d = b.poll_delivery()) {
      delivered += d->payload.empty() ? 0 : 1;
      benchmark::DoNotOptimize(d->payload.data());
    }
    while (auto t = b.poll_transmit()) (void)a.receive(a_to_b, t->frame, now);
    while (a.poll_event() || b.poll_event()) {
    }
  };
  a.connect(a_to_b, start);
  for (int i = 0; i < 4; ++i) exchange(start);  // handshake (authenticated), key request, offers

  for (auto _ : state) {
    const auto now = std::chrono::steady_clock::now();
    if (!a.send(a_to_b, std::span<const cryptcom::byte_view>(&part, 1), now).ok()) {
      state.SkipWithError("send failed");
      break;
    }
    exchange(now);
    if (auto t = a.poll_timeout(); t && *t <= now) a.tick(now);
    if (auto t = b.poll_timeout(); t && *t <= now) b.tick(now);
    if (!inline_keys && (keys_a.low() || keys_b.low())) {
      state.PauseTiming();
      keys_a.refill();
      keys_b.refill();
      state.ResumeTiming();
    }
  }
  if (delivered != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("not every message was delivered");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(size));
}
BENCHMARK(engine_send_receive)
    ->ArgNames({"size", "inline_keys", "authenticated"})
    ->Args({64, 0, 0})
    ->Args({64, 0, 1})
    ->Args({64, 1, 0})
    ->Args({64, 1, 1})
    ->Args({64 * 1024, 0, 0})
    ->Args({64 * 1024, 0, 1})
    ->Args({1 << 20, 0, 0});

// A client's request/reply round trip (pull, 64 bytes each way) through server B, while B also
// knows range(0) idle peers that announced an instance and nothing more, as forged peers do
// (issue 9: 60,000 of them took a round trip from 0.33 to 17.4 ms when every turn of B's loop
// walked them all). Each engine's turn is what the I/O loop does: poll_timeout() for the wait,
// the input, poll_timeout() again and tick() when due. Keys are pre-generated, as with the pool.
void engine_round_trip_with_idle_peers(benchmark::State& state) {
  const auto idle = static_cast<std::size_t>(state.range(0));
  two_engines pair(8192);
  auto& keys_a = pair.keys_a;
  auto& keys_b = pair.keys_b;
  auto& random_a = pair.random_a;
  auto& start = pair.start;
  auto& a = pair.a;
  auto& b = pair.b;
  cryptcom::wire::control_block hello;
  hello.instance = random_a->next_guid();
  std::vector<byte> hello_frame;
  cryptcom::wire::encode_control(hello, hello_frame);
  for (std::size_t i = 0; i < idle; ++i) (void)b.receive(100 + i, hello_frame, start);

  std::vector<byte> payload(64);
  randombytes_buf(payload.data(), payload.size());
  const cryptcom::byte_view part(payload.data(), payload.size());
  cryptcom::send_options pull;
  pull.use_flow = cryptcom::flow::pull;
  std::uint64_t replies = 0;
  auto turn_end = [](cryptcom::engine& e, cryptcom::time_point now) {
    if (auto t = e.poll_timeout(); t && *t <= now) e.tick(now);
  };
  auto round_trip = [&](cryptcom::time_point now) {
    benchmark::DoNotOptimize(b.poll_timeout());
    while (auto t = a.poll_transmit()) (void)b.receive(b_to_a, t->frame, now);
    while (auto d = b.poll_delivery()) {
      (void)b.send(b_to_a, std::span<const cryptcom::byte_view>(&part, 1), now);
    }
    turn_end(b, now);
    benchmark::DoNotOptimize(a.poll_timeout());
    while (auto t = b.poll_transmit()) (void)a.receive(a_to_b, t->frame, now);
    while (a.poll_delivery()) ++replies;
    turn_end(a, now);
    while (a.poll_event() || b.poll_event()) {
    }
  };
  a.connect(a_to_b, start);
  round_trip(start);  // A's first key request and B's offers

  for (auto _ : state) {
    const auto now = std::chrono::steady_clock::now();
    if (!a.send(a_to_b, std::span<const cryptcom::byte_view>(&part, 1), now, pull).ok()) {
      state.SkipWithError("send failed");
      break;
    }
    round_trip(now);
    if (keys_a.low() || keys_b.low()) {
      state.PauseTiming();
      keys_a.refill();
      keys_b.refill();
      state.ResumeTiming();
    }
  }
  if (replies != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("not every request was answered");
}
BENCHMARK(engine_round_trip_with_idle_peers)->ArgName("idle_peers")->Arg(0)->Arg(60000);

}  // namespace
