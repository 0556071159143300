"""The strict msgpack subset of docs/PROTOCOL.md §2, written from that section alone.

Only arrays, unsigned integers (any integer format holding a non-negative value), byte strings
and nil exist. The decoder is schema-driven: the caller says what it expects at each position, and
every violation raises DecodeError naming the byte offset and the field, with the error code of
the spec (malformed_frame unless the caller says otherwise).
"""

import struct


class DecodeError(Exception):
    def __init__(self, code, offset, what):
        super().__init__(f"{code}: offset {offset}: {what}")
        self.code = code
        self.offset = offset
        self.what = what


# ---------------------------------------------------------------------------------------------
# Encoding: shortest forms by default (§2: "Encoders SHOULD write the shortest form"); the
# `width` arguments let tests write longer legal forms on purpose.

def enc_uint(value, width=None):
    """width: None (shortest), 'fix', 'u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64'."""
    if value < 0:
        raise ValueError("uint is non-negative")
    if width is None:
        if value <= 0x7F:
            width = "fix"
        elif value <= 0xFF:
            width = "u8"
        elif value <= 0xFFFF:
            width = "u16"
        elif value <= 0xFFFFFFFF:
            width = "u32"
        else:
            width = "u64"
    table = {
        "u8": (0xCC, ">B"), "u16": (0xCD, ">H"), "u32": (0xCE, ">I"), "u64": (0xCF, ">Q"),
        "i8": (0xD0, ">b"), "i16": (0xD1, ">h"), "i32": (0xD2, ">i"), "i64": (0xD3, ">q"),
    }
    if width == "fix":
        if value > 0x7F:
            raise ValueError("too large for a positive fixint")
        return bytes([value])
    tag, fmt = table[width]
    return bytes([tag]) + struct.pack(fmt, value)


def enc_bin(data, width=None):
    data = bytes(data)
    n = len(data)
    if width is None:
        width = 8 if n <= 0xFF else 16 if n <= 0xFFFF else 32
    if width == 8:
        return b"\xc4" + struct.pack(">B", n) + data
    if width == 16:
        return b"\xc5" + struct.pack(">H", n) + data
    return b"\xc6" + struct.pack(">I", n) + data


def bin_header_size(n):
    return 2 if n <= 0xFF else 3 if n <= 0xFFFF else 5


def enc_array_header(count, width=None):
    if width is None:
        width = "fix" if count <= 15 else 16 if count <= 0xFFFF else 32
    if width == "fix":
        return bytes([0x90 | count])
    if width == 16:
        return b"\xdc" + struct.pack(">H", count)
    return b"\xdd" + struct.pack(">I", count)


NIL = b"\xc0"


# ---------------------------------------------------------------------------------------------
# Decoding

class Reader:
    def __init__(self, buf, pos=0):
        self.buf = memoryview(bytes(buf)) if not isinstance(buf, (bytes, memoryview)) else memoryview(buf)
        self.pos = pos

    def remaining(self):
        return len(self.buf) - self.pos

    def _fail(self, what, code="malformed_frame", offset=None):
        raise DecodeError(code, self.pos if offset is None else offset, what)

    def _take(self, n, what):
        if n > self.remaining():
            self._fail(f"expected {n} more bytes ({what}), {self.remaining()} remain")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return bytes(out)

    def _tag(self, what):
        if self.remaining() < 1:
            self._fail(f"expected {what}, got end of input")
        return self.buf[self.pos]

    def array(self, what, min_elem_size=1):
        """Reads an array header; returns its count. The count is checked against what remains."""
        start = self.pos
        tag = self._tag(f"array ({what})")
        if 0x90 <= tag <= 0x9F:
            self.pos += 1
            count = tag & 0x0F
        elif tag == 0xDC:
            self.pos += 1
            count = struct.unpack(">H", self._take(2, what))[0]
        elif tag == 0xDD:
            self.pos += 1
            count = struct.unpack(">I", self._take(4, what))[0]
        else:
            self._fail(f"expected array ({what}), got type byte 0x{tag:02x}")
        if count * min_elem_size > self.remaining():
            self._fail(f"array of {count} ({what}) cannot fit in {self.remaining()} bytes",
                       offset=start)
        return count

    def uint(self, what, maximum, code="malformed_frame"):
        start = self.pos
        tag = self._tag(f"uint ({what})")
        self.pos += 1
        if tag <= 0x7F:
            value = tag
        elif 0xCC <= tag <= 0xCF:
            size = 1 << (tag - 0xCC)
            value = int.from_bytes(self._take(size, what), "big")
        elif 0xD0 <= tag <= 0xD3:
            size = 1 << (tag - 0xD0)
            value = int.from_bytes(self._take(size, what), "big", signed=True)
            if value < 0:
                self._fail(f"negative value {value} ({what})", offset=start)
        else:
            self._fail(f"expected uint ({what}), got type byte 0x{tag:02x}", offset=start)
        if value > maximum:
            self._fail(f"value {value} above {maximum} ({what})", code=code, offset=start)
        return value

    def bin(self, what, size=None):
        start = self.pos
        tag = self._tag(f"bin ({what})")
        self.pos += 1
        if tag == 0xC4:
            n = self._take(1, what)[0]
        elif tag == 0xC5:
            n = struct.unpack(">H", self._take(2, what))[0]
        elif tag == 0xC6:
            n = struct.unpack(">I", self._take(4, what))[0]
        else:
            self._fail(f"expected bin ({what}), got type byte 0x{tag:02x}", offset=start)
        if n > self.remaining():
            self._fail(f"bin of {n} bytes ({what}) but {self.remaining()} remain", offset=start)
        if size is not None and n != size:
            self._fail(f"expected bin of {size} bytes ({what}), got {n} bytes", offset=start)
        return self._take(n, what)

    def bin_header_at(self):
        """Offset of the next value's first byte (used for the associated data of §5)."""
        return self.pos

    def nil(self):
        """Consumes a nil if one is next; returns whether it did."""
        if self.remaining() >= 1 and self.buf[self.pos] == 0xC0:
            self.pos += 1
            return True
        return False

    def end(self, what="frame"):
        if self.remaining() != 0:
            self._fail(f"{self.remaining()} trailing bytes after the {what}")
