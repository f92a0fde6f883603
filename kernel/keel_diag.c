// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/ethtool.h>
#include <linux/netdevice.h>

#include "keel.h"

/* Register dump (ethtool -d), layout version 1, in 32-bit words:
 *
 *   word 0        KEEL_REGS_VERSION, also in ethtool_regs.version
 *   words 1-341   the registers of keel_regs_v1, block after block
 *
 * A block is @count registers from @reg, @stride bytes apart. Registers
 * that change when read (ICR, EICR, the statistics counters and the
 * SWSM semaphore) are not dumped. Documentation/keel.rst, "Register
 * dump", lists the word of every register; any change to the list takes
 * a new version.
 */
#define KEEL_REGS_VERSION	1

/**
 * struct keel_regs_block - registers dumped together
 * @reg: offset of the first
 * @count: how many
 * @stride: bytes from one to the next
 */
struct keel_regs_block {
	u32 reg;
	u16 count;
	u16 stride;
};

#define KEEL_REG1(_reg)		{ .reg = (_reg), .count = 1 }
#define KEEL_REGN(_reg, _count, _stride)				\
	{ .reg = (_reg), .count = (_count), .stride = (_stride) }
#define KEEL_QREGS(_reg)	KEEL_REGN(_reg, 16, 0x40)

static const struct keel_regs_block keel_regs_v1[] = {
	KEEL_REG1(KEEL_CTRL),			/* 1 */
	KEEL_REG1(KEEL_STATUS),			/* 2 */
	KEEL_REG1(KEEL_EECD),			/* 3 */
	KEEL_REG1(KEEL_CTRL_EXT),		/* 4 */
	KEEL_REG1(KEEL_MDIC),			/* 5 */
	KEEL_REG1(KEEL_FCAL),			/* 6 */
	KEEL_REG1(KEEL_FCAH),			/* 7 */
	KEEL_REG1(KEEL_FCT),			/* 8 */
	KEEL_REG1(KEEL_VET),			/* 9 */
	KEEL_REG1(KEEL_IMS),			/* 10 */
	KEEL_REG1(KEEL_RCTL),			/* 11 */
	KEEL_REG1(KEEL_FCTTV),			/* 12 */
	KEEL_REG1(KEEL_TCTL),			/* 13 */
	KEEL_REG1(KEEL_TIPG),			/* 14 */
	KEEL_REG1(KEEL_GPIE),			/* 15 */
	KEEL_REG1(KEEL_EIMS),			/* 16 */
	KEEL_REG1(KEEL_EIAC),			/* 17 */
	KEEL_REG1(KEEL_EIAM),			/* 18 */
	KEEL_REGN(KEEL_EITR(0), 10, 4),		/* 19-28 */
	KEEL_REGN(KEEL_IVAR(0), 8, 4),		/* 29-36 */
	KEEL_REG1(KEEL_IVAR_MISC),		/* 37 */
	KEEL_REG1(KEEL_FCRTL),			/* 38 */
	KEEL_REG1(KEEL_FCRTH),			/* 39 */
	KEEL_REG1(KEEL_RXCSUM),			/* 40 */
	KEEL_REG1(KEEL_RLPML),			/* 41 */
	KEEL_REG1(KEEL_RFCTL),			/* 42 */
	KEEL_REGN(KEEL_RAL_LO(0), 32, 4),	/* 43-74: RAL0, RAH0 ... */
	KEEL_REGN(KEEL_RAL_HI(16), 16, 4),	/* 75-90: RAL16, RAH16 ... */
	KEEL_REG1(KEEL_MRQC),			/* 91 */
	KEEL_REGN(KEEL_RETA(0), 32, 4),		/* 92-123 */
	KEEL_REGN(KEEL_RSSRK(0), 10, 4),	/* 124-133 */
	KEEL_QREGS(KEEL_RDBAL(0)),		/* 134-149 */
	KEEL_QREGS(KEEL_RDBAH(0)),		/* 150-165 */
	KEEL_QREGS(KEEL_RDLEN(0)),		/* 166-181 */
	KEEL_QREGS(KEEL_SRRCTL(0)),		/* 182-197 */
	KEEL_QREGS(KEEL_RDH(0)),		/* 198-213 */
	KEEL_QREGS(KEEL_RDT(0)),		/* 214-229 */
	KEEL_QREGS(KEEL_RXDCTL(0)),		/* 230-245 */
	KEEL_QREGS(KEEL_TDBAL(0)),		/* 246-261 */
	KEEL_QREGS(KEEL_TDBAH(0)),		/* 262-277 */
	KEEL_QREGS(KEEL_TDLEN(0)),		/* 278-293 */
	KEEL_QREGS(KEEL_TDH(0)),		/* 294-309 */
	KEEL_QREGS(KEEL_TDT(0)),		/* 310-325 */
	KEEL_QREGS(KEEL_TXDCTL(0)),		/* 326-341 */
};

