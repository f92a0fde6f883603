// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/iopoll.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

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

/* Self-tests */

enum keel_test {
	KEEL_TEST_REG,
	KEEL_TEST_EEPROM,
	KEEL_TEST_IRQ,
	KEEL_TEST_LOOPBACK,
	KEEL_TEST_LINK,
	KEEL_TEST_NUM,
};

static const char keel_test_names[KEEL_TEST_NUM][ETH_GSTRING_LEN] = {
	[KEEL_TEST_REG]		= "register test (offline)",
	[KEEL_TEST_EEPROM]	= "eeprom test (offline)",
	[KEEL_TEST_IRQ]		= "interrupt test (offline)",
	[KEEL_TEST_LOOPBACK]	= "mac loopback test (offline)",
	[KEEL_TEST_LINK]	= "link test (online)",
};

/**
 * keel_diag_test_count() - number of self-tests
 *
 * Return: the count.
 */
int keel_diag_test_count(void)
{
	return KEEL_TEST_NUM;
}

/**
 * keel_diag_test_strings() - names of the self-tests
 * @data: where the names go; moved past them
 */
void keel_diag_test_strings(u8 **data)
{
	unsigned int i;

	for (i = 0; i < KEEL_TEST_NUM; i++)
		ethtool_puts(data, keel_test_names[i]);
}

/**
 * struct keel_reg_test - a register of the register test
 * @reg: its offset
 * @mask: the bits that read back what was written
 */
struct keel_reg_test {
	u32 reg;
	u32 mask;
};

/* Registers that keep what is written while the device is idle and that
 * have no side effect: queue 0's ring registers (the queue is disabled
 * first, so no tail write starts a descriptor fetch), a receive address,
 * a multicast and a VLAN table entry, and the flow control settings.
 */
static const struct keel_reg_test keel_reg_tests[] = {
	{ KEEL_FCAL, GENMASK(31, 0) },
	{ KEEL_FCAH, GENMASK(15, 0) },
	{ KEEL_FCT, GENMASK(15, 0) },
	{ KEEL_FCTTV, GENMASK(15, 0) },
	{ KEEL_RAL_LO(1), GENMASK(31, 0) },
	{ KEEL_RAL_LO(1) + KEEL_RAH_OFF, KEEL_RAH_ADDR },
	{ KEEL_MTA(0), GENMASK(31, 0) },
	{ KEEL_VFTA(0), GENMASK(31, 0) },
	{ KEEL_RDBAL(0), GENMASK(31, 7) },
	{ KEEL_RDBAH(0), GENMASK(31, 0) },
	{ KEEL_RDLEN(0), GENMASK(19, 7) },
	{ KEEL_RDT(0), GENMASK(15, 0) },
	{ KEEL_TDBAL(0), GENMASK(31, 7) },
	{ KEEL_TDBAH(0), GENMASK(31, 0) },
	{ KEEL_TDLEN(0), GENMASK(19, 7) },
	{ KEEL_TDT(0), GENMASK(15, 0) },
};

static bool keel_reg_check(struct keel_dev *kd, const struct keel_reg_test *t,
			   u32 pattern)
{
	u32 val;

	keel_wr32(kd, t->reg, pattern & t->mask);
	val = keel_rd32(kd, t->reg) & t->mask;
	if (val == (pattern & t->mask))
		return true;

	netdev_err(kd->netdev,
		   "register %#07x: wrote %#010x, read back %#010x (mask %#010x)\n",
		   t->reg, pattern & t->mask, val, t->mask);
	return false;
}

