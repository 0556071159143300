#include "cryptcom/status.hpp"

namespace cryptcom {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok:
      return "ok";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::malformed_frame:
      return "malformed_frame";
    case errc::unsupported_version:
      return "unsupported_version";
    case errc::unknown_kind:
      return "unknown_kind";
    case errc::unknown_key:
      return "unknown_key";
    case errc::expired_key:
      return "expired_key";
    case errc::replayed_key:
      return "replayed_key";
    case errc::authentication_failed:
      return "authentication_failed";
    case errc::low_order_point:
      return "low_order_point";
    case errc::limit_exceeded:
      return "limit_exceeded";
    case errc::rate_limited:
      return "rate_limited";
    case errc::out_of_memory:
      return "out_of_memory";
    case errc::unavailable:
      return "unavailable";
    case errc::message_too_large:
      return "message_too_large";
    case errc::undeliverable:
      return "undeliverable";
    case errc::internal:
      return "internal";
    case errc::access_denied:
      return "access_denied";
    case errc::authentication_required:
      return "authentication_required";
  }
  return "unknown_error";
}

std::string status::to_string() const {
  if (ok()) return "ok";
  std::string out(cryptcom::to_string(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace cryptcom
