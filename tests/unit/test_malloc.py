import platform

from polysync_batch.malloc import return_large_blocks_to_os


def test_glibc_takes_the_fixed_mmap_threshold():
    libc, _ = platform.libc_ver()
    assert return_large_blocks_to_os() is (libc == "glibc")