/* Fixed patterns, then a walking one; returns the failing register */
static u64 keel_test_registers(struct keel_dev *kd)
{
	static const u32 patterns[] = {
		0x5A5A5A5A, 0xA5A5A5A5, 0x00000000, 0xFFFFFFFF,
	};
	u32 saved[ARRAY_SIZE(keel_reg_tests)];
	unsigned int i, j;
	u64 failed = 0;
	u32 val;

	/* Queue 0 is enabled out of reset */
	keel_wr32(kd, KEEL_TXDCTL(0), 0);
	keel_wr32(kd, KEEL_RXDCTL(0), 0);
	if (read_poll_timeout(keel_rd32, val, !(val & KEEL_RXDCTL_ENABLE),
			      10, 10 * USEC_PER_MSEC, false, kd,
			      KEEL_RXDCTL(0)))
		return KEEL_RXDCTL(0);

	for (i = 0; i < ARRAY_SIZE(keel_reg_tests); i++)
		saved[i] = keel_rd32(kd, keel_reg_tests[i].reg);

	for (i = 0; i < ARRAY_SIZE(keel_reg_tests) && !failed; i++) {
		const struct keel_reg_test *t = &keel_reg_tests[i];

		for (j = 0; j < ARRAY_SIZE(patterns) && !failed; j++)
			if (!keel_reg_check(kd, t, patterns[j]))
				failed = t->reg;
		for (j = 0; j < 32 && !failed; j++) {
			if (!(BIT(j) & t->mask))
				continue;
			if (!keel_reg_check(kd, t, BIT(j)))
				failed = t->reg;
		}
	}

	for (i = 0; i < ARRAY_SIZE(keel_reg_tests); i++)
		keel_wr32(kd, keel_reg_tests[i].reg, saved[i]);

	if (!keel_present(kd))
		return 1;
	return failed;
}

static u64 keel_test_eeprom(struct keel_dev *kd)
{
	bool valid;
	int err;

	err = keel_hw_eeprom_checksum(kd, &valid);
	if (err) {
		netdev_err(kd->netdev, "EEPROM read failed: %d\n", err);
		return 2;
	}
	if (!valid) {
		netdev_err(kd->netdev, "EEPROM checksum is not %#06x\n",
			   KEEL_EEPROM_CSUM);
		return 1;
	}
	return 0;
}

/* Wait up to @ms for an interrupt counter to move */
static bool keel_irq_seen(const u32 *count, u32 old, unsigned int ms)
{
	u32 now;

	return !read_poll_timeout(READ_ONCE, now, now != old, USEC_PER_MSEC,
				  ms * USEC_PER_MSEC, false, *count);
}

/* Fire one vector through EICS, masked and unmasked */
static bool keel_test_vector(struct keel_dev *kd, u32 eims, const u32 *count)
{
	u32 old = READ_ONCE(*count);

	/* Masked, the cause stays pending and no message goes out */
	keel_wr32(kd, KEEL_EICS, eims);
	keel_wrfl(kd);
	if (keel_irq_seen(count, old, 20)) {
		netdev_err(kd->netdev, "vector %#x fired while masked\n", eims);
		return false;
	}
	keel_wr32(kd, KEEL_EICR, eims);

	keel_wr32(kd, KEEL_EIMS, eims);
	keel_wr32(kd, KEEL_EICS, eims);
	keel_wrfl(kd);
	if (!keel_irq_seen(count, old, 1000)) {
		netdev_err(kd->netdev, "vector %#x did not fire\n", eims);
		keel_wr32(kd, KEEL_EIMC, eims);
		return false;
	}
	keel_wr32(kd, KEEL_EIMC, eims);
	return true;
}

/* On a running datapath: nothing unmasks a vector but the test */
static u64 keel_test_interrupts(struct keel_dev *kd)
{
	u64 failed = 0;
	unsigned int i;

	set_bit(KEEL_STATE_DOWN, kd->state);
	keel_irq_disable(kd);
	/* Each cause clears when its message is sent */
	keel_wr32(kd, KEEL_EIAC, kd->eims_other | kd->eims_queues);

	if (!keel_test_vector(kd, kd->eims_other, &kd->other_irqs))
		failed = 1;
	for (i = 0; i < kd->num_queues && !failed; i++)
		if (!keel_test_vector(kd, kd->nv[i]->eims,
				      &kd->qirq[i].count))
			failed = 1;

	keel_irq_disable(kd);
	clear_bit(KEEL_STATE_DOWN, kd->state);
	keel_irq_enable(kd);
	return failed;
}

