"""cryptcom's numbers, as cryptcom.h defines them (tests/test_constants.py checks they agree)."""

# cryptcom's own options: set at construction (keyword arguments of cryptcom.Socket, named in
# lower case: key_ttl=30000), read with getsockopt(cryptcom.KEY_TTL).
FLOW = 10001
CIPHER = 10002
KEY_TTL = 10003
EXPIRY_MARGIN = 10004
POOL_TARGET = 10005
POOL_LOW_WATERMARK = 10006
MAX_KEYS_PER_PEER = 10007
MAX_KEYS_TOTAL = 10008
KEY_GRANT_RATE = 10009
MAX_MESSAGE_SIZE = 10010
MAX_PARTS = 10011
MAX_QUEUED_PER_PEER = 10012
MAX_UNACKNOWLEDGED_PER_PEER = 10013
RETRANSMIT_AFTER = 10014
DELIVERY_TIMEOUT = 10015
ACK_DELAY = 10016
ACK_BATCH = 10017
KEY_REQUEST_RETRY = 10018
KEY_POOL_CAPACITY = 10019
KEY_POOL_LOW_WATERMARK = 10020
KEY_POOL_THREADS = 10021
PREFETCH_KEYS = 10022
MAX_EVENTS = 10023
MAX_PEERS = 10024
PEER_IDLE_TIMEOUT = 10025
INSTANCE = 10101  # read-only: 16 bytes
MESSAGES_SENT = 10102  # read-only

FLOW_DEFAULT = -1
FLOW_PUSH = 0
FLOW_PULL = 1
CIPHER_AES_256_GCM = 2
CIPHER_CHACHA20_POLY1305 = 3

EVENT_FRAME_REJECTED = 1
EVENT_MESSAGE_UNDELIVERABLE = 2
EVENT_MESSAGE_REJECTED = 3
EVENT_PEER_RESTARTED = 4
EVENT_MESSAGE_REFUSED = 5
EVENT_MESSAGE_DROPPED = 6
EVENT_TRANSPORT_ERROR = 7

# The C type of each own option: "int" (choices, booleans), "ms" (int64_t milliseconds),
# "count" (uint64_t).
OPTION_TYPES = {
    FLOW: "int",
    CIPHER: "int",
    KEY_TTL: "ms",
    EXPIRY_MARGIN: "ms",
    POOL_TARGET: "count",
    POOL_LOW_WATERMARK: "count",
    MAX_KEYS_PER_PEER: "count",
    MAX_KEYS_TOTAL: "count",
    KEY_GRANT_RATE: "count",
    MAX_MESSAGE_SIZE: "count",
    MAX_PARTS: "count",
    MAX_QUEUED_PER_PEER: "count",
    MAX_UNACKNOWLEDGED_PER_PEER: "count",
    RETRANSMIT_AFTER: "ms",
    DELIVERY_TIMEOUT: "ms",
    ACK_DELAY: "ms",
    ACK_BATCH: "count",
    KEY_REQUEST_RETRY: "ms",
    KEY_POOL_CAPACITY: "count",
    KEY_POOL_LOW_WATERMARK: "count",
    KEY_POOL_THREADS: "count",
    PREFETCH_KEYS: "int",
    MAX_EVENTS: "count",
    MAX_PEERS: "count",
    PEER_IDLE_TIMEOUT: "ms",
    MESSAGES_SENT: "count",
}

# Keyword argument name -> option number.
OPTION_NAMES = {
    name.lower(): value
    for name, value in dict(globals()).items()
    if isinstance(value, int) and value in OPTION_TYPES and value != MESSAGES_SENT
}
