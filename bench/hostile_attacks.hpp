// The attacks of `cryptcom_bench --hostile`: issue 9's findings, each as something that can be
// started against a running target and stopped, built from the attacker harness
// (tests/hostile/attacker). One row of the report per attack.
// Not thread-safe: one attack at a time, started and stopped by the runner's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attacker/echo_server.hpp"
#include "cryptcom/zmq/socket_options.hpp"

namespace cryptcom::bench {

// An attack under way. stop() ends what it sends but keeps its connections open, so that what it
// already sent stays queued for the target (issue 9: "the backlog kept the server busy 2 minutes
// after the attacker stopped"); destroying it closes its connections and joins its threads.
class running_attack {
 public:
  virtual ~running_attack() = default;
  virtual void stop() = 0;
  // What the attack did so far, for the report ("40000 frames, 1.2 MB").
  [[nodiscard]] virtual std::string tally() const = 0;
};

struct hostile_attack {
  std::string name;     // the JSON system is "hostile-" + name
  std::string finding;  // which of issue 9's findings it is ("1", "2", ...)
  std::string what;     // one line for the report
  // A new client connects during the attack and its first echo is timed (issue 9: "a new client
  // gets its first echo within 1 s").
  bool times_newcomer = false;
  // Starts the attack against `target` and returns once it is in force (the state it builds,
  // such as forged peers or hoarded keys, is there; a flood is running). Throws
  // std::runtime_error when it cannot.
  std::function<std::unique_ptr<running_attack>(hostile::echo_server& target)> start;
};

// Every attack, in report order.
[[nodiscard]] std::vector<hostile_attack> hostile_attacks();

}  // namespace cryptcom::bench