/* MAC loopback: frames of a local experimental ether type, sent to our
 * own address through the driver and counted when they come back
 */
#define KEEL_LB_FRAMES		32
#define KEEL_LB_MAGIC		0x4b45454c	/* "KEEL" */
#define KEEL_LB_HDR		8		/* magic, sequence number */

static const u16 keel_lb_sizes[] = { ETH_ZLEN, 128, 594, ETH_FRAME_LEN };

/**
 * struct keel_lb - state of a loopback test
 * @pt: receive hook for the test ether type on the device
 * @seen: sequence numbers received intact
 * @good: frames received intact, once each
 * @bad: frames received damaged, twice or unknown
 */
struct keel_lb {
	struct packet_type pt;
	DECLARE_BITMAP(seen, KEEL_LB_FRAMES);
	atomic_t good;
	atomic_t bad;
};

/* Frame length without FCS */
static unsigned int keel_lb_len(const struct net_device *netdev, u32 seq)
{
	unsigned int len = keel_lb_sizes[seq % ARRAY_SIZE(keel_lb_sizes)];

	return min(len, READ_ONCE(netdev->mtu) + ETH_HLEN);
}

static u8 keel_lb_byte(u32 seq, unsigned int off)
{
	return seq * 7 + off;
}

static bool keel_lb_valid(struct sk_buff *skb, u32 *seqp)
{
	unsigned int off, i, chunk;
	u8 buf[64];
	const u8 *p;
	u32 seq;

	p = skb_header_pointer(skb, 0, KEEL_LB_HDR, buf);
	if (!p || get_unaligned_be32(p) != KEEL_LB_MAGIC)
		return false;
	seq = get_unaligned_be32(p + 4);
	if (seq >= KEEL_LB_FRAMES ||
	    skb->len != keel_lb_len(skb->dev, seq) - ETH_HLEN)
		return false;

	for (off = KEEL_LB_HDR; off < skb->len; off += chunk) {
		chunk = min_t(unsigned int, sizeof(buf), skb->len - off);
		p = skb_header_pointer(skb, off, chunk, buf);
		if (!p)
			return false;
		for (i = 0; i < chunk; i++)
			if (p[i] != keel_lb_byte(seq, off + i))
				return false;
	}
	*seqp = seq;
	return true;
}

static int keel_lb_rcv(struct sk_buff *skb, struct net_device *netdev,
		       struct packet_type *pt, struct net_device *orig_dev)
{
	struct keel_lb *lb = container_of(pt, struct keel_lb, pt);
	u32 seq;

	if (keel_lb_valid(skb, &seq) && !test_and_set_bit(seq, lb->seen))
		atomic_inc(&lb->good);
	else
		atomic_inc(&lb->bad);
	consume_skb(skb);
	return NET_RX_SUCCESS;
}

static struct sk_buff *keel_lb_frame(struct net_device *netdev, u32 seq)
{
	unsigned int len = keel_lb_len(netdev, seq);
	struct sk_buff *skb;
	struct ethhdr *eth;
	unsigned int i;
	u8 *data;

	skb = alloc_skb(NET_IP_ALIGN + len, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, NET_IP_ALIGN);

	eth = skb_put(skb, ETH_HLEN);
	ether_addr_copy(eth->h_dest, netdev->dev_addr);
	ether_addr_copy(eth->h_source, netdev->dev_addr);
	eth->h_proto = htons(ETH_P_802_EX1);

	data = skb_put(skb, len - ETH_HLEN);
	put_unaligned_be32(KEEL_LB_MAGIC, data);
	put_unaligned_be32(seq, data + 4);
	for (i = KEEL_LB_HDR; i < len - ETH_HLEN; i++)
		data[i] = keel_lb_byte(seq, i);

	skb_reset_mac_header(skb);
	skb->dev = netdev;
	skb->protocol = eth->h_proto;
	skb_set_queue_mapping(skb, 0);
	return skb;
}

/* Straight to the driver, past the qdisc that a carrier change may
 * have stopped: queue 0 as the stack would use it
 */
