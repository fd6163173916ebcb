"""Files streamed to central in a request body (stations' backups, release wheels).

Both are large, both are checked by a SHA-256 the sender names in a header, and neither may
ever be seen half-written: the body goes to a partial file beside its final name, durable,
and takes that name only once its size and digest are right.
"""

import hashlib
import os
from pathlib import Path

from fastapi import HTTPException, Request


async def receive_checked(
    request: Request, final: Path, claimed: str, max_bytes: int, *, too_big: str, mismatch: str
) -> int:
    """Stream `request`'s body into `final`; its size in bytes.

    Over `max_bytes` is a 413 saying `too_big`; a digest other than `claimed` (lower-case hex)
    a 422 saying `mismatch`. Either way nothing is left behind under `final`'s folder."""
    tmp = final.parent / f".{final.name}.partial"
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise HTTPException(413, too_big)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != claimed:
            raise HTTPException(422, mismatch)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return size
