"""Captures shipped with framekit, for ``framekit decode --sample NAME`` (no network needed).

Each :class:`Sample` names a file in this package and the codec stack that decodes it. A new
sample is a file here and one entry in :data:`SAMPLES`.
"""

from __future__ import annotations

from importlib import resources

import attrs

__all__ = ["SAMPLES", "Sample"]


@attrs.define(frozen=True)
class Sample:
    """A capture: its file in this package, the stack that decodes it, what it is."""

    name: str
    filename: str
    stack: str
    description: str

    def read(self) -> bytes:
        """The sample's bytes."""
        return resources.files(__name__).joinpath(self.filename).read_bytes()


#: Every shipped sample, by name.
SAMPLES: dict[str, Sample] = {
    sample.name: sample
    for sample in [
        Sample(
            "http-chunked-gzip",
            "http-chunked-gzip.bin",
            "chunked,gzip,lines",
            "the body of an HTTP/1.1 response, Transfer-Encoding: chunked and Content-Encoding: "
            "gzip, as it follows the head on the wire: three chunk sizes, a trailer field, "
            "40 JSON lines (http-keep-alive has it with its head)",
        ),
        Sample(
            "http-keep-alive",
            "http-keep-alive.http",
            "http-response:decode-content=yes",
            "three pipelined HTTP/1.1 responses on one connection: the chunked, gzip-encoded "
            "response whose body is http-chunked-gzip (with its trailer), a Content-Length "
            "one, and a 304 Not Modified (no body)",
        ),
        Sample(
            "smtp-replies",
            "smtp-replies.txt",
            "smtp-replies",
            "what an SMTP server sends in one session (greeting, EHLO's multi-line reply, "
            "MAIL, RCPT, DATA, QUIT), CRLF line ends; -s lines:crlf reads it as lines",
        ),
        Sample(
            "resp3-replies",
            "resp3-replies.resp",
            "resp3",
            "replies redis-server 7.0.15 sent over RESP3 (the captures of tests/resp, one after "
            "another): HELLO 3's map, DEBUG PROTOCOL's attribute, push, map, verbatim string, "
            "big number and double, two errors, a pub/sub push",
        ),
        Sample(
            "length-prefixed",
            "length-prefixed.bin",
            "length-prefixed:4",
            "five frames after a 4-byte big-endian length (text, empty, JSON, binary)",
        ),
    ]
}