static int keel_lb_xmit(struct net_device *netdev, u32 seq)
{
	struct netdev_queue *txq = netdev_get_tx_queue(netdev, 0);
	netdev_tx_t rc = NETDEV_TX_BUSY;
	struct sk_buff *skb;
	unsigned int tries;

	skb = keel_lb_frame(netdev, seq);
	if (!skb)
		return -ENOMEM;

	for (tries = 0; tries < 100; tries++) {
		__netif_tx_lock_bh(txq);
		if (!netif_xmit_frozen_or_stopped(txq))
			rc = netdev_start_xmit(skb, netdev, txq, false);
		__netif_tx_unlock_bh(txq);
		if (dev_xmit_complete(rc))
			return rc == NETDEV_TX_OK ? 0 : -EIO;
		usleep_range(1000, 2000);
	}
	kfree_skb(skb);
	return -EBUSY;
}

/* Loop TX into RX inside the MAC. The MAC is forced to 1000 Mb/s full
 * duplex with the link up, as MAC loopback needs; only frames to our
 * own address are let in, so nothing the stack sends meanwhile comes
 * back to it.
 */
static void keel_lb_enable(struct keel_dev *kd)
{
	unsigned int i;
	u32 ctrl, rctl;

	ctrl = keel_rd32(kd, KEEL_CTRL) & ~KEEL_CTRL_SPEED;
	ctrl |= FIELD_PREP(KEEL_CTRL_SPEED, KEEL_CTRL_SPEED_1000) |
		KEEL_CTRL_FRCSPD | KEEL_CTRL_FRCDPX | KEEL_CTRL_FD |
		KEEL_CTRL_SLU;
	keel_wr32(kd, KEEL_CTRL, ctrl);

	for (i = 1; i < KEEL_RAR_ENTRIES; i++)
		keel_hw_clear_rar(kd, i);
	for (i = 0; i < KEEL_MTA_ENTRIES; i++)
		keel_wr32(kd, KEEL_MTA(i), 0);
	rctl = keel_rd32(kd, KEEL_RCTL);
	rctl &= ~(KEEL_RCTL_LBM | KEEL_RCTL_UPE | KEEL_RCTL_MPE |
		  KEEL_RCTL_BAM);
	rctl |= FIELD_PREP(KEEL_RCTL_LBM, KEEL_RCTL_LBM_MAC);
	keel_wr32(kd, KEEL_RCTL, rctl);
	keel_wrfl(kd);
}

static u64 keel_test_loopback(struct keel_dev *kd)
{
	struct net_device *netdev = kd->netdev;
	struct keel_lb *lb;
	int good, bad, err;
	u32 seq, status;
	u64 failed = 0;

	lb = kzalloc(sizeof(*lb), GFP_KERNEL);
	if (!lb)
		return 1;
	lb->pt.type = htons(ETH_P_802_EX1);
	lb->pt.dev = netdev;
	lb->pt.func = keel_lb_rcv;

	keel_lb_enable(kd);
	/* The forced link is up at once on silicon; QEMU ignores CTRL.SLU
	 * and receives only once its autonegotiation is done.
	 */
	if (read_poll_timeout(keel_rd32, status, status & KEEL_STATUS_LU,
			      10 * USEC_PER_MSEC, 5 * USEC_PER_SEC, false,
			      kd, KEEL_STATUS))
		netdev_warn(netdev, "loopback test: no link indication\n");

	dev_add_pack(&lb->pt);
	for (seq = 0; seq < KEEL_LB_FRAMES; seq++) {
		err = keel_lb_xmit(netdev, seq);
		if (err) {
			netdev_err(netdev, "loopback frame %u not sent: %d\n",
				   seq, err);
			failed = 1;
			break;
		}
	}
	read_poll_timeout(atomic_read, good, good + atomic_read(&lb->bad) >=
			  seq, 10 * USEC_PER_MSEC, 2 * USEC_PER_SEC, false,
			  &lb->good);
	/* No receive hook runs after this */
	dev_remove_pack(&lb->pt);

	good = atomic_read(&lb->good);
	bad = atomic_read(&lb->bad);
	if (good != KEEL_LB_FRAMES || bad) {
		netdev_err(netdev,
			   "loopback test: %d of %u frames back intact, %d bad\n",
			   good, KEEL_LB_FRAMES, bad);
		failed = 1;
	}
	kfree(lb);
	return failed;
}

