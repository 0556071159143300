"""§10 and §11's worked examples, read from docs/PROTOCOL.md itself, decoded with this package's
codec and opened with its HPKE; and the HPKE against the official RFC 9180 vectors."""

import json
import re

import pytest

import cc_hpke as hpke
from cc_msgpack import enc_uint, enc_bin, Reader, DecodeError
from cc_wire import (ControlBlock, Hello, Limits, OfferedKey, INFO, FrameError, decode_frame,
                     decode_payload, encode_control_frame, encode_payload, data_frame_aad)


def seq(start, n=16):
    return bytes(range(start, start + n))


def hex_dumps(md):
    """Every hex dump of the spec (lines 'OOOO  xx xx ...' in a code block), in order."""
    dumps, current = [], None
    for line in md.splitlines():
        m = re.match(r"^([0-9a-f]{4})  ((?:[0-9a-f]{2} ?)+)$", line)
        if m:
            offset = int(m.group(1), 16)
            data = bytes.fromhex(m.group(2))
            if current is None or offset != len(current[1]) + current[0]:
                current = [offset, bytearray()]
                dumps.append(current)
            current[1] += data
        elif line.startswith("```"):
            current = None
    return [(o, bytes(b)) for o, b in dumps]


@pytest.fixture(scope="module")
def dumps(protocol_md):
    d = hex_dumps(protocol_md)
    # §10 control frame, §10 hello tail (at 0x78), §10 sealed frame, §11 request, §11 reply;
    # §12.8 (authenticated mode): initiate, accept, control frame, data frame.
    assert [(o, len(b)) for o, b in d] == [(0, 120), (0x78, 12), (0, 83), (0, 140), (0, 85),
                                           (0, 158), (0, 92), (0, 73), (0, 118)]
    return [b for _, b in d]


def test_control_frame_example(dumps):
    frame = dumps[0]
    kind, b = decode_frame(frame)
    assert kind == "control"
    assert b.count == 5 and b.hello is None
    assert b.instance == seq(0x00) and b.wanted == 2
    assert b.offers == [OfferedKey(seq(0x10), seq(0x20, 32), 60000)]
    assert b.acks == [seq(0x40)] and b.rejections == [(seq(0x50), 6)]
    # Our encoder writes the same bytes (shortest forms).
    assert encode_control_frame(ControlBlock(seq(0), 2, b.offers, b.acks, b.rejections,
                                             None)) == frame


def test_control_frame_with_hello_example(dumps):
    frame = dumps[0][:3] + b"\x96" + dumps[0][4:] + dumps[1]
    assert len(frame) == 132
    kind, b = decode_frame(frame)
    assert b.hello == Hello(1, 0, 3, 67108864, 1000)
    assert encode_control_frame(ControlBlock(seq(0), 2, b.offers, b.acks, b.rejections,
                                             Hello())) == frame


def test_payload_example():
    pt = bytes.fromhex("92c4026869c400")
    assert decode_payload(pt, 1000) == [b"hi", b""]
    assert encode_payload([b"hi", b""]) == pt


def test_sealed_data_frame_example(dumps):
    frame = dumps[2]
    skR, pkR = hpke.derive_key_pair(seq(0xA0, 32))
    assert pkR.hex() == "1045e1e902b78d7f74c668716b022bd513378d552a526d6533ef16e286749c3d"
    kind, f = decode_frame(frame)
    assert kind == "data" and f.key_id == seq(0x10)
    assert f.reply_key is None and f.control is None
    assert f.aad == frame[:57] and len(f.ciphertext) == 24
    assert f.enc == hpke.derive_key_pair(seq(0xE0, 32))[1]
    pt = hpke.open_base(f.enc, skR, INFO, f.aad, f.ciphertext)
    assert pt == bytes.fromhex("91c40568656c6c6f")
    assert decode_payload(pt, 1000) == [b"hello"]
    # Rebuilt byte for byte from the stated inputs.
    aad = data_frame_aad(seq(0x10), f.enc)
    enc, ct = hpke.seal_base(pkR, INFO, aad, pt, ikmE=seq(0xE0, 32))
    assert aad + enc_bin(ct) == frame
    # Every byte of the associated data is covered: a flipped bit fails the open.
    for i in (0, 3, 0x20, 0x37, 0x38):
        bad = bytearray(f.aad)
        bad[i] ^= 1
        with pytest.raises(hpke.HpkeError):
            hpke.open_base(f.enc, skR, INFO, bytes(bad), f.ciphertext)


def test_envelope_request_reply_example(dumps):
    request, reply = dumps[3], dumps[4]
    skS, pkS = hpke.derive_key_pair(seq(0xA0, 32))
    skQ, pkQ = hpke.derive_key_pair(seq(0xC0, 32))
    assert pkQ.hex() == "0a4244187e020c1b51d51502593322001217c1db3bc91bf837491c9b71807605"

    kind, f = decode_frame(request)
    assert kind == "data" and f.key_id == seq(0x10) and len(f.aad) == 112
    assert f.reply_key == OfferedKey(seq(0x20), pkQ, 60000) and f.control is None
    pt = hpke.open_base(f.enc, skS, INFO, f.aad, f.ciphertext)
    assert pt == bytes.fromhex("92c400c40568656c6c6f")
    assert decode_payload(pt, 1000) == [b"", b"hello"]
    aad = data_frame_aad(seq(0x10), f.enc, f.reply_key)
    enc, ct = hpke.seal_base(pkS, INFO, aad, pt, ikmE=seq(0xE0, 32))
    assert aad + enc_bin(ct) == request

    kind, g = decode_frame(reply)
    assert kind == "data" and g.key_id == seq(0x20) and g.reply_key is None
    assert g.control is None and len(g.aad) == 57
    pt = hpke.open_base(g.enc, skQ, INFO, g.aad, g.ciphertext)
    assert decode_payload(pt, 1000) == [b"", b"world"]
    enc, ct = hpke.seal_base(pkQ, INFO, data_frame_aad(seq(0x20), g.enc), encode_payload(
        [b"", b"world"]), ikmE=seq(0x40, 32))
    assert data_frame_aad(seq(0x20), enc) + enc_bin(ct) == reply


