// rogue_broker: a compromised ROUTER/DEALER broker. It forwards between cryptcom clients (its
// ROUTER) and a worker (its DEALER) as zmq_proxy does, and on the way it tries what anyone in
// that place can do with the public specification alone (docs/PROTOCOL.md):
//
//  - offers: it overwrites the public keys in the worker's first control frames that offer keys
//    with key pairs of its own, keeping their ids. In base mode the client seals to them; the
//    broker opens each such request, keeps the plaintext, and seals it again to the worker's
//    real key under the same id, so that neither end notices anything. In authenticated mode the
//    changed frame no longer matches its MAC and the client drops it.
//  - acknowledgements: it keeps one request from the worker and answers the client with an
//    acknowledgement of its own for it. In base mode the client believes it delivered; in
//    authenticated mode the forgery (it has no session key to compute the MAC with) is dropped,
//    and the client sends the request again.
//  - replays: it sends a request the worker already had, and a reply the client already had,
//    once more.
//
// Each attack is tried a bounded number of times (`attacks`); after that the broker forwards
// honestly, so that what the endpoints do about the attacks can be seen to the end.
// Thread-safety: run() on one thread; the other members before it starts or after it returned.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "frame_reader.hpp"
#include "hpke.hpp"
#include "report.hpp"

namespace examples {

class rogue_broker {
 public:
  struct attacks {
    int offer_frames = 2;  // control frames of the worker's whose offers are replaced
    int acks = 1;          // requests kept from the worker and acknowledged by the broker
    int replays = 1;       // frames replayed, in each direction
  };

  rogue_broker(::zmq::context_t& ctx, attacks a)
      : front_(ctx, ::zmq::socket_type::router), back_(ctx, ::zmq::socket_type::dealer), left_(a) {
    for (auto* s : {&front_, &back_}) {
      s->set(::zmq::sockopt::linger, 0);
      s->bind("tcp://127.0.0.1:*");
    }
  }

  std::string front() const { return front_.get(::zmq::sockopt::last_endpoint); }
  std::string back() const { return back_.get(::zmq::sockopt::last_endpoint); }

  // Forwards until `stop`.
  void run(const std::atomic<bool>& stop) {
    ::zmq::pollitem_t items[] = {{front_.handle(), 0, ZMQ_POLLIN, 0},
                                 {back_.handle(), 0, ZMQ_POLLIN, 0}};
    while (!stop) {
      ::zmq::poll(items, 2, std::chrono::milliseconds(50));
      if (items[0].revents & ZMQ_POLLIN) from_client(receive(front_));
      if (items[1].revents & ZMQ_POLLIN) from_worker(receive(back_));
    }
  }

  // What the broker did, in order, and the plaintexts it read.
  const std::vector<std::string>& log() const noexcept { return log_; }
  const std::vector<std::string>& read() const noexcept { return read_; }

 private:
  using message = std::vector<std::string>;  // routing frames, then the cryptcom frame

  struct stolen_key {
    hpke::key_pair mine;           // what the client was given instead...
    hpke::key32 workers_public{};  // ...of the worker's key
  };

  static message receive(::zmq::socket_t& s) {
    std::vector<::zmq::message_t> parts;
    (void)::zmq::recv_multipart(s, std::back_inserter(parts));
    message m;
    for (const auto& p : parts) m.push_back(p.to_string());
    return m;
  }
  static void send(::zmq::socket_t& s, const message& m) {
    for (std::size_t i = 0; i < m.size(); ++i) {
      (void)s.send(::zmq::buffer(m[i]),
                   i + 1 < m.size() ? ::zmq::send_flags::sndmore : ::zmq::send_flags::none);
    }
  }
  // A key id's first bytes, to tell the keys apart in the log.
  static std::string hex_id(std::string_view id) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (const char c : id.substr(0, 4)) {
      s += digits[static_cast<unsigned char>(c) >> 4];
      s += digits[static_cast<unsigned char>(c) & 15];
    }
    return s + "..";
  }

  void from_client(message m) {
    if (m.size() < 2) return send(back_, m);
    const auto f = read_frame(m.back());
    if (!f || f->kind != 2) return send(back_, m);
    ++requests_;
    if (const auto k = stolen_.find(f->key_id); k != stolen_.end()) {
      read_and_seal_again(m.back(), *f, k->second);
    }
    if (left_.acks > 0 && requests_ == 2 && !worker_instance_.empty()) {
      --left_.acks;
      message ack(m.begin(), m.end() - 1);
      ack.push_back(forged_ack(*f));
      send(front_, ack);
      log_.push_back("kept a request (key " + hex_id(f->key_id) +
                     ") from the worker and acknowledged it to the client itself");
      return;
    }
    send(back_, m);
    replay(first_request_, m, back_, "a request to the worker");
  }

