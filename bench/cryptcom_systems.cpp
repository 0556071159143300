// cryptcom's own rows. The transport (cryptcom::zmq::socket, transports/zmq) is not ready yet;
// when it is, bench/CMakeLists.txt links cryptcom_zmq into cryptcom_bench_support and this file
// gains two socket policies (see zmq_loops.hpp for what a policy is), e.g.
//
//   struct cryptcom_push_policy {
//     using socket_type = cryptcom::zmq::socket;
//     socket_type make_socket(zmq::context_t& ctx, zmq::socket_type type, endpoint_role role);
//   };
//
// listed below as pattern_system<cryptcom_push_policy>("cryptcom-push", ...) and likewise for
// "cryptcom-pull". The runner, the report, the JSON and the plot pick them up by name.

#include "system.hpp"

namespace cryptcom::bench {

system_list make_cryptcom_systems() { return {}; }

}  // namespace cryptcom::bench
