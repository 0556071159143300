// speaker: the protocol spoken by hand on one routing path of a raw_peer, as far as an attack
// needs it: announce an instance, ask for keys and collect the offers, seal messages to offered
// keys (with a reply key of ours, so the answer is sealed to us), answer key requests with keys of
// ours, open what is sealed to them, and acknowledge or reject by key id. What a speaker does NOT
// do is what makes it hostile: it acknowledges only when told, and says whatever it is told.
//
// Messages for other paths of the same raw_peer (a DEALER's other forged prefixes) are skipped.
// Thread-safety: none; used by the thread that uses its raw_peer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attacker/attacker_key.hpp"
#include "attacker/forge.hpp"
#include "attacker/raw_peer.hpp"

namespace cryptcom::hostile {

// A data frame the target sealed to one of our keys, opened.
struct opened_data {
  guid key_id;                                 // our key it was sealed to
  std::vector<std::string> parts;              // the message
  std::size_t frame_bytes = 0;                 // its size on the wire
  std::optional<wire::offered_key> reply_key;  // the target's key for our answer (pull)
};

class speaker {
 public:
  // Speaks on `wire` with `path` in front of every frame (empty: the connection itself).
  explicit speaker(raw_peer& wire, std::vector<std::string> path = {});

  const guid& instance() const noexcept { return instance_; }
  // Forgets the target's keys and takes a fresh instance id: what a restart looks like.
  void restart();
  // The path (a ROUTER speaker learns its client's routing id from the first message).
  void set_path(std::vector<std::string> path) { path_ = std::move(path); }
  // Takes the envelope of the next message as the path (a ROUTER's client).
  void adopt_path() noexcept { adopt_path_ = true; }
  const std::vector<std::string>& path() const noexcept { return path_; }

  // Sends one frame on this path; false when the peer's queues stayed full for `timeout`.
  bool send(byte_view frame, std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  // Asks for `wanted` keys and reads until at least `min_keys` of the target's keys are held or
  // `timeout` passes. Returns the number held.
  std::size_t obtain_keys(std::uint32_t wanted, std::size_t min_keys,
                          std::chrono::milliseconds timeout);
  // The target's keys we hold, oldest first.
  std::deque<wire::offered_key>& target_keys() noexcept { return target_keys_; }

  // Seals `parts` to the oldest key the target offered (taken from target_keys()). With
  // `pull`, a key of ours rides along as the reply key, so the answer is sealed to it.
  // Returns the key sealed to, or nothing when no key is held or the send did not go out.
  std::optional<wire::offered_key> send_sealed(std::span<const std::string> parts, bool pull);

  // Reads until a data frame sealed to one of our keys arrives (answering key requests and
  // collecting offers meanwhile), and opens it. Nothing within `timeout`, or a data frame that did
  // not open (then `last_error()` says why).
  std::optional<opened_data> receive_data(std::chrono::milliseconds timeout);
  // Reads what arrived within `timeout` and handles it (offers, key requests); returns how many
  // messages for this path were seen.
  std::size_t pump(std::chrono::milliseconds timeout);

  // Answer the target's key requests with keys of ours (what a server does for a client).
  // Default: off.
  void serve_key_requests(bool on) noexcept { serve_key_requests_ = on; }

  // Acknowledges a data frame by its key id.
  bool acknowledge(const guid& key);

  // Control blocks received from the target: the latest one (its instance id, what it asked).
  const std::optional<wire::control_block>& last_control() const noexcept { return last_control_; }
  const std::string& last_error() const noexcept { return last_error_; }
  std::uint64_t messages_received() const noexcept { return received_; }

 private:
  bool for_me(const wire_message& m) const;
  // Offers and key requests in a block from the target.
  void handle_control(const wire::control_block& block);
  std::optional<opened_data> handle(const wire_message& m, bool& was_data);

  raw_peer& wire_;
  std::vector<std::string> path_;
  guid instance_;
  std::deque<wire::offered_key> target_keys_;
  std::map<std::string, attacker_key> my_keys_;  // by GUID bytes
  bool serve_key_requests_ = false;
  bool adopt_path_ = false;
  std::optional<wire::control_block> last_control_;
  std::string last_error_;
  std::uint64_t received_ = 0;
};

}  // namespace cryptcom::hostile
