// balancer: the round robin a PUSH socket spreads its messages with, over the PULL peers it is
// connected to.
//
// ZeroMQ's PUSH round-robins over the peers whose pipes have room. cryptcom must choose the peer
// itself, before sealing, since a message is sealed to a one-time key of the peer that will open
// it. It is also key-aware: a peer whose keys are at hand is preferred, so a peer that is slow to
// offer keys (or slow to open what it got, which keeps its grant small) does not stall the
// stream: it is passed over until its keys come. The caller says what "at hand" and "takes it"
// mean; the balancer only keeps the order and the cursor.
// Thread-safety: none; owned by the I/O thread.
#pragma once

#include <cstddef>
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

  // Offers a message to the peers in round-robin order from the cursor, only to those `ready`
  // accepts (keys at hand), until `take` accepts it; the cursor then moves past the taker, so
  // the next message starts at the next peer. Returns the taker; none when no ready peer took
  // it (the caller holds the message: back-pressure). Each peer is asked at most once.
  std::optional<peer_number> place(const std::function<bool(peer_number)>& ready,
                                   const std::function<bool(peer_number)>& take);

 private:
  std::vector<peer_number> peers_;  // in rotation order; a handful to a few thousand
  std::size_t next_ = 0;            // index of the peer asked first
};

}  // namespace cryptcom::zmq::detail
