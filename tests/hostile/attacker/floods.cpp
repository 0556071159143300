#include "attacker/floods.hpp"

#include <sodium.h>

#include <memory>
#include <stdexcept>

namespace cryptcom::hostile {
namespace {

using clock_type = std::chrono::steady_clock;

// How long one send may wait for room before the flood checks its bounds again.
constexpr std::chrono::milliseconds send_wait{50};

struct flood_clock {
  explicit flood_clock(const flood_bounds& b)
      : bounds(b), deadline(clock_type::now() + b.duration), start(clock_type::now()) {}
  bool done(std::uint64_t frames) const {
    return frames >= bounds.max_frames || (bounds.stop && bounds.stop->load()) ||
           clock_type::now() >= deadline;
  }
  double seconds() const {
    return std::chrono::duration<double>(clock_type::now() - start).count();
  }
  const flood_bounds& bounds;
  clock_type::time_point deadline;
  clock_type::time_point start;
};

}  // namespace

std::string_view name_of(flood_kind kind) {
  switch (kind) {
    case flood_kind::instance_churn:
      return "instance-churn";
    case flood_kind::failed_opens:
      return "failed-opens";
    case flood_kind::malformed:
      return "malformed";
    case flood_kind::random_guids:
      return "random-guids";
  }
  return "?";
}

frame_maker make_flood(flood_kind kind, std::vector<wire::offered_key> live_keys,
                       std::uint32_t wanted) {
  switch (kind) {
    case flood_kind::instance_churn:
      return [wanted] { return key_request(random_guid(), wanted); };
    case flood_kind::failed_opens: {
      if (live_keys.empty()) throw std::invalid_argument("failed_opens needs live keys");
      auto keys = std::make_shared<std::vector<wire::offered_key>>(std::move(live_keys));
      auto next = std::make_shared<std::size_t>(0);
      return [keys, next] { return random_enc((*keys)[(*next)++ % keys->size()].id); };
    }
    case flood_kind::malformed:
      // 1 to 256 bytes: the decoder's whole early range (headers, truncations, bad types).
      return [] { return random_bytes(1 + randombytes_uniform(256)); };
    case flood_kind::random_guids:
      return [] { return random_enc(random_guid()); };
  }
  throw std::invalid_argument("unknown flood kind");
}

flood_tally flood(raw_peer& wire, std::span<const std::string> path, const frame_maker& next,
                  const flood_bounds& bounds) {
  flood_tally t;
  const flood_clock clock(bounds);
  while (!clock.done(t.frames)) {
    const bytes frame = next();
    // A frame that finds no room is made again: random frames are all alike.
    if (!wire.send(path, frame, send_wait)) continue;
    ++t.frames;
    t.bytes += frame.size();
  }
  t.seconds = clock.seconds();
  return t;
}

flood_tally flood_paths(raw_peer& wire, std::uint64_t first, std::uint64_t count,
                        const std::function<bytes(std::uint64_t)>& frame_for,
                        const flood_bounds& bounds) {
  flood_tally t;
  const flood_clock clock(bounds);
  for (std::uint64_t n = first; n < first + count && !clock.done(t.frames);) {
    const std::string path[] = {forged_path_frame(n)};
    const bytes frame = frame_for(n);
    if (!wire.send(path, frame, send_wait)) continue;
    ++t.frames;
    t.bytes += frame.size();
    ++n;
  }
  t.seconds = clock.seconds();
  return t;
}

}  // namespace cryptcom::hostile
