#!/usr/bin/env python3
"""Drive libre's SRTP implementation (the one baresip uses, /lib/x86_64-linux-gnu/libre.so.0)
through ctypes, so our SRTP can be checked against a real peer implementation.

stdin:  {"op": "protect"|"unprotect", "kind": "rtp"|"rtcp", "suite": "<RFC 4568 name>",
         "key": "<hex key||salt>", "packets": ["<hex>", ...]}
stdout: {"results": [{"ok": "<hex>"} | {"error": <errno>}, ...]}
One libre context is used for all packets of a run, so ROC and replay state carry over.
"""
import ctypes
import json
import sys

libre = ctypes.CDLL("libre.so.0")


class Mbuf(ctypes.Structure):
    # struct mbuf of libre 1.x: buffer, size, read/write position, end of data
    _fields_ = [("buf", ctypes.c_void_p), ("size", ctypes.c_size_t), ("pos", ctypes.c_size_t), ("end", ctypes.c_size_t)]


libre.mbuf_alloc.restype = ctypes.POINTER(Mbuf)
libre.mbuf_alloc.argtypes = [ctypes.c_size_t]
libre.mbuf_write_mem.argtypes = [ctypes.POINTER(Mbuf), ctypes.c_char_p, ctypes.c_size_t]
libre.srtp_alloc.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
libre.srtp_suite_name.restype = ctypes.c_char_p
libre.mem_deref.argtypes = [ctypes.c_void_p]
libre.mem_deref.restype = ctypes.c_void_p
for name in ("srtp_encrypt", "srtp_decrypt", "srtcp_encrypt", "srtcp_decrypt"):
    getattr(libre, name).argtypes = [ctypes.c_void_p, ctypes.POINTER(Mbuf)]


def suite_number(name):
    # Find the enum value by asking libre for each value's name instead of assuming the order.
    for value in range(8):
        if libre.srtp_suite_name(value) == name.encode():
            return value
    raise SystemExit(f"libre does not know suite {name}")


def main():
    request = json.load(sys.stdin)
    key = bytes.fromhex(request["key"])
    ctx = ctypes.c_void_p()
    err = libre.srtp_alloc(ctypes.byref(ctx), suite_number(request["suite"]), key, len(key), 0)
    if err:
        raise SystemExit(f"srtp_alloc failed: errno {err}")
    fn = getattr(libre, {("protect", "rtp"): "srtp_encrypt", ("unprotect", "rtp"): "srtp_decrypt",
                         ("protect", "rtcp"): "srtcp_encrypt", ("unprotect", "rtcp"): "srtcp_decrypt"}[
        (request["op"], request["kind"])])
    results = []
    for packet_hex in request["packets"]:
        data = bytes.fromhex(packet_hex)
        mb = libre.mbuf_alloc(4096)
        libre.mbuf_write_mem(mb, data, len(data))
        mb.contents.pos = 0
        err = fn(ctx, mb)
        if err:
            results.append({"error": err})
        else:
            results.append({"ok": ctypes.string_at(mb.contents.buf, mb.contents.end).hex()})
        libre.mem_deref(mb)
    libre.mem_deref(ctx)
    json.dump({"results": results}, sys.stdout)


main()
