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
UNPROVEN_GRANT_RATE = 10026
UNPROVEN_GRANT_BURST = 10027
PEER_RESTART_INTERVAL = 10028
FAILED_OPEN_RATE = 10029
FAILED_OPEN_BURST = 10030
MAX_FAILED_OPENS_PER_KEY = 10031
MAX_REJECTION_RESENDS = 10032
MAX_UNESTABLISHED_PER_CONNECTION = 10033
# Authenticated mode: set on the socket (keyword arguments, setsockopt or attributes) before its
# first bind, connect or send.
IDENTITY_SECRET_KEY = 10034
IDENTITY_PUBLIC_KEY = 10035
SERVER_KEY = 10036
ALLOW_KEY = 10037
ACCEPT_ANY_IDENTITY = 10038
IDENTITY_POLICY = 10039
ZAP = 10040
ZAP_DOMAIN = 10041
ZAP_TIMEOUT = 10042
THROUGH_BROKER = 10043  # a client or worker of a key-blind broker (PROTOCOL.md §11.7)
INSTANCE = 10101  # read-only: 16 bytes
MESSAGES_SENT = 10102  # read-only

FLOW_DEFAULT = -1
FLOW_PUSH = 0
FLOW_PULL = 1
CIPHER_AES_256_GCM = 2
CIPHER_CHACHA20_POLY1305 = 3
POLICY_ANY = 0
POLICY_ALLOW_LIST = 1
POLICY_ASK = 2

EVENT_FRAME_REJECTED = 1
EVENT_MESSAGE_UNDELIVERABLE = 2
EVENT_MESSAGE_REJECTED = 3
EVENT_PEER_RESTARTED = 4
EVENT_MESSAGE_REFUSED = 5
EVENT_MESSAGE_DROPPED = 6
EVENT_TRANSPORT_ERROR = 7
EVENT_PEER_EVICTED = 8
EVENT_PEER_AUTHENTICATED = 9
EVENT_PEER_REFUSED = 10
EVENT_IDENTITY_CHECK = 11

# Event reasons: the protocol's error codes (docs/PROTOCOL.md); Event.reason holds the name.
REASON_OK = 0
REASON_INVALID_ARGUMENT = 1
REASON_MALFORMED_FRAME = 2
REASON_UNSUPPORTED_VERSION = 3
REASON_UNKNOWN_KIND = 4
REASON_UNKNOWN_KEY = 5
REASON_EXPIRED_KEY = 6
REASON_REPLAYED_KEY = 7
REASON_AUTHENTICATION_FAILED = 8
REASON_LOW_ORDER_POINT = 9
REASON_LIMIT_EXCEEDED = 10
REASON_RATE_LIMITED = 11
REASON_OUT_OF_MEMORY = 12
REASON_UNAVAILABLE = 13
REASON_MESSAGE_TOO_LARGE = 14
REASON_UNDELIVERABLE = 15
REASON_INTERNAL = 16
REASON_ACCESS_DENIED = 17
REASON_AUTHENTICATION_REQUIRED = 18

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
    UNPROVEN_GRANT_RATE: "count",
    UNPROVEN_GRANT_BURST: "count",
    PEER_RESTART_INTERVAL: "ms",
    FAILED_OPEN_RATE: "count",
    FAILED_OPEN_BURST: "count",
    MAX_FAILED_OPENS_PER_KEY: "count",
    MAX_REJECTION_RESENDS: "count",
    MAX_UNESTABLISHED_PER_CONNECTION: "count",
    MESSAGES_SENT: "count",
}

# The authenticated-mode options and their values: "key" (32 bytes, or Z85 as 40 characters of
# str or bytes), "int", "bytes" (a string).
AUTH_OPTION_TYPES = {
    IDENTITY_SECRET_KEY: "key",
    IDENTITY_PUBLIC_KEY: "key",
    SERVER_KEY: "key",
    ALLOW_KEY: "key",
    ACCEPT_ANY_IDENTITY: "int",
    IDENTITY_POLICY: "int",
    ZAP: "int",
    ZAP_DOMAIN: "bytes",
    ZAP_TIMEOUT: "int",
    THROUGH_BROKER: "int",
}
AUTH_OPTION_NAMES = {
    name.lower(): value
    for name, value in dict(globals()).items()
    if isinstance(value, int) and value in AUTH_OPTION_TYPES
}

# Keyword argument name -> option number.
OPTION_NAMES = {
    name.lower(): value
    for name, value in dict(globals()).items()
    if isinstance(value, int) and value in OPTION_TYPES and value != MESSAGES_SENT
}
