// Issue 11: an active man in the middle between a cryptcom client and server, as a relay (proxy
// topology, tcp) and as a malicious ROUTER/DEALER broker (broker topology, ipc). Each attack is
// refused (the forged or replayed frame is dropped), reported (counted in stats, and events), no
// message is ever sealed to a key the attacker holds, and every message is delivered exactly once
// or reported undeliverable. The positive control of each test: the genuine traffic through the
// same relay gets through, so a test cannot pass by everything failing.
//
// Without authenticated mode (the engine ignoring `auth`, base mode on the wire) each of these
// fails: the attacker reads offers and substitutes its own, its acknowledgements drop messages,
// its rejections deliver them twice, its instance ids restart peers, reflected frames restart the
// sender, and the client speaks version 1.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "world.hpp"

namespace cryptcom::auth_test {
namespace {

using dir = relay::direction;
using cryptcom::zmq::event_kind;

class auth_mitm : public ::testing::TestWithParam<relay::topology> {};

// What the relay's hook learns and does, read by the test afterwards.
struct attack_state {
  std::mutex mutex;
  std::optional<v2::id16> server_instance;  // from the server's frames
  std::optional<v2::id16> client_instance;
  std::set<v2::id16> seen_keys;  // data frames' key ids seen going to the server
  std::size_t forged_to_client_v2 = 0;
  std::size_t forged_to_client_v1 = 0;
  std::size_t forged_to_server_v2 = 0;
  std::size_t forged_to_server_v1 = 0;
  std::size_t acted = 0;  // frames the attack rewrote, dropped or held

