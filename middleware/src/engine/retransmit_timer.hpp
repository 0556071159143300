// retransmit_timer: how long to wait for an acknowledgement from one peer before sending a
// message again. TCP's answer (RFC 6298) on the caller's time: a smoothed round-trip time and
// its variation from acknowledged first transmissions (Karn: never from a resent message, whose
// acknowledgement could be for either copy), timeout = srtt + 4 * rttvar, doubled on every
// expiry and recomputed at the next sample.
//
// A fixed timeout resends messages that are merely queued: a receiver serving many senders, or
// reading slowly, acknowledges later than options::retransmit_after, and every resend then
// costs a seal (an X25519) on each side and deepens the queue it was stuck in. The timeout never
// goes below options::retransmit_after (the configured minimum) nor above `max`.
// The smallest sample is kept too: the path's own round trip, against which a longer wait is time
// spent in queues (the engine's key pool shrinks on it, see note_starved).
// Thread-safety: none.
#pragma once

#include <algorithm>

#include "cryptcom/types.hpp"

namespace cryptcom::engine_detail {

class retransmit_timer {
 public:
  retransmit_timer(duration min, duration max) : min_(min), max_(std::max(min, max)), rto_(min) {}

  // The time from a message's first (only) transmission to its acknowledgement.
  void on_sample(duration rtt) {
    if (rtt < duration::zero()) rtt = duration::zero();
    if (!sampled_ || rtt < min_rtt_) min_rtt_ = rtt;
    if (!sampled_) {
      srtt_ = rtt;
      rttvar_ = rtt / 2;
      sampled_ = true;
    } else {
      const duration error = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
      rttvar_ = (3 * rttvar_ + error) / 4;
      srtt_ = (7 * srtt_ + rtt) / 8;
    }
    rto_ = std::clamp(srtt_ + 4 * rttvar_, min_, max_);
  }

  // The timeout expired: wait twice as long for the next one (the path is slower than we knew).
  void on_timeout() { rto_ = std::min(max_, 2 * rto_); }

  duration timeout() const { return rto_; }
  duration smoothed_rtt() const { return srtt_; }
  // The smallest sample so far; zero before the first.
  duration min_rtt() const { return min_rtt_; }
  bool sampled() const { return sampled_; }

 private:
  duration min_;
  duration max_;
  duration rto_;
  duration srtt_{};
  duration rttvar_{};
  duration min_rtt_{};
  bool sampled_ = false;
};

}  // namespace cryptcom::engine_detail
