// The C API's events: cryptcom::zmq::event behind an opaque pointer, with accessors, and the
// names of event kinds and reasons.
#include <array>
#include <cerrno>
#include <string>

#include "cryptcom.h"
#include "cryptcom/identity.hpp"
#include "cryptcom/status.hpp"
#include "errors.hpp"
#include "registry.hpp"

struct cryptcom_event_t {
  cryptcom::zmq::event event;
  std::string peer_key_z85;  // empty when the event names no identity
};

namespace {

using cryptcom::c_api::guard;
using cryptcom::zmq::event_kind;

int kind_number(event_kind k) {
  switch (k) {
    case event_kind::frame_rejected:
      return CRYPTCOM_EVENT_FRAME_REJECTED;
    case event_kind::message_undeliverable:
      return CRYPTCOM_EVENT_MESSAGE_UNDELIVERABLE;
    case event_kind::message_rejected:
      return CRYPTCOM_EVENT_MESSAGE_REJECTED;
    case event_kind::peer_restarted:
      return CRYPTCOM_EVENT_PEER_RESTARTED;
    case event_kind::message_refused:
      return CRYPTCOM_EVENT_MESSAGE_REFUSED;
    case event_kind::message_dropped:
      return CRYPTCOM_EVENT_MESSAGE_DROPPED;
    case event_kind::transport_error:
      return CRYPTCOM_EVENT_TRANSPORT_ERROR;
    case event_kind::peer_evicted:
      return CRYPTCOM_EVENT_PEER_EVICTED;
    case event_kind::peer_authenticated:
      return CRYPTCOM_EVENT_PEER_AUTHENTICATED;
    case event_kind::peer_refused:
      return CRYPTCOM_EVENT_PEER_REFUSED;
    case event_kind::identity_check:
      return CRYPTCOM_EVENT_IDENTITY_CHECK;
  }
  return 0;
}

// Accessors report a NULL event as EFAULT (and return their "none").
bool null_event(const cryptcom_event_t* e) {
  if (e != nullptr) return false;
  cryptcom::c_api::set_error(EFAULT, "the event is NULL");
  return true;
}

}  // namespace

extern "C" {

cryptcom_event_t* cryptcom_event_next(cryptcom_socket_t* socket) {
  return guard<cryptcom_event_t*>(nullptr, [&]() -> cryptcom_event_t* {
    auto e = cryptcom::c_api::lookup(socket, false).socket.poll_event();
    if (!e) throw cryptcom::c_api::api_error{EAGAIN, "cryptcom_event_next: no event"};
    const bool has_key = e->peer_key != cryptcom::public_key{};
    std::string z85 = has_key ? cryptcom::to_z85(e->peer_key) : std::string();
    return new cryptcom_event_t{std::move(*e), std::move(z85)};
  });
}

void cryptcom_event_destroy(cryptcom_event_t** event) {
  if (event == nullptr || *event == nullptr) return;
  delete *event;
  *event = nullptr;
}

int cryptcom_event_kind(const cryptcom_event_t* event) {
  if (null_event(event)) return -1;
  return kind_number(event->event.kind);
}

int cryptcom_event_reason(const cryptcom_event_t* event) {
  if (null_event(event)) return -1;
  return static_cast<int>(event->event.reason);
}

uint64_t cryptcom_event_message(const cryptcom_event_t* event) {
  if (null_event(event)) return 0;
  return event->event.message;
}

const unsigned char* cryptcom_event_key_id(const cryptcom_event_t* event) {
  if (null_event(event)) return nullptr;
  return event->event.key_id.bytes.data();
}

const char* cryptcom_event_detail(const cryptcom_event_t* event) {
  if (null_event(event)) return nullptr;
  return event->event.detail.c_str();
}

size_t cryptcom_event_route_frames(const cryptcom_event_t* event) {
  if (null_event(event)) return 0;
  return event->event.route.size();
}

const void* cryptcom_event_route_frame(const cryptcom_event_t* event, size_t index, size_t* size) {
  if (null_event(event)) return nullptr;
  if (size == nullptr) {
    cryptcom::c_api::set_error(EFAULT, "cryptcom_event_route_frame: size is NULL");
    return nullptr;
  }
  if (index >= event->event.route.size()) {
    cryptcom::c_api::set_error(EINVAL, "cryptcom_event_route_frame: index " +
                                           std::to_string(index) + " past the route's " +
                                           std::to_string(event->event.route.size()) + " frames");
    return nullptr;
  }
  const std::string& frame = event->event.route[index];
  *size = frame.size();
  return frame.data();
}

const char* cryptcom_event_peer_key(const cryptcom_event_t* event) {
  if (null_event(event)) return nullptr;
  if (event->peer_key_z85.empty()) {
    cryptcom::c_api::set_error(ENOENT, "cryptcom_event_peer_key: the event names no identity");
    return nullptr;
  }
  return event->peer_key_z85.c_str();
}

const char* cryptcom_event_kind_name(int kind) {
  switch (kind) {
    case CRYPTCOM_EVENT_FRAME_REJECTED:
      return "frame_rejected";
    case CRYPTCOM_EVENT_MESSAGE_UNDELIVERABLE:
      return "message_undeliverable";
    case CRYPTCOM_EVENT_MESSAGE_REJECTED:
      return "message_rejected";
    case CRYPTCOM_EVENT_PEER_RESTARTED:
      return "peer_restarted";
    case CRYPTCOM_EVENT_MESSAGE_REFUSED:
      return "message_refused";
    case CRYPTCOM_EVENT_MESSAGE_DROPPED:
      return "message_dropped";
    case CRYPTCOM_EVENT_TRANSPORT_ERROR:
      return "transport_error";
    case CRYPTCOM_EVENT_PEER_EVICTED:
      return "peer_evicted";
    case CRYPTCOM_EVENT_PEER_AUTHENTICATED:
      return "peer_authenticated";
    case CRYPTCOM_EVENT_PEER_REFUSED:
      return "peer_refused";
    case CRYPTCOM_EVENT_IDENTITY_CHECK:
      return "identity_check";
    default:
      return "unknown";
  }
}

const char* cryptcom_reason_name(int reason) {
  if (reason < CRYPTCOM_REASON_OK || reason > CRYPTCOM_REASON_AUTHENTICATION_REQUIRED)
    return "unknown";
  // NUL-terminated copies of the core's names (a string_view promises no terminator).
  static const auto names = [] {
    std::array<std::string, CRYPTCOM_REASON_AUTHENTICATION_REQUIRED + 1> n;
    for (int i = 0; i <= CRYPTCOM_REASON_AUTHENTICATION_REQUIRED; ++i) {
      n[static_cast<std::size_t>(i)] = cryptcom::to_string(static_cast<cryptcom::errc>(i));
    }
    return n;
  }();
  return names[static_cast<std::size_t>(reason)].c_str();
}

}  // extern "C"