  void learn(dir d, const v2::bytes& f) {
    auto inst = instance_of(f);
    if (!inst) return;
    (d == dir::to_client ? server_instance : client_instance) = *inst;
  }
};

// Injects a forged control frame towards `d` in `version`, and counts it.
void forge(relay& r, attack_state& s, dir d, std::uint64_t version, const v2::control_block& b) {
  r.inject(d, forge_control(version, b));
  if (d == dir::to_client) {
    ++(version == 2 ? s.forged_to_client_v2 : s.forged_to_client_v1);
  } else {
    ++(version == 2 ? s.forged_to_server_v2 : s.forged_to_server_v1);
  }
}

// Forges `b` towards the client in the version of the frame `f` it answers, and also in version 1
// (a downgrade attempt), as a server on the path would.
void forge_answer(relay& r, attack_state& s, const v2::bytes& f, const v2::control_block& b) {
  const std::uint64_t version = version_of(f).value_or(1);
  forge(r, s, dir::to_client, version, b);
  if (version != 1) forge(r, s, dir::to_client, 1, b);
}

// The key of the first transmission of a message towards the server, once per key: what the
// attacks on data frames act on. The caller holds s.mutex.
std::optional<v2::id16> first_transmission(attack_state& s, dir d, const v2::bytes& f) {
  s.learn(d, f);
  auto key = data_key_id(f);
  if (d != dir::to_server || !key || !s.seen_keys.insert(*key).second) return std::nullopt;
  return key;
}

// The refusal half of every attack: what the receiver says about the forged frames.
void expect_refused(const cryptcom::counters& c, std::size_t forged_v2, std::size_t forged_v1,
                    const char* who) {
  EXPECT_GE(c.frames_unauthenticated + c.frames_replayed, forged_v2)
      << who << " did not count the forged version 2 frames as unauthenticated";
  EXPECT_GE(c.frames_wrong_mode, forged_v1)
      << who << " did not count the version 1 frames as the wrong mode";
}

std::size_t refusal_reports(const std::vector<cryptcom::zmq::event>& events) {
  return count_events(events, event_kind::frame_rejected) +
         count_events(events, event_kind::peer_refused);
}

TEST_P(auth_mitm, an_honest_relay_carries_authenticated_frames_only) {
  world w(GetParam(), "honest");
  const auto o = w.c->run("honest", 20, bound(5000ms));
  expect_exactly_once(*w.server, o, true);
  std::size_t v2_frames = 0;
  for (const auto& cap : w.mitm->captures()) {
    EXPECT_EQ(version_of(cap.frame), 2u) << "a frame of another version passed the relay";
    if (version_of(cap.frame) == 2u) ++v2_frames;
  }
  EXPECT_GT(v2_frames, 0u);
  bool client_saw_server = false;
  for (const auto& e : w.c->events()) {
    if (e.kind == event_kind::peer_authenticated && e.peer_key.bytes == w.server_keys.pub) {
      client_saw_server = true;
    }
  }
  EXPECT_TRUE(client_saw_server) << "no peer_authenticated naming the server's key:\n"
                                 << describe(w.c->events());
  bool server_saw_client = false;
  for (const auto& e : w.server->events()) {
    if (e.kind == event_kind::peer_authenticated && e.peer_key.bytes == w.client_keys.pub) {
      server_saw_client = true;
    }
  }
  EXPECT_TRUE(server_saw_client) << "no peer_authenticated naming the client's key:\n"
                                 << describe(w.server->events());
  EXPECT_EQ(w.server->totals().frames_unauthenticated, 0u);
  EXPECT_EQ(w.c->totals().frames_unauthenticated, 0u);
}

TEST_P(auth_mitm, substituted_offers_are_never_sealed_to) {
  world w(GetParam(), "offers");
  attack_state s;
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    std::lock_guard lock(s.mutex);
    s.learn(d, f);
    // The first offers the server makes are replaced by the attacker's; later ones pass, so the
    // client can recover.
    if (d == dir::to_client && s.acted < 6) {
      if (auto swapped = substitute_offers(f, w.keys)) {
        f = std::move(*swapped);
        ++s.acted;
      }
    }
    return true;
  });
  ASSERT_TRUE(w.wait_for_traffic());
  {
    // Offers of the attacker's own, forged in both versions, both ways.
    std::lock_guard lock(s.mutex);
    for (std::uint64_t version : {2u, 1u}) {
      v2::control_block to_client;
      to_client.instance = s.server_instance.value_or(v2::random_id());
      to_client.offers = w.keys.make(8);
      forge(*w.mitm, s, dir::to_client, version, to_client);
      v2::control_block to_server;
      to_server.instance = s.client_instance.value_or(v2::random_id());
      to_server.offers = w.keys.make(8);
      forge(*w.mitm, s, dir::to_server, version, to_server);
    }
  }
  const auto o = w.c->run("offers", 20, bound(8000ms));
  EXPECT_EQ(w.keys.sealed_to_us(), 0u)
      << "messages were sealed to keys the attacker offered (" << w.keys.opened() << " opened)";
  // The attacked client may lose its batch (see offers_spoiled_by_tampering_are_offered_again);
  // the positive control is a client that connects through the same relay after the attack.
  expect_exactly_once(*w.server, o, false);
  client later(w.ctx, client_options(&w.client_keys, w.server_keys.pub), w.mitm->front_endpoint());
  expect_exactly_once(*w.server, later.run("later", 10, bound(5000ms)), true);
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  std::lock_guard lock(s.mutex);
  EXPECT_GT(s.acted, 0u) << "the relay never saw an offer to substitute";
  expect_refused(w.c->totals(), s.forged_to_client_v2 + s.acted, s.forged_to_client_v1, "client");
  expect_refused(w.server->totals(), s.forged_to_server_v2, s.forged_to_server_v1, "server");
  EXPECT_GT(refusal_reports(w.c->events()), 0u) << "the client reported no refusal";
  EXPECT_GT(refusal_reports(w.server->events()), 0u) << "the server reported no refusal";
}

// Recovery: a frame whose offers were tampered with fails its MAC and is dropped, so the client
// never gets those keys; the server must not go on counting them as held by the client (it would
// refuse every later key request until the keys expire, key_ttl: 60 s). Only the first frame with
// offers is spoiled here; the client's messages must all get through.
TEST_P(auth_mitm, offers_spoiled_by_tampering_are_offered_again) {
  world w(GetParam(), "spoiled");
  std::atomic<int> spoiled{0};
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    if (d == dir::to_client && spoiled == 0) {
      if (auto swapped = substitute_offers(f, w.keys)) {
        f = std::move(*swapped);
        ++spoiled;
      }
    }
    return true;
  });
  const auto o = w.c->run("spoiled", 10, bound(8000ms));
  EXPECT_EQ(spoiled.load(), 1);
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  expect_exactly_once(*w.server, o, true);
  EXPECT_EQ(w.c->totals().messages_undeliverable, 0u)
      << "the server trimmed " << w.server->totals().key_requests_trimmed
      << " key requests after offering " << w.server->totals().keys_offered
      << " keys, of which the client received " << w.c->totals().keys_received;
}

