/* An application of cryptcom's C API built outside cryptcom's tree: the same client in C99. */
#include <cryptcom.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  void* ctx;
  cryptcom_socket_t* client;
  int i, timeout = 10000, failed = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: consumer_c ENDPOINT\n");
    return 64;
  }
  ctx = zmq_ctx_new();
  client = cryptcom_socket(ctx, ZMQ_REQ);
  if (client == NULL || cryptcom_setsockopt(client, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
      cryptcom_connect(client, argv[1]) != 0) {
    fprintf(stderr, "consumer_c: %s\n", cryptcom_strerror(errno));
    return 1;
  }
  for (i = 0; i < 3 && !failed; ++i) {
    char m[32], echo[32];
    int n;
    snprintf(m, sizeof m, "c consumer %d", i);
    n = cryptcom_send(client, m, strlen(m), 0);
    if (n >= 0) n = cryptcom_recv(client, echo, sizeof echo, 0);
    if (n != (int)strlen(m) || memcmp(m, echo, (size_t)n) != 0) {
      fprintf(stderr, "consumer_c: echo %d missing or wrong: %s\n", i, cryptcom_strerror(errno));
      failed = 1;
    }
  }
  cryptcom_destroy(&client);
  zmq_ctx_term(ctx);
  if (!failed) printf("consumer_c: 3 echoes intact\n");
  return failed;
}
