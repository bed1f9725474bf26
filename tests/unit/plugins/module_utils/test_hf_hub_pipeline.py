"""The download pipeline (receive, write, hash on three threads) writes and hashes every byte, in order."""
import errno
import hashlib
import io
import os

import pytest

from ansible_collections.strix.opencode.plugins.module_utils.hf_fetch import Progress, _Pipeline


class Body:
    """A response body that hands out at most `step` bytes per readinto, like a socket."""

    def __init__(self, data, step):
        self.data, self.step, self.offset = data, step, 0

    def readinto(self, view):
        length = min(len(view), self.step, len(self.data) - self.offset)
        view[:length] = self.data[self.offset:self.offset + length]
        self.offset += length
        return length


class ShortWrites(io.BytesIO):
    """A file whose write() takes at most 1000 bytes at a time (writes may be partial)."""

    def write(self, data):
        return io.BytesIO.write(self, bytes(data[:1000]))


class DiskFull(io.BytesIO):
    def __init__(self, room):
        io.BytesIO.__init__(self)
        self.room = room

    def write(self, data):
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return io.BytesIO.write(self, bytes(data))


@pytest.mark.parametrize("step, buffers, size", [(65536, 16, 4096), (1000, 2, 4096), (300000, 3, 100000)])
def test_every_byte_written_and_hashed_in_order(step, buffers, size):
    data = os.urandom(2 * 1024 * 1024 + 333)
    handle, digest, blob = ShortWrites(), hashlib.sha256(), hashlib.sha1()
    pipeline = _Pipeline(handle, [digest, None, blob], buffers=buffers, size=size)
    progress = Progress(None, "dest", len(data), 10)
    copied = pipeline.pump(Body(data, step), progress, 10)
    pipeline.finish()
    assert copied == len(data)
    assert progress.done == 10 + len(data)
    assert handle.getvalue() == data
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    assert blob.hexdigest() == hashlib.sha1(data).hexdigest()


def test_a_write_error_stops_the_download_and_is_raised():
    data = os.urandom(8 * 1024 * 1024)
    body = Body(data, 1024 * 1024)
    pipeline = _Pipeline(DiskFull(3 * 1024 * 1024), [hashlib.sha256()], buffers=2, size=1024 * 1024)
    pipeline.pump(body, Progress(None, "dest", len(data)), 0)
    with pytest.raises(OSError) as error:
        pipeline.finish()
    assert error.value.errno == errno.ENOSPC
    # It stopped reading soon after the error: no more than the buffers in flight past the point of failure.
    assert body.offset <= 6 * 1024 * 1024