TEST_P(auth_mitm, forged_acknowledgements_lose_no_message) {
  world w(GetParam(), "acks");
  attack_state s;
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    std::lock_guard lock(s.mutex);
    const auto key = first_transmission(s, d, f);
    if (!key) return true;
    // The first transmission under each key is swallowed and acknowledged by the attacker, in the
    // client's version and in version 1.
    v2::control_block ack;
    ack.instance = s.server_instance.value_or(v2::random_id());
    ack.acks.push_back(*key);
    forge_answer(*w.mitm, s, f, ack);
    ++s.acted;
    return false;
  });
  const auto o = w.c->run("acks", 20, bound(8000ms));
  expect_exactly_once(*w.server, o, true);
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  std::lock_guard lock(s.mutex);
  EXPECT_GT(s.acted, 0u);
  expect_refused(w.c->totals(), s.forged_to_client_v2, s.forged_to_client_v1, "client");
  EXPECT_EQ(w.c->totals().messages_undeliverable, 0u);
  EXPECT_GT(refusal_reports(w.c->events()), 0u);
}

TEST_P(auth_mitm, forged_rejections_deliver_nothing_twice) {
  world w(GetParam(), "rejections");
  attack_state s;
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    std::lock_guard lock(s.mutex);
    const auto key = first_transmission(s, d, f);
    if (!key) return true;
    // The first transmission under each key is held back; the client is told the key expired
    // (it would re-seal under a new one), and only then is the held frame delivered.
    v2::control_block rejection;
    rejection.instance = s.server_instance.value_or(v2::random_id());
    rejection.rejections.push_back({*key, 6});  // expired_key
    forge_answer(*w.mitm, s, f, rejection);
    w.mitm->inject(dir::to_server, f);
    ++s.acted;
    return false;
  });
  const auto o = w.c->run("rejections", 20, bound(8000ms));
  expect_exactly_once(*w.server, o, true);
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  std::lock_guard lock(s.mutex);
  EXPECT_GT(s.acted, 0u);
  expect_refused(w.c->totals(), s.forged_to_client_v2, s.forged_to_client_v1, "client");
  EXPECT_GT(refusal_reports(w.c->events()), 0u);
}

TEST_P(auth_mitm, forged_key_requests_and_instance_ids_change_nothing) {
  world w(GetParam(), "instances");
  attack_state s;
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    std::lock_guard lock(s.mutex);
    s.learn(d, f);
    return true;
  });
  const auto warm = w.c->run("warm", 5, bound(5000ms));
  expect_exactly_once(*w.server, warm, true);
  const std::uint64_t offered_before = w.server->totals().keys_offered;
  {
    std::lock_guard lock(s.mutex);
    for (std::uint64_t version : {2u, 1u}) {
      // "The client restarted, and wants every key the server has."
      v2::control_block to_server;
      to_server.instance = v2::random_id();
      to_server.wanted = 1000;
      forge(*w.mitm, s, dir::to_server, version, to_server);
      // The same instance as the client's, asking for keys.
      to_server.instance = s.client_instance.value_or(v2::random_id());
      forge(*w.mitm, s, dir::to_server, version, to_server);
      // "The server restarted": the client would give up its unacknowledged messages.
      v2::control_block to_client;
      to_client.instance = v2::random_id();
      to_client.wanted = 1000;
      forge(*w.mitm, s, dir::to_client, version, to_client);
    }
  }
  const auto o = w.c->run("instances", 20, bound(8000ms));
  expect_exactly_once(*w.server, o, true);
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  EXPECT_EQ(count_events(w.c->events(), event_kind::peer_restarted), 0u) << describe(w.c->events());
  EXPECT_EQ(count_events(w.server->events(), event_kind::peer_restarted), 0u)
      << describe(w.server->events());
  EXPECT_EQ(w.c->totals().peer_restarts, 0u);
  EXPECT_EQ(w.server->totals().peer_restarts, 0u);
  // The forged requests for 1000 keys were not granted (honest traffic asks for a pool's worth).
  EXPECT_LT(w.server->totals().keys_offered - offered_before, 1000u);
  std::lock_guard lock(s.mutex);
  expect_refused(w.c->totals(), s.forged_to_client_v2, s.forged_to_client_v1, "client");
  expect_refused(w.server->totals(), s.forged_to_server_v2, s.forged_to_server_v1, "server");
}

