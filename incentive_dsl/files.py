"""Reading input files (plans, data, mappings) without trusting the path: regular files only,
never more than a limit.

A FIFO given as a plan or data file would block `open` and `read` forever, `/dev/zero` would
be read until memory runs out, and `st_size` says 0 for both, so a size check before reading
cannot tell. The file is opened without blocking, checked on the open descriptor (no window
for the path to be swapped between the check and the read), and read up to the limit.
"""

from __future__ import annotations

import errno
import os
import stat


class NotRegularFile(OSError):
    """The path names a FIFO, a device or a socket."""


class FileTooLarge(OSError):
    """The file holds more bytes than the reader accepts."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit:,} bytes", path)
        self.limit = limit


def read_regular(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The bytes of the regular file at `path`. Raises FileNotFoundError, IsADirectoryError,
    NotRegularFile, FileTooLarge (more than `limit` bytes) or another OSError (permissions, a
    name too long, a symbolic link loop), with `strerror` saying which."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file (a pipe, a device or a "
                                 "socket)", os.fspath(path))
        chunks, size = [], 0
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            size += len(block)
            if limit is not None and size > limit:
                raise FileTooLarge(os.fspath(path), limit)
            chunks.append(block)
        return b"".join(chunks)
    finally:
        os.close(fd)