  void from_worker(message m) {
    const auto f = m.size() >= 2 ? read_frame(m.back()) : std::nullopt;
    if (f && f->has_block) worker_instance_ = f->instance;
    if (f && f->version == 2) worker_seq_ = std::max(worker_seq_, f->seq);
    if (f && f->kind == 1 && !f->offer_key_at.empty() && left_.offer_frames > 0) {
      --left_.offer_frames;
      for (std::size_t i = 0; i < f->offer_key_at.size(); ++i) {
        stolen_key k{hpke::random_key_pair(), {}};
        std::string& frame = m.back();
        std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(f->offer_key_at[i]), 32,
                    k.workers_public.begin());
        std::copy(k.mine.public_key.begin(), k.mine.public_key.end(),
                  frame.begin() + static_cast<std::ptrdiff_t>(f->offer_key_at[i]));
        stolen_[f->offer_ids[i]] = k;
      }
      log_.push_back("replaced the " + std::to_string(f->offer_key_at.size()) +
                     " keys the worker offered in a control frame with keys of its own");
    }
    send(front_, m);
    if (f && f->kind == 2) replay(first_reply_, m, front_, "a reply to the client");
  }

  // The first data frame of a direction is kept; once a later one passed (so the first was
  // surely taken), it is sent again.
  void replay(std::optional<message>& first, const message& now, ::zmq::socket_t& to,
              const char* what) {
    if (!first) {
      first = now;
    } else if (left_replays(to) > 0) {
      --left_replays(to);
      send(to, *first);
      log_.push_back(std::string("replayed ") + what);
    }
  }
  int& left_replays(const ::zmq::socket_t& to) {
    return &to == &back_ ? replays_to_worker_ : replays_to_client_;
  }

  // A request sealed to one of our keys: open it, keep what it says, seal it again to the
  // worker's key under the same key id (the client's reply key and everything else unchanged).
  void read_and_seal_again(std::string& frame, const frame_view& f, const stolen_key& k) {
    const std::string_view info =
        f.version == 1 ? "cryptcom/1 one-time key" : "cryptcom/2 one-time key";
    hpke::key32 enc;
    std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(f.enc_at), 32, enc.begin());
    const std::string_view bytes(frame);
    const auto plain = hpke::open(k.mine, enc, info, bytes.substr(0, f.ciphertext_head),
                                  bytes.substr(f.ciphertext_at));
    if (!plain) return;
    read_.push_back(payload_text(*plain));
    log_.push_back("READ a request sealed to its key " + hex_id(f.key_id) + ": " + read_.back());
    const auto e = hpke::new_encapsulation();
    std::copy(e.public_key.begin(), e.public_key.end(),
              frame.begin() + static_cast<std::ptrdiff_t>(f.enc_at));
    const auto sealed = hpke::seal(e, k.workers_public, info,
                                   std::string_view(frame).substr(0, f.ciphertext_head), *plain);
    if (sealed) frame.replace(f.ciphertext_at, sealed->size(), *sealed);
  }

  // The payload's parts (docs/PROTOCOL.md §6), quoted, the empty ones shown as "".
  static std::string payload_text(std::string_view payload) {
    msgpack_cursor c(payload);
    std::string out;
    for (std::size_t n = c.array(); c.ok() && n > 0; --n) {
      if (!out.empty()) out += ", ";
      out += quoted(c.bin(), 60);
    }
    return "[" + out + "]";
  }

  // An acknowledgement of `request`'s key in the worker's name (§4; §12.2 in authenticated
  // mode, where the MAC is 32 random bytes: the broker holds no session key).
  std::string forged_ack(const frame_view& request) const {
    std::string f;
    auto put = [&](std::initializer_list<unsigned char> b) { f.append(b.begin(), b.end()); };
    if (request.version == 1) {
      put({0x93, 0x01, 0x01});
    } else {
      put({0x95, 0x02, 0x01, 0xcf});  // seq: the next one the worker would use, as a uint64
      for (int shift = 56; shift >= 0; shift -= 8) {
        f.push_back(static_cast<char>(((worker_seq_ + 1) >> shift) & 0xff));
      }
    }
    put({0x95, 0xc4, 0x10});  // block: instance, wanted 0, no offers, one ack, no rejections
    f += worker_instance_;
    put({0x00, 0x90, 0x91, 0xc4, 0x10});
    f += request.key_id;
    put({0x90});
    if (request.version == 2) {
      put({0xc4, 0x20});
      std::string mac(32, '\0');
      randombytes_buf(mac.data(), mac.size());
      f += mac;
    }
    return f;
  }

  ::zmq::socket_t front_;
  ::zmq::socket_t back_;
  attacks left_;
  int replays_to_worker_ = left_.replays;
  int replays_to_client_ = left_.replays;
  std::map<std::string, stolen_key> stolen_;  // by key id
  std::string worker_instance_;
  std::uint64_t worker_seq_ = 0;
  int requests_ = 0;
  std::optional<message> first_request_;
  std::optional<message> first_reply_;
  std::vector<std::string> log_;
  std::vector<std::string> read_;
};

}  // namespace examples
