#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Run one of the kernel's driver selftests, unmodified, with the gaps of
the 6.12 library bridged.

Usage: ksft_env.py TEST.py [ARGS...]

6.12's drivers/net/hw/csum.py hands cfg.remote_ifname to the peer's csum
helper, but 6.12's NetDrvEpEnv never sets that attribute (later kernels
look it up). Here every NetDrvEpEnv gets it, found the way later kernels
do: the remote interface that holds the remote address. The test then
runs as its own __main__, exactly as 'python3 TEST.py' would run it.
"""

import runpy
import sys
from pathlib import Path


def main():
    """Patch the environment class, then hand over to the test."""
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2])
    test = Path(sys.argv[1]).resolve()
    # The test names its KTAP lines after argv[0], and imports lib.py
    # from its own directory.
    sys.argv = [str(test)] + sys.argv[2:]
    sys.path.insert(0, str(test.parent))

    # pylint: disable-next=import-error,import-outside-toplevel
    from lib.py import NetDrvEpEnv, ip

    plain_init = NetDrvEpEnv.__init__

    def remote_ifname(cfg):
        addr = cfg.remote_v6 or cfg.remote_v4
        links = ip(f"addr show to {addr}", json=True, host=cfg.remote)
        if not links:
            raise RuntimeError(f"no remote interface holds {addr}")
        return links[0]["ifname"]

    def init(self, *args, **kwargs):
        plain_init(self, *args, **kwargs)
        if not hasattr(self, "remote_ifname"):
            self.remote_ifname = remote_ifname(self)

    NetDrvEpEnv.__init__ = init
    runpy.run_path(str(test), run_name="__main__")


if __name__ == "__main__":
    main()
