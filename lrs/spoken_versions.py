"""The xAPI version each client last spoke, shared by the server's workers on one host.

A request without a version header (or with one we do not speak) is refused with a 400, and
the specifications leave the version that refusal speaks open: the two ADL conformance
suites want different ones on the very same request (the 1.0.3 suite 1.0.x, XAPI-00321; the
2.0 suite 2.0.0, XAPI-00331). A client that forgot the header once is best answered in the
version it speaks otherwise, whichever worker heard it: so the memory is a small table of
8-byte words in a memory-mapped file under the data directory (`FILE_NAME`), each word a
56-bit digest of a client's Authorization header (never the header: it holds a secret) and
the version it last spoke. One slot per digest, direct-mapped: a collision or a forgotten
client costs nothing but the default, 1.0.3, because the answer is only a label on a
refusal. Reads and writes are single aligned words, without a lock.

Without a path (an app built in-process with one worker) the table lives in this process.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from core.shared_file import map_file
from lrs.versioning import V1, V2

FILE_NAME = "spoken-versions.table"
SLOTS = 16_384
DEFAULT = V1  # a client not heard from: the refusal is answered in 1.0.3

_WORD = struct.Struct("<Q")
_SIZE = SLOTS * _WORD.size
_CODES = {V1: 1, V2: 2}
_VERSIONS = {code: version for version, code in _CODES.items()}
_DIGESTS_MAX = 10_000  # this process's memo of header -> digest


class SpokenVersions:
    def __init__(self, path: Path | None = None) -> None:
        self._table = bytearray(_SIZE) if path is None else map_file(path, _SIZE)
        # The digest of each header this process has seen, by the header's own (per-process)
        # hash, so the hot path does no hashing beyond the str's cached one.
        self._digests: dict[int, int] = {}

    def heard(self, authorization: str | None, version: str) -> None:
        if authorization is None:
            return
        digest = self._digest(authorization)
        offset = (digest % SLOTS) * _WORD.size
        word = digest << 8 | _CODES[version]
        if _WORD.unpack_from(self._table, offset)[0] != word:
            _WORD.pack_into(self._table, offset, word)

    def refusal_version(self, authorization: str | None) -> str:
        """The version a refusal to this client speaks: the last it spoke, else `DEFAULT`."""
        if authorization is None:
            return DEFAULT
        digest = self._digest(authorization)
        word = _WORD.unpack_from(self._table, (digest % SLOTS) * _WORD.size)[0]
        if word >> 8 != digest:
            return DEFAULT
        return _VERSIONS.get(word & 0xFF, DEFAULT)

    def _digest(self, authorization: str) -> int:
        digest = self._digests.get(hash(authorization))
        if digest is None:
            raw = hashlib.blake2b(authorization.encode(), digest_size=7).digest()
            digest = int.from_bytes(raw, "little")
            if len(self._digests) >= _DIGESTS_MAX:
                self._digests.clear()
            self._digests[hash(authorization)] = digest
        return digest
