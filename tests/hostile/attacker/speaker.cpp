#include "attacker/speaker.hpp"

#include <algorithm>
#include <utility>

namespace cryptcom::hostile {
namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string key_name(const guid& id) { return std::string(id.bytes.begin(), id.bytes.end()); }

milliseconds left(clock_type::time_point deadline) {
  const auto now = clock_type::now();
  if (now >= deadline) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
}

// The envelope without empty frames: a receiver may or may not keep delimiters.
std::vector<std::string> routing_frames(const std::vector<std::string>& envelope) {
  std::vector<std::string> out;
  for (const auto& f : envelope) {
    if (!f.empty()) out.push_back(f);
  }
  return out;
}

// A control block's worth of keys we offer at most at once (the receiver's decode limit).
constexpr std::uint32_t max_offer = 1024;

}  // namespace

speaker::speaker(raw_peer& wire, std::vector<std::string> path)
    : wire_(wire), path_(std::move(path)), instance_(random_guid()) {}

void speaker::restart() {
  instance_ = random_guid();
  target_keys_.clear();
  my_keys_.clear();
}

bool speaker::send(byte_view frame, std::chrono::milliseconds timeout) {
  return wire_.send(path_, frame, timeout);
}

std::size_t speaker::obtain_keys(std::uint32_t wanted, std::size_t min_keys,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  if (!send(key_request(instance_, wanted), timeout)) return target_keys_.size();
  while (target_keys_.size() < min_keys && left(deadline).count() > 0) {
    if (pump(std::min(left(deadline), milliseconds(50))) == 0) continue;
  }
  return target_keys_.size();
}

std::optional<wire::offered_key> speaker::send_sealed(std::span<const std::string> parts,
                                                      bool pull) {
  if (target_keys_.empty()) return std::nullopt;
  const wire::offered_key to = target_keys_.front();
  target_keys_.pop_front();
  std::vector<byte_view> views;
  views.reserve(parts.size());
  for (const auto& p : parts) views.emplace_back(reinterpret_cast<const byte*>(p.data()), p.size());
  seal_extras extras;
  // A control block rides along so the target learns our instance from authenticated data.
  wire::control_block block;
  block.instance = instance_;
  extras.control = &block;
  if (pull) {
    attacker_key reply;
    extras.reply_key = reply.offer();
    my_keys_.emplace(key_name(reply.id()), std::move(reply));
  }
  if (!send(sealed(to, views, extras))) return std::nullopt;
  return to;
}

bool speaker::for_me(const wire_message& m) const { return routing_frames(m.envelope) == path_; }

void speaker::handle_control(const wire::control_block& block) {
  last_control_ = block;
  for (const auto& offer : block.offers) target_keys_.push_back(offer);
  if (serve_key_requests_ && block.wanted > 0) {
    wire::control_block answer;
    answer.instance = instance_;
    const std::uint32_t n = std::min(block.wanted, max_offer);
    for (std::uint32_t i = 0; i < n; ++i) {
      attacker_key k;
      answer.offers.push_back(k.offer());
      my_keys_.emplace(key_name(k.id()), std::move(k));
    }
    (void)send(control_frame(answer));
  }
}

std::optional<opened_data> speaker::handle(const wire_message& m, bool& was_data) {
  was_data = false;
  auto decoded = wire::decode(m.frame, wire::decode_limits{});
  if (!decoded.ok()) {
    last_error_ = "the target sent a frame that does not decode: " + decoded.error().to_string();
    return std::nullopt;
  }
  if (decoded->kind == wire::frame_kind::control) {
    handle_control(decoded->control);
    return std::nullopt;
  }
  was_data = true;
  const wire::data_view& d = decoded->data;
  auto key = my_keys_.find(key_name(d.key_id));
  if (key == my_keys_.end()) {
    last_error_ = "a data frame sealed to a key that is not ours: " + d.key_id.hex();
    return std::nullopt;
  }
  auto parts = key->second.open(d);
  if (!parts.ok()) {
    last_error_ = "a data frame sealed to our key did not open: " + parts.error().to_string();
    return std::nullopt;
  }
  // Opened keys stay known: an attacker may want to reject (or open) further copies.
  if (d.control) handle_control(*d.control);
  opened_data out;
  out.key_id = d.key_id;
  out.parts = std::move(*parts);
  out.frame_bytes = m.frame.size();
  out.reply_key = d.reply_key;
  if (d.reply_key) target_keys_.push_front(*d.reply_key);
  return out;
}

std::optional<opened_data> speaker::receive_data(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  last_error_.clear();
  while (left(deadline).count() > 0) {
    auto m = wire_.receive(left(deadline));
    if (!m) break;
    if (adopt_path_) {
      path_ = routing_frames(m->envelope);
      adopt_path_ = false;
    }
    if (!for_me(*m)) continue;
    ++received_;
    bool was_data = false;
    auto opened = handle(*m, was_data);
    if (opened) return opened;
    if (was_data) return std::nullopt;
  }
  return std::nullopt;
}

std::size_t speaker::pump(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  std::size_t seen = 0;
  while (auto m = wire_.receive(seen == 0 ? left(deadline) : milliseconds(0))) {
    if (adopt_path_) {
      path_ = routing_frames(m->envelope);
      adopt_path_ = false;
    }
    if (!for_me(*m)) continue;
    ++received_;
    ++seen;
    bool was_data = false;
    (void)handle(*m, was_data);
  }
  return seen;
}

bool speaker::acknowledge(const guid& key) {
  wire::control_block block;
  block.instance = instance_;
  block.acks.push_back(key);
  return send(control_frame(block));
}

}  // namespace cryptcom::hostile
