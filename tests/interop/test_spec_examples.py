"""§10 and §11's worked examples, read from docs/PROTOCOL.md itself, decoded with this package's
codec and opened with its HPKE; and the HPKE against the official RFC 9180 vectors."""

import json
import re

import pytest

import cc_auth
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
    assert code(b"\x93\x01\x01\x96" + ok[4:] + b"\xc0") == "malformed_frame"  # nil hello (§4)
    assert Limits().max_frame_bytes == 67387008                        # §7's default
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


# ---------------------------------------------------------------------------------------------
# §12.8: authenticated mode (version 2), rebuilt from its stated inputs with cc_auth (§12.2-3)

AUTH = dict(I_I=seq(0x00), I_R=seq(0x10), N_I=seq(0x20), N_R=seq(0x30))


@pytest.fixture(scope="module")
def auth_keys():
    s_I, S_I = hpke.derive_key_pair(seq(0x40, 32))
    s_R, S_R = hpke.derive_key_pair(seq(0x60, 32))
    return s_I, S_I, s_R, S_R


def test_auth_example_inputs_and_keys(auth_keys):
    s_I, S_I, s_R, S_R = auth_keys
    assert S_I.hex() == "b259f6ee92dcba0111850b13b3f6dccc827726f9b08235ab62922b6b3f3f2a19"
    assert S_R.hex() == "bad762e098446cbcc58b30c7e804f82847b8b911185996582af9f27bfd4e875f"
    assert hpke.derive_key_pair(seq(0x80, 32))[1].hex() == \
        "7af03df159e2d75751c1a88eb5a9e87988f138dce7596ebda3ad7f0bb04a8734"
    # ss is the same from either side; the keys of the table follow from it.
    prk = cc_auth.static_prk(s_I, S_R)
    assert prk == cc_auth.static_prk(s_R, S_I)
    k_init = cc_auth.derive_k_init(prk, S_I, S_R, AUTH["I_I"], AUTH["N_I"])
    th = cc_auth.transcript(S_I, S_R, AUTH["I_I"], AUTH["I_R"], AUTH["N_I"], AUTH["N_R"])
    k_ir, k_ri = cc_auth.derive_session_keys(prk, th)
    assert k_init.hex() == "cfd9dc3cdbe0592e203b4f81591d195a4ab384223c856fcb07362453de8ab62d"
    assert k_ir.hex() == "f395b6f4cd4e2afd24b287a0bb2ff25e587e246c92805b5f00a358f0ee614778"
    assert k_ri.hex() == "9bcf941a37e24936bbd0058537a2f80f814d120178f66c2e19ca0f93306168c0"


def _session(auth_keys):
    s_I, S_I, s_R, S_R = auth_keys
    prk = cc_auth.static_prk(s_I, S_R)
    th = cc_auth.transcript(S_I, S_R, AUTH["I_I"], AUTH["I_R"], AUTH["N_I"], AUTH["N_R"])
    return prk, cc_auth.derive_session_keys(prk, th)


def test_auth_example_initiate(dumps, auth_keys):
    s_I, S_I, s_R, S_R = auth_keys
    frame = dumps[5]
    built, prk, k_init = cc_auth.build_initiate(s_I, S_I, S_R, AUTH["I_I"], AUTH["N_I"],
                                                ikmE=seq(0x80, 32))
    assert built == frame
    f = cc_auth.decode_frame2(frame)
    assert isinstance(f, cc_auth.Initiate)
    assert (f.instance, f.nonce) == (AUTH["I_I"], AUTH["N_I"])
    assert f.identity_aad == frame[:0x4a] and f.covered == frame[:0x7c]
    assert frame[0x4a:0x4c] == b"\xc4\x30" and frame[0x7c:0x7e] == b"\xc4\x20"
    # What the responder does (§12.4 step 2): open the identity with s_R, then verify the MAC.
    assert cc_auth.open_identity(s_R, f) == S_I
    prk_r = cc_auth.static_prk(s_R, S_I)
    assert cc_auth.mac_ok(cc_auth.derive_k_init(prk_r, S_I, S_R, f.instance, f.nonce),
                          f.covered, f.mac)
    # The identity's aad covers the header and enc; the MAC covers the sealed identity too.
    for i in (1, 0x05, 0x17, 0x30):
        bad = bytearray(frame)
        bad[i] ^= 1
        with pytest.raises((hpke.HpkeError, FrameError)):
            cc_auth.open_identity(s_R, cc_auth.decode_frame2(bytes(bad)))
    bad = bytearray(frame)
    bad[0x60] ^= 1
    with pytest.raises(hpke.HpkeError):
        cc_auth.open_identity(s_R, cc_auth.decode_frame2(bytes(bad)))
    assert not cc_auth.mac_ok(k_init, bytes(bad[:0x7c]), f.mac)


