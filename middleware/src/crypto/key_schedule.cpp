#include "crypto/key_schedule.hpp"

#include <sodium.h>

#include <algorithm>
#include <vector>

#include "crypto/hkdf.hpp"
#include "crypto/sodium_ready.hpp"
#include "crypto/suite.hpp"

namespace cryptcom::hpke {
namespace {

// psk_id_hash || info_hash for one (suite, info): public values, cached per thread.
struct context_hashes {
  bool valid = false;
  aead_id aead = aead_id::chacha20_poly1305;
  std::vector<byte> info;
  std::array<byte, 2 * secret_size> hashes{};
};

// Longer infos are hashed every time rather than copied into the cache.
constexpr std::size_t max_cached_info = 256;

void hash_context(aead_id aead, byte_view info, std::span<byte, 2 * secret_size> out) {
  thread_local context_hashes cache;
  const bool hit = cache.valid && cache.aead == aead && cache.info.size() == info.size() &&
                   std::equal(info.begin(), info.end(), cache.info.begin());
  if (hit) {
    std::copy(cache.hashes.begin(), cache.hashes.end(), out.begin());
    return;
  }
  const auto suite_id = detail::hpke_suite_id(aead);
  detail::labeled_extract(suite_id, {}, "psk_id_hash", {},
                          std::span<byte, secret_size>(out.data(), secret_size));
  detail::labeled_extract(suite_id, {}, "info_hash", info,
                          std::span<byte, secret_size>(out.data() + secret_size, secret_size));
  if (info.size() <= max_cached_info) {
    cache.aead = aead;
    cache.info.assign(info.begin(), info.end());
    std::copy(out.begin(), out.end(), cache.hashes.begin());
    cache.valid = true;
  }
}

}  // namespace

key_schedule_intermediates::~key_schedule_intermediates() {
  sodium_memzero(key_schedule_context.data(), key_schedule_context.size());
  sodium_memzero(secret.data(), secret.size());
}

result<context> key_schedule(mode m, aead_id aead, std::span<const byte, secret_size> shared_secret,
                             byte_view info, key_schedule_intermediates* intermediates,
                             exporter exp) {
  detail::ensure_sodium();
  if (m != mode::base && m != mode::auth) {
    return status(errc::invalid_argument, "HPKE mode not supported (only base and auth)");
  }
  if (aead != aead_id::chacha20_poly1305 && aead != aead_id::aes_256_gcm &&
      aead != aead_id::export_only) {
    return status(errc::invalid_argument, "unknown HPKE AEAD id");
  }
  if (!aead_available(aead)) {
    return status(errc::unavailable, "AES-256-GCM needs AES-NI and PCLMUL, which this CPU lacks");
  }
  const auto suite_id = detail::hpke_suite_id(aead);

  // Public: derived from the empty psk_id and the application's info.
  std::array<byte, key_schedule_context_size> ks_context{};
  ks_context[0] = static_cast<byte>(m);
  hash_context(aead, info,
               std::span<byte, 2 * secret_size>(ks_context.data() + 1, 2 * secret_size));

  std::array<byte, secret_size> secret{};
  detail::labeled_extract(suite_id, shared_secret, "secret", {}, secret);

  context ctx;
  status st = status::success();
  if (aead != aead_id::export_only) {
    st = detail::labeled_expand(suite_id, secret, "key", ks_context, key_schedule_access::key(ctx));
    if (st.ok()) {
      st = detail::labeled_expand(suite_id, secret, "base_nonce", ks_context,
                                  key_schedule_access::base_nonce(ctx));
    }
  }
  if (st.ok() && (exp == exporter::derive || aead == aead_id::export_only)) {
    st = detail::labeled_expand(suite_id, secret, "exp", ks_context,
                                key_schedule_access::exporter_secret(ctx));
  }
  if (st.ok() && intermediates != nullptr) {
    intermediates->key_schedule_context = ks_context;
    intermediates->secret = secret;
  }
  sodium_memzero(secret.data(), secret.size());
  sodium_memzero(ks_context.data(), ks_context.size());
  if (!st.ok()) return st;  // ctx's destructor wipes whatever was derived
  key_schedule_access::set_aead(ctx, aead);
  key_schedule_access::set_ready(ctx);
  return ctx;
}

}  // namespace cryptcom::hpke