static u64 keel_test_link(struct keel_dev *kd)
{
	u8 duplex;
	u32 speed;

	return keel_hw_link_up(kd, &speed, &duplex) ? 0 : 1;
}

/* The device state keel_open() expects after a reset */
static void keel_diag_hw_init(struct keel_dev *kd)
{
	int err;

	keel_hw_driver_loaded(kd, true);
	keel_hw_set_rar(kd, 0, kd->netdev->dev_addr);
	err = keel_hw_setup_link(kd);
	if (err)
		netdev_warn(kd->netdev, "PHY setup failed: %d\n", err);
}

static void keel_test_offline(struct keel_dev *kd, u64 *data)
{
	const struct net_device_ops *ops = kd->netdev->netdev_ops;
	struct net_device *netdev = kd->netdev;
	bool was_up = test_bit(KEEL_STATE_UP, kd->state);
	int err;

	netif_info(kd, hw, netdev, "offline self-test, traffic stops\n");
	if (was_up)
		ops->ndo_stop(netdev);

	keel_hw_reset(kd);
	data[KEEL_TEST_REG] = keel_test_registers(kd);
	keel_hw_reset(kd);
	data[KEEL_TEST_EEPROM] = keel_test_eeprom(kd);

	/* The interrupt and loopback tests run on the real datapath */
	keel_diag_hw_init(kd);
	err = ops->ndo_open(netdev);
	if (err) {
		netdev_err(netdev, "self-test cannot start the datapath: %d\n",
			   err);
		data[KEEL_TEST_IRQ] = 1;
		data[KEEL_TEST_LOOPBACK] = 1;
	} else {
		data[KEEL_TEST_IRQ] = keel_test_interrupts(kd);
		data[KEEL_TEST_LOOPBACK] = keel_test_loopback(kd);
		ops->ndo_stop(netdev);
	}

	keel_hw_reset(kd);
	keel_diag_hw_init(kd);
	if (!was_up)
		return;
	err = ops->ndo_open(netdev);
	if (err) {
		netdev_err(netdev, "restart after the self-test failed: %d\n",
			   err);
		dev_close(netdev);
	}
}

/**
 * keel_self_test() - ethtool -t
 * @netdev: the device
 * @test: ETH_TEST_FL_OFFLINE asks for the offline tests too; gets
 *	ETH_TEST_FL_FAILED when a test fails
 * @data: one result per test, 0 when it passed or did not run
 *
 * The link test reads the link state. The offline tests stop the
 * datapath as a reset does, test the registers and the EEPROM on the
 * idle device, then start the datapath again with fresh rings to fire
 * every interrupt vector and to send frames through MAC loopback, and
 * end with a reset that leaves the device as it was: running, or down
 * if the interface was down. The link renegotiates afterwards.
 *
 * Context: process context, RTNL held.
 */
void keel_self_test(struct net_device *netdev, struct ethtool_test *test,
		    u64 *data)
{
	struct keel_dev *kd = netdev_priv(netdev);
	unsigned int i;

	memset(data, 0, KEEL_TEST_NUM * sizeof(*data));
	if (!keel_present(kd)) {
		for (i = 0; i < KEEL_TEST_NUM; i++)
			data[i] = 1;
		test->flags |= ETH_TEST_FL_FAILED;
		return;
	}

	/* First: the offline tests renegotiate the link */
	data[KEEL_TEST_LINK] = keel_test_link(kd);
	if (test->flags & ETH_TEST_FL_OFFLINE)
		keel_test_offline(kd, data);

	for (i = 0; i < KEEL_TEST_NUM; i++)
		if (data[i])
			test->flags |= ETH_TEST_FL_FAILED;
}