def test_frame_overhead_statement():
    """§10: a one-part message of n bytes makes a frame of n + 78 bytes for n <= 236 and at most
    n + 84 bytes for any n (no reply key, no control block)."""
    _, pk = hpke.generate_key_pair()
    for n, expected in ((64, 142), (1024, 1104), (65536, 65620), (1 << 20, 1048660),
                        (0, 78), (236, 236 + 78)):
        pt = encode_payload([b"x" * n])
        enc, ct = hpke.seal_base(pk, INFO, data_frame_aad(bytes(16), bytes(32)), pt)
        frame = data_frame_aad(bytes(16), enc) + enc_bin(ct)
        assert len(frame) == expected, n


def test_codec_strictness():
    """§2's rules, one case each, through the frame decoder."""
    ok = bytes.fromhex("93 01 01 95 c4 10".replace(" ", "")) + bytes(16) + b"\x00\x90\x90\x90"
    assert decode_frame(ok)[0] == "control"

    def code(buf):
        with pytest.raises(FrameError) as e:
            decode_frame(buf)
        return e.value.code

    assert code(ok + b"\x00") == "malformed_frame"                   # trailing byte
    assert code(b"\x91\x01") == "malformed_frame"                     # outer array < 2
    assert code(b"\x92\x02\x01") == "unsupported_version"             # any layout
    assert code(b"\x93\x01\x03\x90") == "unknown_kind"
    assert code(b"\x92\x01\x01") == "malformed_frame"                 # count checked after kind
    # wide and signed-but-non-negative integer forms are accepted
    assert decode_frame(b"\x93\xd3" + (1).to_bytes(8, "big") + ok[2:])[0] == "control"
    assert decode_frame(b"\x93\xcf" + (1).to_bytes(8, "big") + ok[2:])[0] == "control"
    assert code(b"\x93\xd0\xff" + ok[2:]) == "malformed_frame"        # negative int8
    assert code(b"\x93\x01\x01\x95\xb0" + bytes(16) + b"\x00\x90\x90\x90") == \
        "malformed_frame"                                             # fixstr, not bin
    assert code(b"\x93\x01\x01\x95\xc4\x0f" + bytes(15) + b"\x00\x90\x90\x90") == "malformed_frame"
    assert code(b"\x93\x01\x01\x80") == "malformed_frame"             # a map
    assert code(b"\x93\x01\x01\x95\xc4\x10" + bytes(16) + b"\xc2\x90\x90\x90") == "malformed_frame"
    assert code(b"\x93\x01\x01\x95\xc4\xff" + bytes(16)) == "malformed_frame"  # bin too long
    assert code(b"\x93\x01\x01\xdd\xff\xff\xff\xff") == "malformed_frame"     # cannot fit
    assert code(b"\x93\x01\x01\x95\xc4\x10" + bytes(16) +
                b"\xce\x00\x00\x00\x01\x00" + b"\x90\x90\x90") == "malformed_frame"  # wanted > 2^32-1
    with pytest.raises(FrameError) as e:
        decode_payload(b"\x90", 1000)
    assert e.value.code == "invalid_argument"
    with pytest.raises(FrameError) as e:
        decode_payload(b"\x93\xc4\x00\xc4\x00\xc4\x00", 2)
    assert e.value.code == "limit_exceeded"


def test_hpke_rfc9180_vectors(vectors_file):
    """Base mode (mode 0) of every AEAD in the file: KEM, key schedule, every encryption and
    export. The other modes (PSK, auth) are not used by cryptcom and not implemented here."""
    vectors = [v for v in json.loads(vectors_file.read_text()) if v["mode"] == 0]
    assert {v["aead_id"] for v in vectors} >= {1, 2, 3, 0xFFFF}
    checked = 0
    for v in vectors:
        h = {k: bytes.fromhex(x) for k, x in v.items() if isinstance(x, str)}
        skR, pkR = hpke.derive_key_pair(h["ikmR"])
        skE, pkE = hpke.derive_key_pair(h["ikmE"])
        assert (skR, pkR, skE, pkE) == (h["skRm"], h["pkRm"], h["skEm"], h["pkEm"])
        shared, enc = hpke.encap(pkR, h["ikmE"])
        assert enc == h["enc"] and shared == h["shared_secret"]
        assert hpke.decap(enc, skR) == shared
        ctx, ksc, secret = hpke.key_schedule(0, v["aead_id"], shared, h["info"])
        assert ksc == h["key_schedule_context"] and secret == h["secret"]
        assert ctx.key == h["key"] and ctx.base_nonce == h["base_nonce"]
        assert ctx.exporter_secret == h["exporter_secret"]
        if v["aead_id"] != 0xFFFF:
            rctx, _, _ = hpke.key_schedule(0, v["aead_id"], shared, h["info"])
            for e in v["encryptions"]:
                ct = ctx.seal(bytes.fromhex(e["aad"]), bytes.fromhex(e["pt"]))
                assert ct == bytes.fromhex(e["ct"])
                assert rctx.open(bytes.fromhex(e["aad"]), ct) == bytes.fromhex(e["pt"])
                checked += 1
        for x in v["exports"]:
            assert ctx.export(bytes.fromhex(x["exporter_context"]), x["L"]) == \
                bytes.fromhex(x["exported_value"])
            checked += 1
    assert checked > 300
