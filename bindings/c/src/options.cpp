// The CRYPTCOM_* options: a table of how each maps onto socket_options, and the options object
// of the C API.
#include "options.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "cryptcom.h"
#include "errors.hpp"

namespace cryptcom::c_api {

namespace {

using std::chrono::milliseconds;
using zmq::socket_options;

enum class value_type { choice, duration_ms, count };

// Every option reads and writes one 64-bit value: durations and choices signed, counts unsigned
// (stored in the same bits). The C size is checked against `type` before.
struct option_spec {
  int id;
  const char* name;
  value_type type;
  std::int64_t (*get)(const socket_options&);
  void (*set)(socket_options&, std::int64_t);
  std::int64_t min = 0;  // choices and durations: the allowed range
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

// The largest duration in milliseconds that steady_clock's nanoseconds can hold.
constexpr std::int64_t max_ms = std::numeric_limits<std::int64_t>::max() / 1'000'000;

template <auto member>
option_spec engine_ms(int id, const char* name) {
  return {id,
          name,
          value_type::duration_ms,
          [](const socket_options& o) -> std::int64_t {
            return std::chrono::duration_cast<milliseconds>(o.engine.*member).count();
          },
          [](socket_options& o, std::int64_t v) { o.engine.*member = milliseconds(v); },
          0,
          max_ms};
}

template <auto member>
option_spec engine_count(int id, const char* name) {
  return {id, name, value_type::count,
          [](const socket_options& o) { return static_cast<std::int64_t>(o.engine.*member); },
          [](socket_options& o, std::int64_t v) {
            o.engine.*member = static_cast<std::size_t>(static_cast<std::uint64_t>(v));
          }};
}

template <auto member>
option_spec pool_count(int id, const char* name) {
  return {
      id, name, value_type::count,
      [](const socket_options& o) { return static_cast<std::int64_t>(o.key_pool_options.*member); },
      [](socket_options& o, std::int64_t v) {
        o.key_pool_options.*member = static_cast<std::size_t>(static_cast<std::uint64_t>(v));
      }};
}

template <auto member>
option_spec socket_count(int id, const char* name) {
  return {id, name, value_type::count,
          [](const socket_options& o) { return static_cast<std::int64_t>(o.*member); },
          [](socket_options& o, std::int64_t v) {
            o.*member = static_cast<std::size_t>(static_cast<std::uint64_t>(v));
          }};
}

const option_spec* find(int id) {
  using cryptcom::options;
  static const option_spec table[] = {
      {CRYPTCOM_FLOW, "CRYPTCOM_FLOW", value_type::choice,
       [](const socket_options& o) -> std::int64_t {
         return o.flow ? static_cast<std::int64_t>(*o.flow) : CRYPTCOM_FLOW_DEFAULT;
       },
       [](socket_options& o, std::int64_t v) {
         if (v == CRYPTCOM_FLOW_DEFAULT) {
           o.flow.reset();
         } else {
           o.flow = v == CRYPTCOM_FLOW_PULL ? flow::pull : flow::push;
         }
       },
       CRYPTCOM_FLOW_DEFAULT, CRYPTCOM_FLOW_PULL},
      {CRYPTCOM_CIPHER, "CRYPTCOM_CIPHER", value_type::choice,
       [](const socket_options& o) { return static_cast<std::int64_t>(o.engine.cipher); },
       [](socket_options& o, std::int64_t v) { o.engine.cipher = static_cast<aead>(v); },
       CRYPTCOM_CIPHER_AES_256_GCM, CRYPTCOM_CIPHER_CHACHA20_POLY1305},
      engine_ms<&options::key_ttl>(CRYPTCOM_KEY_TTL, "CRYPTCOM_KEY_TTL"),
      engine_ms<&options::expiry_margin>(CRYPTCOM_EXPIRY_MARGIN, "CRYPTCOM_EXPIRY_MARGIN"),
      engine_count<&options::pool_target>(CRYPTCOM_POOL_TARGET, "CRYPTCOM_POOL_TARGET"),
      engine_count<&options::pool_low_watermark>(CRYPTCOM_POOL_LOW_WATERMARK,
                                                 "CRYPTCOM_POOL_LOW_WATERMARK"),
      engine_count<&options::max_keys_per_peer>(CRYPTCOM_MAX_KEYS_PER_PEER,
                                                "CRYPTCOM_MAX_KEYS_PER_PEER"),
      engine_count<&options::max_keys_total>(CRYPTCOM_MAX_KEYS_TOTAL, "CRYPTCOM_MAX_KEYS_TOTAL"),
      engine_count<&options::key_grant_rate>(CRYPTCOM_KEY_GRANT_RATE, "CRYPTCOM_KEY_GRANT_RATE"),
      engine_count<&options::max_message_size>(CRYPTCOM_MAX_MESSAGE_SIZE,
                                               "CRYPTCOM_MAX_MESSAGE_SIZE"),
      engine_count<&options::max_parts>(CRYPTCOM_MAX_PARTS, "CRYPTCOM_MAX_PARTS"),
      engine_count<&options::max_queued_per_peer>(CRYPTCOM_MAX_QUEUED_PER_PEER,
                                                  "CRYPTCOM_MAX_QUEUED_PER_PEER"),
      engine_count<&options::max_unacknowledged_per_peer>(CRYPTCOM_MAX_UNACKNOWLEDGED_PER_PEER,
                                                          "CRYPTCOM_MAX_UNACKNOWLEDGED_PER_PEER"),
      engine_ms<&options::retransmit_after>(CRYPTCOM_RETRANSMIT_AFTER, "CRYPTCOM_RETRANSMIT_AFTER"),
      engine_ms<&options::delivery_timeout>(CRYPTCOM_DELIVERY_TIMEOUT, "CRYPTCOM_DELIVERY_TIMEOUT"),
      engine_ms<&options::ack_delay>(CRYPTCOM_ACK_DELAY, "CRYPTCOM_ACK_DELAY"),
      engine_count<&options::ack_batch>(CRYPTCOM_ACK_BATCH, "CRYPTCOM_ACK_BATCH"),
      engine_ms<&options::key_request_retry>(CRYPTCOM_KEY_REQUEST_RETRY,
                                             "CRYPTCOM_KEY_REQUEST_RETRY"),
      pool_count<&key_pool_options::capacity>(CRYPTCOM_KEY_POOL_CAPACITY,
                                              "CRYPTCOM_KEY_POOL_CAPACITY"),
      pool_count<&key_pool_options::low_watermark>(CRYPTCOM_KEY_POOL_LOW_WATERMARK,
                                                   "CRYPTCOM_KEY_POOL_LOW_WATERMARK"),
      pool_count<&key_pool_options::threads>(CRYPTCOM_KEY_POOL_THREADS,
                                             "CRYPTCOM_KEY_POOL_THREADS"),
      {CRYPTCOM_PREFETCH_KEYS, "CRYPTCOM_PREFETCH_KEYS", value_type::choice,
       [](const socket_options& o) -> std::int64_t { return o.prefetch_keys ? 1 : 0; },
       [](socket_options& o, std::int64_t v) { o.prefetch_keys = v != 0; }, 0, 1},
      socket_count<&socket_options::max_events>(CRYPTCOM_MAX_EVENTS, "CRYPTCOM_MAX_EVENTS"),
      socket_count<&socket_options::max_peers>(CRYPTCOM_MAX_PEERS, "CRYPTCOM_MAX_PEERS"),
      engine_count<&options::unproven_grant_rate>(CRYPTCOM_UNPROVEN_GRANT_RATE,
                                                  "CRYPTCOM_UNPROVEN_GRANT_RATE"),
      engine_count<&options::unproven_grant_burst>(CRYPTCOM_UNPROVEN_GRANT_BURST,
                                                   "CRYPTCOM_UNPROVEN_GRANT_BURST"),
      engine_ms<&options::peer_restart_interval>(CRYPTCOM_PEER_RESTART_INTERVAL,
                                                 "CRYPTCOM_PEER_RESTART_INTERVAL"),
      engine_count<&options::failed_open_rate>(CRYPTCOM_FAILED_OPEN_RATE,
                                               "CRYPTCOM_FAILED_OPEN_RATE"),
      engine_count<&options::failed_open_burst>(CRYPTCOM_FAILED_OPEN_BURST,
                                                "CRYPTCOM_FAILED_OPEN_BURST"),
      engine_count<&options::max_failed_opens_per_key>(CRYPTCOM_MAX_FAILED_OPENS_PER_KEY,
                                                       "CRYPTCOM_MAX_FAILED_OPENS_PER_KEY"),
      engine_count<&options::max_rejection_resends>(CRYPTCOM_MAX_REJECTION_RESENDS,
                                                    "CRYPTCOM_MAX_REJECTION_RESENDS"),
      socket_count<&socket_options::max_unestablished_per_connection>(
          CRYPTCOM_MAX_UNESTABLISHED_PER_CONNECTION, "CRYPTCOM_MAX_UNESTABLISHED_PER_CONNECTION"),
      {CRYPTCOM_PEER_IDLE_TIMEOUT, "CRYPTCOM_PEER_IDLE_TIMEOUT", value_type::duration_ms,
       [](const socket_options& o) -> std::int64_t { return o.peer_idle_timeout.count(); },
       [](socket_options& o, std::int64_t v) { o.peer_idle_timeout = milliseconds(v); }, 0, max_ms},
  };
  const auto it = std::find_if(std::begin(table), std::end(table),
                               [id](const option_spec& s) { return s.id == id; });
  return it == std::end(table) ? nullptr : &*it;
}

std::size_t size_of(value_type t) {
  return t == value_type::choice ? sizeof(int) : sizeof(std::int64_t);
}

const char* type_text(value_type t) {
  switch (t) {
    case value_type::choice:
      return "an int";
    case value_type::duration_ms:
      return "an int64_t of milliseconds";
    case value_type::count:
      return "a uint64_t";
  }
  return "?";
}

const option_spec& spec_of(int option) {
  const option_spec* spec = find(option);
  if (spec == nullptr) {
    if (option >= CRYPTCOM_IDENTITY_SECRET_KEY && option <= CRYPTCOM_ZAP_TIMEOUT) {
      throw api_error{EINVAL, "option " + std::to_string(option) +
                                  " is an authenticated-mode option: set it on the socket with "
                                  "cryptcom_setsockopt, before its first bind, connect or send"};
    }
    throw api_error{EINVAL, "option " + std::to_string(option) + " is not a cryptcom option"};
  }
  return *spec;
}

}  // namespace

bool is_own_option(int option) noexcept { return find(option) != nullptr; }

void set_own_option(socket_options& options, int option, const void* value, std::size_t size) {
  const option_spec& spec = spec_of(option);
  const std::size_t want = size_of(spec.type);
  if (value == nullptr) throw api_error{EFAULT, std::string(spec.name) + ": the value is NULL"};
  if (size != want) {
    throw api_error{EINVAL, std::string(spec.name) + " takes " + type_text(spec.type) + " (" +
                                std::to_string(want) + " bytes), got " + std::to_string(size) +
                                " bytes"};
  }
  std::int64_t v = 0;
  if (spec.type == value_type::choice) {
    int i = 0;
    std::memcpy(&i, value, sizeof i);
    v = i;
  } else if (spec.type == value_type::count) {
    std::uint64_t u = 0;
    std::memcpy(&u, value, sizeof u);
    if (u > std::numeric_limits<std::size_t>::max()) {
      throw api_error{EINVAL, std::string(spec.name) + ": " + std::to_string(u) +
                                  " does not fit this platform's size_t"};
    }
    v = static_cast<std::int64_t>(u);
  } else {
    std::memcpy(&v, value, sizeof v);
  }
  if (spec.type != value_type::count && (v < spec.min || v > spec.max)) {
    throw api_error{EINVAL, std::string(spec.name) + ": " + std::to_string(v) +
                                " is outside the range " + std::to_string(spec.min) + ".." +
                                std::to_string(spec.max)};
  }
  spec.set(options, v);
}

void get_own_option(const socket_options& options, int option, void* value, std::size_t* size) {
  const option_spec& spec = spec_of(option);
  const std::size_t want = size_of(spec.type);
  if (size == nullptr || value == nullptr) {
    throw api_error{EFAULT, std::string(spec.name) + ": the value or size pointer is NULL"};
  }
  if (*size < want) {
    throw api_error{EINVAL, std::string(spec.name) + " is " + type_text(spec.type) + " (" +
                                std::to_string(want) + " bytes); the buffer has " +
                                std::to_string(*size)};
  }
  const std::int64_t v = spec.get(options);
  if (spec.type == value_type::choice) {
    const int i = static_cast<int>(v);
    std::memcpy(value, &i, sizeof i);
  } else {
    std::memcpy(value, &v, sizeof v);
  }
  *size = want;
}

}  // namespace cryptcom::c_api

// ---- the options object ----

struct cryptcom_options_t {
  static constexpr std::uint32_t live_tag = 0x63636f70;  // "ccop"
  std::uint32_t tag = live_tag;
  cryptcom::zmq::socket_options options;
};

namespace {

cryptcom_options_t* checked(const cryptcom_options_t* o) {
  if (o == nullptr) throw cryptcom::c_api::api_error{EFAULT, "the options object is NULL"};
  if (o->tag != cryptcom_options_t::live_tag) {
    throw cryptcom::c_api::api_error{EFAULT, "not a cryptcom options object (or destroyed)"};
  }
  return const_cast<cryptcom_options_t*>(o);
}

}  // namespace

extern "C" {

cryptcom_options_t* cryptcom_options_new(void) {
  return cryptcom::c_api::guard<cryptcom_options_t*>(nullptr,
                                                     [] { return new cryptcom_options_t(); });
}

void cryptcom_options_destroy(cryptcom_options_t** options) {
  if (options == nullptr || *options == nullptr) return;
  (*options)->tag = 0;
  delete *options;
  *options = nullptr;
}

int cryptcom_options_set(cryptcom_options_t* options, int option, const void* value,
                         std::size_t size) {
  return cryptcom::c_api::guard(-1, [&] {
    cryptcom::c_api::set_own_option(checked(options)->options, option, value, size);
    return 0;
  });
}

int cryptcom_options_get(const cryptcom_options_t* options, int option, void* value,
                         std::size_t* size) {
  return cryptcom::c_api::guard(-1, [&] {
    cryptcom::c_api::get_own_option(checked(options)->options, option, value, size);
    return 0;
  });
}

}  // extern "C"

// The options object is also what cryptcom_socket_with_options reads.
namespace cryptcom::c_api {
const zmq::socket_options& options_of(const cryptcom_options_t* o) { return checked(o)->options; }
}  // namespace cryptcom::c_api
