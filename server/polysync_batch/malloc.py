"""Large request buffers go back to the operating system when freed.

glibc raises its mmap threshold each time a large block is freed (up to 32 MB on 64-bit), after
which 4 MB messages are carved from the heap arenas of whichever gRPC thread received them and
stay in the process's RSS. A caller sending megabyte requests that the service rejects would so
grow the server by tens of MB. Setting the threshold explicitly turns that adjustment off
(mallopt(3)): blocks over 256 KiB are mmapped and unmapped again on free."""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # from <malloc.h>
MMAP_THRESHOLD_BYTES = 256 * 1024


def return_large_blocks_to_os() -> bool:
    """True if the C library took the setting; False where it is not glibc (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
