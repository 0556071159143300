// An application of cryptcom::zmq built outside cryptcom's tree: a REQ client that sends a few
// messages to an echo server and checks the echoes. Exits 0 when all came back.
#include <cryptcom/zmq/socket.hpp>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer_cpp ENDPOINT\n");
    return 64;
  }
  zmq::context_t ctx;
  cryptcom::zmq::socket client(ctx, zmq::socket_type::req);
  client.set(zmq::sockopt::rcvtimeo, 10000);
  client.connect(argv[1]);
  for (int i = 0; i < 3; ++i) {
    const std::string m = "c++ consumer " + std::to_string(i);
    (void)client.send(zmq::buffer(m));
    zmq::message_t echo;
    if (!client.recv(echo) || echo.to_string() != m) {
      std::fprintf(stderr, "consumer_cpp: echo %d missing or wrong\n", i);
      return 1;
    }
  }
  std::printf("consumer_cpp: 3 echoes intact, %llu messages sealed\n",
              static_cast<unsigned long long>(client.stats().engine.total.messages_sealed));
  return 0;
}
