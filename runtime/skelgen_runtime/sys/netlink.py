"""rtnetlink requests for traffic control: what ``tc qdisc``/``tc filter`` send.

A request is a ``tcmsg`` with attributes, sent on an ``AF_NETLINK``/``NETLINK_ROUTE``
socket; the kernel answers with an acknowledgement carrying an errno, and, when asked
to echo, first with the object it made.  A socket belongs to the network namespace
it was opened in, whatever thread later uses it.  Errors stay :class:`OSError`.
"""

from __future__ import annotations

import errno
import itertools
import os
import socket
import struct

from ..lean.records import dataclass

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_ECHO = 0x8
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400

RTM_NEWQDISC = 36
RTM_DELQDISC = 37
RTM_NEWTFILTER = 44
RTM_DELTFILTER = 45

TCA_KIND = 1
TCA_OPTIONS = 2
NLA_F_NESTED = 1 << 15

_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_TCMSG = struct.Struct("=BxxxiIII")  # family, ifindex, handle, parent, info
_NLATTR = struct.Struct("=HH")  # len, type
_RECV_SIZE = 64 * 1024
_sequence = itertools.count(1)


def _align(size: int) -> int:
    return (size + 3) & ~3


def attribute(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    raw = _NLATTR.pack(_NLATTR.size + len(payload), kind) + payload
    return raw.ljust(_align(len(raw)), b"\0")


def nested(kind: int, *attributes: bytes) -> bytes:
    return attribute(kind | NLA_F_NESTED, b"".join(attributes))


def u32_attribute(kind: int, value: int) -> bytes:
    return attribute(kind, struct.pack("=I", value))


def string_attribute(kind: int, value: str) -> bytes:
    return attribute(kind, value.encode() + b"\0")


@dataclass(frozen=True)
class TcMessage:
    """A ``struct tcmsg``: which interface, which object, under which parent."""

    ifindex: int
    handle: int = 0
    parent: int = 0
    info: int = 0

    def pack(self) -> bytes:
        return _TCMSG.pack(
            socket.AF_UNSPEC, self.ifindex, self.handle, self.parent, self.info
        )

    @classmethod
    def unpack(cls, raw: bytes) -> TcMessage:
        _, ifindex, handle, parent, info = _TCMSG.unpack_from(raw)
        return cls(ifindex, handle, parent, info)


class RouteSocket:
    """An rtnetlink socket of the caller's network namespace."""

    def __init__(self) -> None:
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE
        )
        try:
            self._sock.bind((0, 0))
            # Errors come back as acknowledgements, without the request appended.
            self._sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        except OSError:
            self._sock.close()
            raise

    def close(self) -> None:
        self._sock.close()

    def tc_request(
        self, msg_type: int, flags: int, message: TcMessage, *attributes: bytes
    ) -> list[TcMessage]:
        """Send one request and wait for its acknowledgement; returns the ``tcmsg`` of
        what the kernel echoed (with ``NLM_F_ECHO``).  Raises OSError on a refusal."""
        seq = next(_sequence)
        body = message.pack() + b"".join(attributes)
        header = _NLMSGHDR.pack(
            _NLMSGHDR.size + len(body),
            msg_type,
            flags | NLM_F_REQUEST | NLM_F_ACK,
            seq,
            0,
        )
        self._sock.send(header + body)
        echoed: list[TcMessage] = []
        while True:
            data = self._sock.recv(_RECV_SIZE)
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, kind, _, reply_seq, _ = _NLMSGHDR.unpack_from(data, offset)
                if length < _NLMSGHDR.size:
                    raise OSError(errno.EPROTO, "malformed netlink reply")
                payload = data[offset + _NLMSGHDR.size : offset + length]
                offset += _align(length)
                if reply_seq != seq:
                    continue
                if kind == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", payload)
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return echoed
                if kind == NLMSG_DONE:
                    return echoed
                if len(payload) >= _TCMSG.size:
                    echoed.append(TcMessage.unpack(payload))