def test_auth_example_accept(dumps, auth_keys):
    frame = dumps[6]
    _, (k_ir, k_ri) = _session(auth_keys)
    assert cc_auth.encode_accept(AUTH["I_R"], AUTH["N_R"], AUTH["N_I"], k_ri) == frame
    f = cc_auth.decode_frame2(frame)
    assert isinstance(f, cc_auth.Accept) and f.covered == frame[:0x3a]
    assert (f.instance, f.nonce, f.peer_nonce) == (AUTH["I_R"], AUTH["N_R"], AUTH["N_I"])
    assert cc_auth.mac_ok(k_ri, f.covered, f.mac)
    assert not cc_auth.mac_ok(k_ir, f.covered, f.mac)        # no reflection: other direction


def test_auth_example_control_frame(dumps, auth_keys):
    frame = dumps[7]
    _, (k_ir, k_ri) = _session(auth_keys)
    block = ControlBlock(AUTH["I_I"], 8, [], [], [], Hello(max_version=2))
    assert cc_auth.encode_control2(1, block, k_ir) == frame
    f = cc_auth.decode_frame2(frame)
    assert isinstance(f, cc_auth.Control2) and f.seq == 1 and f.covered == frame[:0x27]
    assert f.block.instance == AUTH["I_I"] and f.block.wanted == 8
    assert f.block.hello == Hello(2, 0, 3, 64 << 20, 1000)
    assert cc_auth.mac_ok(k_ir, f.covered, f.mac) and not cc_auth.mac_ok(k_ri, f.covered, f.mac)


def test_auth_example_data_frame(dumps, auth_keys):
    frame = dumps[8]
    _, (k_ir, _) = _session(auth_keys)
    skK, pkK = hpke.derive_key_pair(seq(0xA0, 32))
    pt = bytes.fromhex("91c40568656c6c6f")
    assert cc_auth.seal_data2(2, seq(0x10), pkK, pt, k_ir, ikmE=seq(0xE0, 32)) == frame
    f = cc_auth.decode_frame2(frame)
    assert isinstance(f, cc_auth.Data2) and f.seq == 2 and f.key_id == seq(0x10)
    assert f.reply_key is None and f.control is None
    assert f.covered == frame[:0x3a] and f.aad == frame[:0x5c] and len(f.ciphertext) == 24
    assert cc_auth.mac_ok(k_ir, f.covered, f.mac)
    assert hpke.open_base(f.enc, skK, cc_auth.INFO_DATA, f.aad, f.ciphertext) == pt
    # The version 1 info does not open it, and the MAC is inside the associated data.
    with pytest.raises(hpke.HpkeError):
        hpke.open_base(f.enc, skK, INFO, f.aad, f.ciphertext)
    bad = bytearray(f.aad)
    bad[0x40] ^= 1
    with pytest.raises(hpke.HpkeError):
        hpke.open_base(f.enc, skK, cc_auth.INFO_DATA, bytes(bad), f.ciphertext)


def test_auth_codec_strictness(dumps):
    """§12.2: header, version, kind, step, then the count; seq >= 1; mac of 32 bytes; refuse
    reason 1-255; no trailing byte. Version 1 frames are told apart by their version."""
    initiate, accept, control, data = dumps[5:9]

    def code(buf):
        with pytest.raises(FrameError) as e:
            cc_auth.decode_frame2(buf)
        return e.value.code

    assert code(control + b"\x00") == "malformed_frame"
    assert code(accept[:-1]) == "malformed_frame"
    assert code(b"\x94\x02\x03\x04" + accept[4:22]) == "malformed_frame"        # step 4
    assert code(b"\x94\x02\x03\x02" + accept[4:]) == "malformed_frame"          # accept of 4
    assert code(b"\x95\x02\x01\x00" + control[4:]) == "malformed_frame"         # seq 0
    assert code(b"\x95\x02\x04" + control[3:]) == "unknown_kind"
    assert code(b"\x99\x02\x01" + control[3:]) == "malformed_frame"             # count after kind
    assert code(control[:0x27] + b"\xc4\x1f" + control[0x29:]) == "malformed_frame"  # mac 31
    with pytest.raises(cc_auth.VersionError) as e:
        cc_auth.decode_frame2(dumps[0])
    assert e.value.version == 1
    # A wide seq is accepted (§2), and the hello_request has no MAC.
    wide = b"\x95\x02\x01\xcf" + (1).to_bytes(8, "big") + control[4:]
    assert cc_auth.decode_frame2(wide).seq == 1
    assert cc_auth.decode_frame2(cc_auth.encode_hello_request(seq(0x10))) == \
        cc_auth.HelloRequest(seq(0x10))
    refuse = cc_auth.encode_refuse(seq(0x10), seq(0x30), seq(0x20), 17, bytes(32))
    assert cc_auth.decode_frame2(refuse).reason == 17
    assert code(cc_auth.encode_refuse(seq(0x10), seq(0x30), seq(0x20), 0, bytes(32))) == \
        "malformed_frame"
    assert code(cc_auth.encode_refuse(seq(0x10), seq(0x30), seq(0x20), 256, bytes(32))) == \
        "malformed_frame"
