// balancer: how a PUSH socket spreads its messages over the PULLs it is connected to, and a
// DEALER or REQ over the servers it is connected to.
//
// ZeroMQ's PUSH round-robins over the peers whose pipes have room. cryptcom must choose the peer
// itself, before sealing, since a message is sealed to a one-time key of the peer that will open
// it. It is also key-aware: only a peer whose keys are at hand is offered a message, so a peer
// that is slow to offer keys (or slow to open what it got, which keeps its grant small) does not
// stall the stream: it is passed over until its keys come. So that passing over does not skew the
// spread for good, the peer that was sent the fewest messages goes first among those with keys
// (ties in round-robin order): a peer passed over for a moment catches up once its keys are back,
// as far as they allow. A peer that joins counts as having been sent as many as the least served
// of the others, so it takes its turn without a burst. The caller says what "at hand" and "takes
// it" mean; the balancer keeps the order and the counts.
// Thread-safety: none; owned by the I/O thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "routing.hpp"

namespace cryptcom::zmq::detail {

class balancer {
 public:
  // A peer joins the rotation (at its end); adding one already in it does nothing.
  void add(peer_number peer);
  // A peer leaves the rotation; one not in it is ignored.
  void remove(peer_number peer);
  bool contains(peer_number peer) const;
  bool empty() const noexcept { return peers_.empty(); }
  std::size_t size() const noexcept { return peers_.size(); }

  // Offers a message to the peers `ready` accepts (keys at hand), the fewest sent first and in
  // round-robin order from the cursor among equals, until `take` accepts it; the taker's count
  // grows and the cursor moves past it. Returns the taker; none when no ready peer took it (the
  // caller holds the message: back-pressure). Each peer is asked at most once. O(n log n) in
  // the peers.
  std::optional<peer_number> place(const std::function<bool(peer_number)>& ready,
                                   const std::function<bool(peer_number)>& take);

 private:
  struct entry {
    peer_number peer;
    std::uint64_t sent;
  };
  std::vector<entry> peers_;  // in rotation order; a handful to a few thousand
  std::size_t next_ = 0;      // index of the peer first among equals
};

}  // namespace cryptcom::zmq::detail
