// The I/O thread's part of PUB, SUB, XPUB and XSUB (docs/PROTOCOL.md §11.8): addresses, the
// subscribers a publisher knows and what each is subscribed to, the publishers a subscriber
// knows and the set it sends them, and one sealed copy of each message per matching subscriber.
#include <zmq.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io_loop.hpp"
#include "wire_message.hpp"

namespace cryptcom::zmq::detail {
namespace {

// Bounds on one subscriber's set (§11.8): beyond them the set is refused whole.
constexpr std::size_t max_topics = 10000;
constexpr std::size_t max_topic_bytes = 1024;
constexpr std::size_t seq_bytes = 8;
constexpr std::size_t subscriber_pool_target = 4;

std::string_view view_of(const ::zmq::message_t& m) {
  return {static_cast<const char*>(m.data()), m.size()};
}

bool any_prefix_of(const std::vector<std::string>& topics, std::string_view first) {
  return std::any_of(topics.begin(), topics.end(),
                     [&](const std::string& t) { return first.substr(0, t.size()) == t; });
}

std::vector<std::string> distinct(std::vector<std::string> topics) {
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  return topics;
}

}  // namespace

void io_loop::setup_pubsub() {
  address_.resize(pubsub_address_size);
  random_->fill(mutable_byte_view(reinterpret_cast<byte*>(address_.data()), address_.size()));
  // Never 00 or 01 first: XPUB and XSUB would read the message as an (un)subscription.
  address_[0] = static_cast<char>(static_cast<unsigned char>(address_[0]) | 0x80);
  if (kind_.publishes()) {
    // Every subscriber's subscription to its address reaches us, even a repeated one.
    wire_.set(::zmq::sockopt::xpub_verbose, 1);
  } else {
    // Our one ZeroMQ subscription: our address. XSUB keeps it and sends it on every connection.
    std::string subscription(1, '\x01');
    subscription += address_;
    wire_.send(::zmq::buffer(subscription), ::zmq::send_flags::none);
  }
  if (kind_.what == role::xsub) {
    // Every subscription message of the application reaches us, repeated ones and all.
    data_.set(::zmq::sockopt::xpub_verbose, 1);
    data_.set(::zmq::sockopt::xpub_verboser, 1);
  }
}

bool io_loop::accept_pubsub(std::vector<::zmq::message_t>& frames, time_point now) {
  if (frames.size() == 1 && kind_.publishes() && frames[0].size() > 0) {
    const auto* b = static_cast<const unsigned char*>(frames[0].data());
    if ((b[0] == 0 || b[0] == 1) && frames[0].size() == 1 + pubsub_address_size) {
      on_wire_subscription(b[0] == 1, view_of(frames[0]).substr(1), now);
      return false;
    }
  }
  if (frames.size() == 3 && view_of(frames[0]) == address_) {
    if (frames[1].size() != pubsub_address_size) {
      ++counters_.messages_dropped;
      emit({event_kind::message_dropped,
            {},
            0,
            errc::malformed_frame,
            {},
            "a wire message with a sender address of " + std::to_string(frames[1].size()) +
                " bytes was dropped (addresses are 16 bytes, docs/PROTOCOL.md §11.8)",
            {}});
      return false;
    }
    frames.erase(frames.begin());  // [sender address, frame]: the address is the path
    return true;
  }
  // Another publisher's messages (an XSUB sends to all of them), or not ours at all.
  ++counters_.pubsub_not_for_us;
  return false;
}

void io_loop::on_wire_subscription(bool on, std::string_view address, time_point now) {
  const std::string_view path[] = {address};
  const std::optional<peer_number> known = routes_.find(path);
  if (!on) {
    // The subscriber's connection closed (or a forwarder says its last one did).
    if (!known) return;
    engine_.disconnect(*known, now);
    pump(now);
    forget(*known);
    return;
  }
  if (known) return;
  if (!make_room(path, false, now)) return;
  const peer_number peer = routes_.add(path, false, now);
  subscribers_.try_emplace(peer);
  engine_.connect(peer, now);  // its keys, before it has said anything else
}

void io_loop::add_publisher(peer_number peer, time_point now) {
  if (!publishers_.insert(peer).second) return;
  // Only subscription sets are sealed to a publisher: a few keys of each are plenty, and many
  // subscribers then fit in a publisher's budget for peers that have proven nothing (§9).
  engine_.set_pool_target(peer, subscriber_pool_target, now);
  engine_.connect(peer, now);  // the keys its subscription set is sealed to
  send_subscription_set(peer, now);
}

void io_loop::send_subscription_set(peer_number publisher, time_point now) {
  std::string seq(seq_bytes, '\0');
  for (std::size_t i = 0; i < seq_bytes; ++i)
    seq[i] = static_cast<char>((topics_seq_ >> (8 * (seq_bytes - 1 - i))) & 0xff);
  // The topics in one part, each after its length in 2 bytes, big-endian (§11.8): a set is not
  // bounded by the publisher's max_parts.
  std::string list;
  for (const auto& [t, count] : topics_) {
    list.push_back(static_cast<char>((t.size() >> 8) & 0xff));
    list.push_back(static_cast<char>(t.size() & 0xff));
    list += t;
  }
  const byte_view parts[] = {byte_view(reinterpret_cast<const byte*>(seq.data()), seq.size()),
                             byte_view(reinterpret_cast<const byte*>(list.data()), list.size())};
  send_options how;
  how.use_flow = flow::push;
  if (!engine_.send(publisher, parts, now, how).ok()) ++counters_.messages_dropped;
}

void io_loop::subscribe(const std::string& topic, bool on) {
  change_topic(on, topic, std::chrono::steady_clock::now());
}

void io_loop::change_topic(bool on, std::string_view topic, time_point now) {
  const std::string key(topic);
  auto it = topics_.find(key);
  if (on &&
      (topic.size() > max_topic_bytes || (it == topics_.end() && topics_.size() >= max_topics))) {
    // What every publisher would refuse, refused here (§11.8): the set stays as it was.
    emit({event_kind::message_refused,
          {},
          0,
          errc::limit_exceeded,
          {},
          "a subscription was refused: topics are at most " + std::to_string(max_topic_bytes) +
              " bytes and a subscriber has at most " + std::to_string(max_topics) +
              " (this one: " + std::to_string(topic.size()) + " bytes, " +
              std::to_string(topics_.size()) + " topics held)",
          {}});
    return;
  }
  // Counted as libzmq counts them: a topic subscribed twice needs two unsubscriptions.
  if (on) {
    if (it != topics_.end()) {
      ++it->second;
      return;
    }
    topics_.emplace(key, 1);
  } else {
    if (it == topics_.end()) return;
    if (--it->second > 0) return;
    topics_.erase(it);
  }
  ++topics_seq_;
  // One set for a burst of changes (a subscriber setting 10,000 topics one by one): sent when
  // the loop next finds it due.
  if (!sets_due_) sets_due_ = now + subscription_set_delay;
}

void io_loop::send_due_sets(time_point now) {
  if (!sets_due_ || now < *sets_due_) return;
  sets_due_.reset();
  for (peer_number p : publishers_) send_subscription_set(p, now);
  pump(now);
}

void io_loop::from_xsub_end(outgoing& m, time_point now) {
  const std::string_view first = m.parts.empty() ? std::string_view() : view_of(m.parts[0]);
  if (m.parts.size() == 1 && !first.empty() && (first[0] == 0 || first[0] == 1)) {
    change_topic(first[0] == 1, first.substr(1), now);
    return;
  }
  refuse(m, errc::invalid_argument,
         "an XSUB socket sends only subscription messages (01 or 00 and a topic): cryptcom's "
         "subscribers have no other way upstream (docs/PROTOCOL.md §11.8)");
}

void io_loop::publish(outgoing& m, time_point now) {
  if (m.parts.empty()) return;
  // One application message for every subscriber's copy: each holds it until acknowledged.
  const std::shared_ptr<app_parts> held = hand_over(m.parts);
  const message_parts parts = engine_parts(held, 0);
  const std::string_view first = view_of(held->front());
  send_options how;
  how.use_flow = flow::push;
  for (auto& [peer, sub] : subscribers_) {
    if (!any_prefix_of(sub.topics, first)) continue;
    const result<message_id> r = engine_.send(peer, parts, now, how);
    if (r.ok()) {
      sub.dropping = false;
      continue;
    }
    // A slow subscriber, or one that offers no keys: its copies go, not the publisher's pace.
    ++counters_.messages_dropped;
    if (!sub.dropping) {
      sub.dropping = true;
      emit({event_kind::message_dropped,
            route_of(peer),
            m.number,
            r.error().code(),
            {},
            "copies for this subscriber are being dropped from message " +
                std::to_string(m.number) + " on: " + r.error().message() +
                " (a slow subscriber, or one that offers no keys; reported once until it takes "
                "copies again)",
            {}});
    }
  }
}

void io_loop::on_subscription_set(delivery&& d) {
  auto& sub = subscribers_[d.peer];
  std::string why;
  std::uint64_t seq = 0;
  std::vector<std::string> topics;
  if (d.parts.size() != 2 || d.parts[0].size() != seq_bytes) {
    why = "it is not [8-byte sequence number, topic list]";
  } else {
    for (std::size_t i = 0; i < seq_bytes; ++i) seq = (seq << 8) | d.parts[0][i];
    const byte_view list = d.parts[1];
    std::size_t at = 0;
    while (at < list.size() && why.empty()) {
      if (list.size() - at < 2) {
        why = "the topic list ends inside a length";
        break;
      }
      const std::size_t n = (static_cast<std::size_t>(list[at]) << 8) | list[at + 1];
      at += 2;
      if (n > max_topic_bytes) {
        why = "a topic is longer than " + std::to_string(max_topic_bytes) + " bytes";
      } else if (list.size() - at < n) {
        why = "the topic list ends inside a topic";
      } else if (topics.size() == max_topics) {
        why = "it has more than " + std::to_string(max_topics) + " topics";
      } else {
        topics.emplace_back(reinterpret_cast<const char*>(list.data() + at), n);
        at += n;
      }
    }
  }
  if (!why.empty()) {
    ++counters_.messages_dropped;
    emit({event_kind::message_dropped,
          route_of(d.peer),
          0,
          errc::invalid_argument,
          {},
          "a subscription set was refused: " + why + " (docs/PROTOCOL.md §11.8)",
          {}});
    wipe(d);
    return;
  }
  if (seq > sub.seq) {
    topics = distinct(std::move(topics));
    for (const auto& t : topics) {
      if (!std::binary_search(sub.topics.begin(), sub.topics.end(), t) && ++topic_counts_[t] == 1)
        tell_xpub_end(true, t);
    }
    for (const auto& t : sub.topics) {
      if (!std::binary_search(topics.begin(), topics.end(), t)) untell_topic(t);
    }
    sub.topics = std::move(topics);
    sub.seq = seq;
  }
  wipe(d);
}

void io_loop::untell_topic(const std::string& topic) {
  auto it = topic_counts_.find(topic);
  if (it == topic_counts_.end()) return;
  if (--it->second == 0) {
    topic_counts_.erase(it);
    tell_xpub_end(false, topic);
  }
}

void io_loop::tell_xpub_end(bool on, const std::string& topic) {
  if (kind_.what != role::xpub) return;
  std::string message(1, on ? '\x01' : '\x00');
  message += topic;
  std::vector<::zmq::message_t> out;
  out.emplace_back(message.data(), message.size());
  send_to_app(std::move(out));
}

bool io_loop::subscribed_to(delivery& d) {
  const std::string_view first =
      d.parts.empty()
          ? std::string_view()
          : std::string_view(reinterpret_cast<const char*>(d.parts[0].data()), d.parts[0].size());
  for (const auto& [t, count] : topics_) {
    if (first.substr(0, t.size()) == t) return true;
  }
  // A publisher that ignored our set: what we did not subscribe to is not delivered.
  ++counters_.messages_dropped;
  wipe(d);
  return false;
}

void io_loop::forget_pubsub(peer_number peer) {
  publishers_.erase(peer);
  auto it = subscribers_.find(peer);
  if (it == subscribers_.end()) return;
  for (const auto& t : it->second.topics) untell_topic(t);
  subscribers_.erase(it);
}

}  // namespace cryptcom::zmq::detail