TEST_P(auth_mitm, replayed_frames_are_dropped_and_counted) {
  world w(GetParam(), "replay");
  std::atomic<std::size_t> copies_to_server{0}, copies_to_client{0};
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    // Every control and data frame passes twice, the copy right behind the original.
    auto d2 = v2::decode(f);
    if (d2 && (d2->kind == 1 || d2->kind == 2)) {
      w.mitm->inject(d, f);
      ++(d == dir::to_server ? copies_to_server : copies_to_client);
    }
    return true;
  });
  const auto o = w.c->run("replay", 20, bound(8000ms));
  expect_exactly_once(*w.server, o, true);
  // Later in the same session, the whole capture again, handshakes included.
  const auto recorded = w.mitm->captures();
  w.mitm->set_hook({});
  for (const auto& cap : recorded) w.mitm->inject(cap.dir, cap.frame);
  const auto after = w.c->run("after-replay", 10, bound(8000ms));
  expect_exactly_once(*w.server, after, true);
  for (const auto& body : o.bodies) EXPECT_EQ(w.server->delivered(body), 1u) << body;
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  EXPECT_GT(copies_to_server.load(), 0u);
  EXPECT_GE(w.server->totals().frames_replayed, copies_to_server.load())
      << "the server did not count the copies as replays";
  EXPECT_GE(w.c->totals().frames_replayed, copies_to_client.load())
      << "the client did not count the copies as replays";
  EXPECT_EQ(w.c->totals().peer_restarts, 0u);
  EXPECT_EQ(w.server->totals().peer_restarts, 0u);
}

TEST_P(auth_mitm, reflected_frames_are_dropped) {
  world w(GetParam(), "reflect");
  std::atomic<std::size_t> to_client{0}, to_server{0};
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    // Every frame also goes back to the one who sent it, as if from the other side.
    const dir back = d == dir::to_server ? dir::to_client : dir::to_server;
    w.mitm->inject(back, f);
    auto d2 = v2::decode(f);
    if (d2 && (d2->kind == 1 || d2->kind == 2)) ++(back == dir::to_client ? to_client : to_server);
    return true;
  });
  const auto o = w.c->run("reflect", 20, bound(8000ms));
  expect_exactly_once(*w.server, o, true);
  EXPECT_EQ(w.keys.sealed_to_us(), 0u);
  EXPECT_GT(to_client.load(), 0u);
  EXPECT_GE(w.c->totals().frames_unauthenticated + w.c->totals().frames_replayed, to_client.load())
      << "the client did not drop its own frames reflected to it";
  EXPECT_GE(w.server->totals().frames_unauthenticated + w.server->totals().frames_replayed,
            to_server.load())
      << "the server did not drop its own frames reflected to it";
  EXPECT_EQ(count_events(w.c->events(), event_kind::peer_restarted), 0u);
  EXPECT_EQ(count_events(w.server->events(), event_kind::peer_restarted), 0u);
  EXPECT_EQ(w.c->totals().messages_undeliverable, 0u);
}

TEST_P(auth_mitm, dropping_the_handshake_does_not_downgrade_the_client) {
  world w(GetParam(), "downgrade");
  attack_state s;
  std::atomic<bool> attacking{true};
  w.mitm->set_hook([&](dir d, v2::bytes& f) {
    w.keys.watch(f);
    if (!attacking || d != dir::to_server) return true;
    // The client's handshakes never arrive; a "server" in base mode answers with offers.
    std::lock_guard lock(s.mutex);
    v2::control_block base_mode;
    base_mode.instance = v2::random_id();
    base_mode.offers = w.keys.make(4);
    forge(*w.mitm, s, dir::to_client, 1, base_mode);
    ++s.acted;
    return false;
  });
  // The client has messages queued while the attack lasts (1.5 s, several handshake retries).
  std::thread stop([&] {
    std::this_thread::sleep_for(1500ms);
    attacking = false;
  });
  const auto during = w.c->run("during", 5, bound(8000ms));
  stop.join();
  expect_exactly_once(*w.server, during, false);
  const auto after = w.c->run("after", 10, bound(8000ms));
  expect_exactly_once(*w.server, after, true);
  for (const auto& cap : w.mitm->captures()) {
    if (cap.dir == dir::to_server) {
      EXPECT_EQ(version_of(cap.frame), 2u) << "the client fell back to base mode";
    }
  }
  EXPECT_EQ(w.keys.sealed_to_us(), 0u) << "the client sealed to a base-mode impostor's keys";
  std::lock_guard lock(s.mutex);
  EXPECT_GT(s.acted, 0u);
  EXPECT_GE(w.c->totals().frames_wrong_mode, s.forged_to_client_v1);
  EXPECT_GE(count_events(w.c->events(), event_kind::peer_refused,
                         cryptcom::errc::authentication_required),
            1u)
      << "the client did not report a peer speaking base mode:\n"
      << describe(w.c->events());
}

INSTANTIATE_TEST_SUITE_P(topologies, auth_mitm,
                         ::testing::Values(relay::topology::proxy, relay::topology::broker),
                         shape_name);

}  // namespace
}  // namespace cryptcom::auth_test
