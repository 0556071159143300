// The C API's statistics: cryptcom::zmq::socket_stats' totals as a flat struct of uint64_t, and
// the names of its fields for bindings. One table gives each field's name, place and value.
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "cryptcom.h"
#include "errors.hpp"
#include "registry.hpp"

namespace {

using cryptcom::zmq::socket_stats;

struct stat_field {
  const char* name;
  std::size_t offset;
  std::uint64_t (*value)(const socket_stats&);
};

#define CRYPTCOM_STAT(field, expr)                                                              \
  stat_field {                                                                                  \
#field, offsetof(cryptcom_stats_t, field),                                                  \
        [](const socket_stats& s) -> std::uint64_t { return static_cast<std::uint64_t>(expr); } \
  }

constexpr stat_field fields[] = {
    CRYPTCOM_STAT(keys_generated, s.engine.total.keys_generated),
    CRYPTCOM_STAT(keys_offered, s.engine.total.keys_offered),
    CRYPTCOM_STAT(keys_used, s.engine.total.keys_used),
    CRYPTCOM_STAT(keys_expired, s.engine.total.keys_expired),
    CRYPTCOM_STAT(keys_destroyed, s.engine.total.keys_destroyed),
    CRYPTCOM_STAT(keys_received, s.engine.total.keys_received),
    CRYPTCOM_STAT(keys_discarded, s.engine.total.keys_discarded),
    CRYPTCOM_STAT(messages_sealed, s.engine.total.messages_sealed),
    CRYPTCOM_STAT(messages_opened, s.engine.total.messages_opened),
    CRYPTCOM_STAT(messages_resent, s.engine.total.messages_resent),
    CRYPTCOM_STAT(messages_undeliverable, s.engine.total.messages_undeliverable),
    CRYPTCOM_STAT(messages_acknowledged, s.engine.total.messages_acknowledged),
    CRYPTCOM_STAT(frames_sent, s.engine.total.frames_sent),
    CRYPTCOM_STAT(frames_received, s.engine.total.frames_received),
    CRYPTCOM_STAT(control_frames_sent, s.engine.total.control_frames_sent),
    CRYPTCOM_STAT(bytes_sent, s.engine.total.bytes_sent),
    CRYPTCOM_STAT(bytes_received, s.engine.total.bytes_received),
    CRYPTCOM_STAT(rejected_malformed, s.engine.total.rejected_malformed),
    CRYPTCOM_STAT(rejected_unknown_key, s.engine.total.rejected_unknown_key),
    CRYPTCOM_STAT(rejected_expired_key, s.engine.total.rejected_expired_key),
    CRYPTCOM_STAT(rejected_replay, s.engine.total.rejected_replay),
    CRYPTCOM_STAT(rejected_authentication, s.engine.total.rejected_authentication),
    CRYPTCOM_STAT(rejected_too_large, s.engine.total.rejected_too_large),
    CRYPTCOM_STAT(rejected_rate_limited, s.engine.total.rejected_rate_limited),
    CRYPTCOM_STAT(peer_restarts, s.engine.total.peer_restarts),
    CRYPTCOM_STAT(engine_events_dropped, s.engine.total.events_dropped),
    CRYPTCOM_STAT(live_keys, s.engine.live_keys),
    CRYPTCOM_STAT(peer_keys, s.engine.peer_keys),
    CRYPTCOM_STAT(queued_messages, s.engine.queued_messages),
    CRYPTCOM_STAT(unacknowledged, s.engine.unacknowledged),
    CRYPTCOM_STAT(locked_bytes, s.engine.locked_bytes),
    CRYPTCOM_STAT(pool_generated, s.key_pool.generated),
    CRYPTCOM_STAT(pool_generated_inline, s.key_pool.generated_inline),
    CRYPTCOM_STAT(pool_taken, s.key_pool.taken),
    CRYPTCOM_STAT(pool_ready, s.key_pool.ready),
    CRYPTCOM_STAT(pool_fully_locked, s.key_pool.fully_locked ? 1 : 0),
    CRYPTCOM_STAT(messages_sent, s.transport.messages_sent),
    CRYPTCOM_STAT(messages_received, s.transport.messages_received),
    CRYPTCOM_STAT(messages_refused, s.transport.messages_refused),
    CRYPTCOM_STAT(messages_dropped, s.transport.messages_dropped),
    CRYPTCOM_STAT(wire_messages_sent, s.transport.wire_messages_sent),
    CRYPTCOM_STAT(wire_messages_received, s.transport.wire_messages_received),
    CRYPTCOM_STAT(wire_bytes_sent, s.transport.wire_bytes_sent),
    CRYPTCOM_STAT(wire_bytes_received, s.transport.wire_bytes_received),
    CRYPTCOM_STAT(wire_send_waits, s.transport.wire_send_waits),
    CRYPTCOM_STAT(wire_messages_discarded, s.transport.wire_messages_discarded),
    CRYPTCOM_STAT(peers_forgotten, s.transport.peers_forgotten),
    CRYPTCOM_STAT(events_dropped, s.transport.events_dropped),
    CRYPTCOM_STAT(peers, s.transport.peers),
    CRYPTCOM_STAT(rejections_sent, s.engine.total.rejections_sent),
    CRYPTCOM_STAT(frames_dropped, s.engine.total.frames_dropped),
    CRYPTCOM_STAT(opens_refused, s.engine.total.opens_refused),
    CRYPTCOM_STAT(keys_retired, s.engine.total.keys_retired),
    CRYPTCOM_STAT(rejections_ignored, s.engine.total.rejections_ignored),
    CRYPTCOM_STAT(key_requests_trimmed, s.engine.total.key_requests_trimmed),
    CRYPTCOM_STAT(peers_evicted, s.transport.peers_evicted),
    CRYPTCOM_STAT(peers_unestablished, s.transport.peers_unestablished),
};
#undef CRYPTCOM_STAT

constexpr std::size_t field_count = sizeof fields / sizeof fields[0];

// Every field of the struct is in the table, once, in struct order: names come out in order.
constexpr bool table_matches_struct() {
  for (std::size_t i = 0; i < field_count; ++i) {
    if (fields[i].offset != i * sizeof(std::uint64_t)) return false;
  }
  return field_count * sizeof(std::uint64_t) == sizeof(cryptcom_stats_t);
}
static_assert(table_matches_struct(), "cryptcom_stats_t and the field table disagree");

}  // namespace

extern "C" {

int cryptcom_get_stats(cryptcom_socket_t* socket, cryptcom_stats_t* stats, size_t size) {
  return cryptcom::c_api::guard(-1, [&] {
    auto& s = cryptcom::c_api::lookup(socket, false);
    if (stats == nullptr) throw cryptcom::c_api::api_error{EFAULT, "the stats pointer is NULL"};
    if (size == 0 || size % sizeof(std::uint64_t) != 0 || size > sizeof(cryptcom_stats_t)) {
      throw cryptcom::c_api::api_error{
          EINVAL, "cryptcom_get_stats: size " + std::to_string(size) +
                      " is not a positive multiple of 8 up to sizeof(cryptcom_stats_t) = " +
                      std::to_string(sizeof(cryptcom_stats_t))};
    }
    const socket_stats snapshot = s.socket.stats();
    std::uint64_t values[field_count];
    for (std::size_t i = 0; i < field_count; ++i) values[i] = fields[i].value(snapshot);
    std::memcpy(stats, values, size);
    return 0;
  });
}

size_t cryptcom_stats_count(void) { return field_count; }

const char* cryptcom_stats_name(size_t index) {
  return index < field_count ? fields[index].name : nullptr;
}

}  // extern "C"
