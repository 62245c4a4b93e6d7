#!/usr/bin/env python3
"""Writes the seed corpora of the codec fuzz targets (corpus/event_stream, corpus/sse,
corpus/base64). Frames are built here from the format description with struct and zlib.crc32,
independently of the C++ encoder. Rerun after editing; the output is deterministic."""

import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(headers: bytes, payload: bytes) -> bytes:
    prelude = struct.pack(">II", 16 + len(headers) + len(payload), len(headers))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def header(name: bytes, type_: int, value: bytes = b"") -> bytes:
    return bytes([len(name)]) + name + bytes([type_]) + value


def string_header(name: bytes, value: bytes) -> bytes:
    return header(name, 7, struct.pack(">H", len(value)) + value)


def event(event_type: bytes, payload: bytes) -> bytes:
    return frame(string_header(b":event-type", event_type)
                 + string_header(b":content-type", b"application/json")
                 + string_header(b":message-type", b"event"), payload)


def event_stream_seeds():
    all_types = b"".join([
        header(b"t", 0), header(b"f", 1), header(b"b", 2, struct.pack(">b", -2)),
        header(b"s", 3, struct.pack(">h", -300)), header(b"i", 4, struct.pack(">i", 0x12345678)),
        header(b"l", 5, struct.pack(">q", -1234567890123)),
        header(b"y", 6, struct.pack(">H", 3) + b"\x00\x01\xff"), string_header(b"str", b"hi"),
        header(b"ts", 8, struct.pack(">q", 1700000000123)),
        header(b"u", 9, bytes(range(16)))])
    chunk = event(b"chunk", b'{"bytes":"eyJ0eXBlIjoiY29udGVudF9ibG9ja19kZWx0YSJ9"}')
    converse = (event(b"messageStart", b'{"role":"assistant"}')
                + event(b"contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"Hi"}}')
                + event(b"messageStop", b'{"stopReason":"end_turn"}'))
    exception = frame(string_header(b":exception-type", b"throttlingException")
                      + string_header(b":content-type", b"application/json")
                      + string_header(b":message-type", b"exception"), b'{"message":"slow"}')
    bad_prelude = bytearray(chunk)
    bad_prelude[9] ^= 1
    bad_message = bytearray(chunk)
    bad_message[-1] ^= 1
    unknown_type = frame(header(b"x", 10), b"")
    truncated_header = frame(b"\x05ab", b"")
    return {
        "empty_message.bin": frame(b"", b""),
        "all_header_types.bin": frame(all_types, b"{}"),
        "bedrock_chunk.bin": chunk,
        "converse_stream.bin": converse,
        "exception.bin": exception,
        "truncated_stream.bin": converse[:-7],
        "bad_prelude_crc.bin": bytes(bad_prelude),
        "bad_message_crc.bin": bytes(bad_message),
        "unknown_header_type.bin": unknown_type,
        "truncated_header.bin": truncated_header,
        "total_below_minimum.bin": (lambda p: p + struct.pack(">I", zlib.crc32(p)) + bytes(8))(
            struct.pack(">II", 8, 0)),
    }


def sse_seeds():
    return {
        "openai_chunks.txt": b'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'
                             b"data: [DONE]\n\n",
        "crlf_and_cr.txt": b"event: a\r\ndata: 1\r\ndata:2\r\n\r\nid: 7\rdata\r\r",
        "comments_and_fields.txt": b": keep-alive\n\nretry: 100\nfoo: bar\ndata:  x\nevent\n\n",
        "bom.txt": b"\xef\xbb\xbfdata: after bom\n\n",
        "id_with_nul.txt": b"id: 1\ndata: a\n\nid: 2\x00x\ndata: b\n\n",
        "unterminated.txt": b"data: a\ndata: b",
        "long_line.txt": b"data: " + b"x" * 300 + b"\n\n",
        "many_data_lines.txt": b"data: 0123456789\n" * 40 + b"\n",
    }


def base64_seeds():
    return {
        "valid_padded1.txt": b"Zm9vYg==",
        "valid_padded2.txt": b"Zm9vYmE=",
        "valid_unpadded.txt": b"Zm9vYmFy",
        "high_bytes.txt": b"+/+/",
        "non_canonical.txt": b"Zh==",
        "misplaced_padding.txt": b"Zg==Zg==",
        "url_safe.txt": b"-_-_",
        "whitespace.txt": b"Zm9v\nYmFy",
        "binary.bin": bytes(range(256)),
    }


def main():
    for target, seeds in (("event_stream", event_stream_seeds()), ("sse", sse_seeds()),
                          ("base64", base64_seeds())):
        directory = os.path.join(HERE, "corpus", target)
        os.makedirs(directory, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