/**
 * keel_get_regs_len() - size of the register dump
 * @netdev: the device
 *
 * Context: process context, RTNL held.
 * Return: bytes.
 */
int keel_get_regs_len(struct net_device *netdev)
{
	unsigned int i, words = 1;

	for (i = 0; i < ARRAY_SIZE(keel_regs_v1); i++)
		words += keel_regs_v1[i].count;
	return words * sizeof(u32);
}

/**
 * keel_get_regs() - dump the registers in layout version 1
 * @netdev: the device
 * @regs: gets the layout version
 * @p: keel_get_regs_len() bytes
 *
 * Context: process context, RTNL held.
 */
void keel_get_regs(struct net_device *netdev, struct ethtool_regs *regs,
		   void *p)
{
	struct keel_dev *kd = netdev_priv(netdev);
	unsigned int i, j;
	u32 *buf = p;

	regs->version = KEEL_REGS_VERSION;
	*buf++ = KEEL_REGS_VERSION;
	for (i = 0; i < ARRAY_SIZE(keel_regs_v1); i++) {
		const struct keel_regs_block *b = &keel_regs_v1[i];

		for (j = 0; j < b->count; j++)
			*buf++ = keel_rd32(kd, b->reg + j * b->stride);
	}
}

/* EEPROM size from EECD; EERD reaches 16K words */
static unsigned int keel_eeprom_words(struct keel_dev *kd)
{
	u32 size = FIELD_GET(KEEL_EECD_SIZE, keel_rd32(kd, KEEL_EECD));

	return 1U << min(size + 6, 14U);
}

/**
 * keel_get_eeprom_len() - size of the EEPROM
 * @netdev: the device
 *
 * Context: process context, RTNL held.
 * Return: bytes, 0 when the device is gone.
 */
int keel_get_eeprom_len(struct net_device *netdev)
{
	struct keel_dev *kd = netdev_priv(netdev);
	unsigned int words = keel_eeprom_words(kd);

	return keel_present(kd) ? words * 2 : 0;
}

/**
 * keel_get_eeprom() - read EEPROM bytes
 * @netdev: the device
 * @ee: byte offset and length, checked by the core; magic set here
 * @data: @ee->len bytes; each 16-bit word is stored low byte first
 *
 * Context: process context, RTNL held.
 * Return: 0 or an error from the EEPROM read.
 */
int keel_get_eeprom(struct net_device *netdev, struct ethtool_eeprom *ee,
		    u8 *data)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u32 end = ee->offset + ee->len;
	u32 pos = ee->offset;
	int err;

	ee->magic = kd->pdev->vendor | (kd->pdev->device << 16);
	while (pos < end) {
		u16 word;

		err = keel_hw_read_eeprom(kd, pos / 2, &word);
		if (err)
			return err;
		if (pos % 2 == 0)
			data[pos++ - ee->offset] = word & 0xff;
		if (pos < end)
			data[pos++ - ee->offset] = word >> 8;
	}
	return 0;
}
