#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""PCIe AER state of a device, and software error injection.

  aer.py BDF status          the device's AER status and its Device
                             Control error-reporting enables, as JSON
  aer.py BDF clear           clear the AER status registers (RW1C)
  aer.py BDF inject UNC COR  write an error to /dev/aer_inject
                             (CONFIG_PCIEAER_INJECT): the kernel's AER
                             driver then handles it as if the device had
                             reported it (UNC, COR: status bit masks)
"""

import json
import struct
import sys

PCI_CAP_EXP = 0x10
PCI_EXT_CAP_ERR = 0x1
PCI_EXP_DEVCTL = 8
AER_UNC_STATUS = 4
AER_COR_STATUS = 0x10


def config(bdf, mode="rb"):
    return open(f"/sys/bus/pci/devices/{bdf}/config", mode)


def offsets(c):
    pos, exp = c[0x34], None
    while pos:
        if c[pos] == PCI_CAP_EXP:
            exp = pos
        pos = c[pos + 1]
    pos, aer = 0x100, None
    while pos and pos + 4 <= len(c):
        hdr = struct.unpack_from("<I", c, pos)[0]
        if not hdr:
            break
        if hdr & 0xffff == PCI_EXT_CAP_ERR:
            aer = pos
        pos = (hdr >> 20) & 0xffc
    return exp, aer


def main():
    bdf, cmd = sys.argv[1], sys.argv[2]
    with config(bdf) as f:
        c = f.read()
    exp, aer = offsets(c)
    if exp is None or aer is None:
        sys.exit(f"aer.py: {bdf} has no PCIe or AER capability")
    if cmd == "status":
        print(json.dumps({
            "devctl": struct.unpack_from("<H", c, exp + PCI_EXP_DEVCTL)[0],
            "uncor_status":
                struct.unpack_from("<I", c, aer + AER_UNC_STATUS)[0],
            "cor_status": struct.unpack_from("<I", c, aer + AER_COR_STATUS)[0],
        }))
    elif cmd == "clear":
        with config(bdf, "r+b") as f:
            for off in (AER_UNC_STATUS, AER_COR_STATUS):
                f.seek(aer + off)
                f.write(struct.pack("<I", 0xffffffff))
    elif cmd == "inject":
        dom, bus, rest = bdf.split(":")
        dev, fn = rest.split(".")
        # struct aer_error_inj: three u8 (bus, dev, fn), then u32
        # uncor_status, cor_status, header_log0..3, domain
        einj = struct.pack("BBBxIIIIIII", int(bus, 16), int(dev, 16),
                           int(fn, 16), int(sys.argv[3], 0),
                           int(sys.argv[4], 0), 0, 0, 0, 0, int(dom, 16))
        with open("/dev/aer_inject", "wb", buffering=0) as f:
            f.write(einj)
    else:
        sys.exit(f"aer.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
