// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/stddef.h>
#include <linux/workqueue.h>

#include "keel.h"

/* The counters are added up every two seconds, well before any can
 * wrap: a 32-bit frame counter lasts 48 minutes of minimum-size frames
 * at 1 Gb/s, and the octet counters are 64 bits wide.
 */
#define KEEL_STATS_PERIOD	(2 * HZ)

/* The device counts octets from the destination address through the
 * FCS; IEEE 802.3 clause 30 counts the MAC client data and padding
 * only, 18 octets less per frame.
 */
#define KEEL_FRAME_FRAMING	(ETH_HLEN + ETH_FCS_LEN)

/* The last size bucket runs to the longest frame the device accepts */
#define KEEL_MAX_FRAME		(KEEL_MAX_MTU + KEEL_FRAME_OVERHEAD)

/**
 * struct keel_stat_reg - a statistics register and where it adds up
 * @reg: register offset; the low word of a 64-bit counter
 * @offset: offset of its u64 in struct keel_hw_stats
 * @wide: a 64-bit counter whose high word follows @reg
 */
struct keel_stat_reg {
	u32 reg;
	u16 offset;
	bool wide;
};

#define KEEL_STAT(_reg, _field)						\
	{ .reg = (_reg), .offset = offsetof(struct keel_hw_stats, _field) }
#define KEEL_STAT64(_reg, _field)					\
	{ .reg = (_reg), .offset = offsetof(struct keel_hw_stats, _field), \
	  .wide = true }

static const struct keel_stat_reg keel_stat_regs[] = {
	KEEL_STAT(KEEL_CRCERRS, crcerrs),
	KEEL_STAT(KEEL_ALGNERRC, algnerrc),
	KEEL_STAT(KEEL_SYMERRS, symerrs),
	KEEL_STAT(KEEL_RXERRC, rxerrc),
	KEEL_STAT(KEEL_MPC, mpc),
	KEEL_STAT(KEEL_SCC, scc),
	KEEL_STAT(KEEL_ECOL, ecol),
	KEEL_STAT(KEEL_MCC, mcc),
	KEEL_STAT(KEEL_LATECOL, latecol),
	KEEL_STAT(KEEL_COLC, colc),
	KEEL_STAT(KEEL_DC, dc),
	KEEL_STAT(KEEL_RLEC, rlec),
	KEEL_STAT(KEEL_XONRXC, xonrxc),
	KEEL_STAT(KEEL_XONTXC, xontxc),
	KEEL_STAT(KEEL_XOFFRXC, xoffrxc),
	KEEL_STAT(KEEL_XOFFTXC, xofftxc),
	KEEL_STAT(KEEL_FCRUC, fcruc),
	KEEL_STAT(KEEL_PRC(0), prc[0]),
	KEEL_STAT(KEEL_PRC(1), prc[1]),
	KEEL_STAT(KEEL_PRC(2), prc[2]),
	KEEL_STAT(KEEL_PRC(3), prc[3]),
	KEEL_STAT(KEEL_PRC(4), prc[4]),
	KEEL_STAT(KEEL_PRC(5), prc[5]),
	KEEL_STAT(KEEL_GPRC, gprc),
	KEEL_STAT(KEEL_BPRC, bprc),
	KEEL_STAT(KEEL_MPRC, mprc),
	KEEL_STAT(KEEL_GPTC, gptc),
	KEEL_STAT64(KEEL_GORCL, gorc),
	KEEL_STAT64(KEEL_GOTCL, gotc),
	KEEL_STAT(KEEL_RNBC, rnbc),
	KEEL_STAT(KEEL_RUC, ruc),
	KEEL_STAT(KEEL_RFC, rfc),
	KEEL_STAT(KEEL_ROC, roc),
	KEEL_STAT(KEEL_RJC, rjc),
	KEEL_STAT(KEEL_MGTPRC, mgtprc),
	KEEL_STAT(KEEL_MGTPDC, mgtpdc),
	KEEL_STAT(KEEL_MGTPTC, mgtptc),
	KEEL_STAT(KEEL_PTC(0), ptc[0]),
	KEEL_STAT(KEEL_PTC(1), ptc[1]),
	KEEL_STAT(KEEL_PTC(2), ptc[2]),
	KEEL_STAT(KEEL_PTC(3), ptc[3]),
	KEEL_STAT(KEEL_PTC(4), ptc[4]),
	KEEL_STAT(KEEL_PTC(5), ptc[5]),
	KEEL_STAT(KEEL_MPTC, mptc),
	KEEL_STAT(KEEL_BPTC, bptc),
	KEEL_STAT(KEEL_TSCTFC, tsctfc),
};

/**
 * struct keel_xstat - a counter of ethtool -S
 * @name: its name
 * @offset: offset of its u64 in struct keel_hw_stats
 */
struct keel_xstat {
	char name[ETH_GSTRING_LEN];
	u16 offset;
};

#define KEEL_XSTAT(_name, _field)					\
	{ .name = (_name), .offset = offsetof(struct keel_hw_stats, _field) }

/* Only what no standard interface reports: rtnl_link_stats64, the
 * eth-mac, eth-phy, eth-ctrl, rmon and pause groups and the queue
 * statistics carry everything else.
 */
static const struct keel_xstat keel_xstats[] = {
	KEEL_XSTAT("rx_no_buffer", rnbc),
	KEEL_XSTAT("rx_mgmt_packets", mgtprc),
	KEEL_XSTAT("rx_mgmt_dropped", mgtpdc),
	KEEL_XSTAT("tx_mgmt_packets", mgtptc),
	KEEL_XSTAT("tx_tso_ctx_fail", tsctfc),
	KEEL_XSTAT("mac_resets", resets),
};

/* After the MAC counters: tx_linearized */
#define KEEL_SW_XSTATS	1

static u64 *keel_stat_field(struct keel_hw_stats *hs, u16 offset)
{
	return (u64 *)((u8 *)hs + offset);
}

/* Add the clear-on-read registers to kd->hw_stats; hw_stats_lock held */
static void keel_stats_read(struct keel_dev *kd)
{
	unsigned int i;

	lockdep_assert_held(&kd->hw_stats_lock);
	if (test_bit(KEEL_STATE_STATS_BUSY, kd->state))
		return;

	for (i = 0; i < ARRAY_SIZE(keel_stat_regs); i++) {
		const struct keel_stat_reg *r = &keel_stat_regs[i];
		u64 val;

		val = keel_rd32(kd, r->reg);
		if (r->wide)
			val |= (u64)keel_rd32(kd, r->reg + 4) << 32;
		/* All ones from a device that went away count nothing */
		if (!keel_present(kd))
			return;
		*keel_stat_field(&kd->hw_stats, r->offset) += val;
	}
}

static void keel_stats_work(struct work_struct *work)
{
	struct keel_dev *kd = container_of(to_delayed_work(work),
					   struct keel_dev, stats_work);
	const struct keel_hw_stats *hs = &kd->hw_stats;
	u64 rx_errors;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	rx_errors = hs->crcerrs + hs->algnerrc + hs->symerrs + hs->rxerrc +
		    hs->rlec;
	spin_unlock_bh(&kd->hw_stats_lock);
	keel_devlink_rx_check(kd, rx_errors);

	if (keel_present(kd))
		queue_delayed_work(system_power_efficient_wq, &kd->stats_work,
				   KEEL_STATS_PERIOD);
}

/**
 * keel_stats_init() - start accumulating the MAC counters
 * @kd: the device, just reset
 *
 * The counters keep running while the interface is down (management
 * traffic still flows), so they are read from probe to remove.
 *
 * Context: process context, probe, before the netdev is registered.
 */
void keel_stats_init(struct keel_dev *kd)
{
	spin_lock_init(&kd->hw_stats_lock);
	INIT_DELAYED_WORK(&kd->stats_work, keel_stats_work);
	set_bit(KEEL_STATE_STATS_ON, kd->state);
	queue_delayed_work(system_power_efficient_wq, &kd->stats_work,
			   KEEL_STATS_PERIOD);
}

/**
 * keel_stats_stop() - stop the periodic reading of the MAC counters
 * @kd: the device
 *
 * Context: process context, may sleep.
 */
void keel_stats_stop(struct keel_dev *kd)
{
	cancel_delayed_work_sync(&kd->stats_work);
}

/**
 * keel_stats_reset_prepare() - save the MAC counters before a reset
 * @kd: the device
 *
 * Adds up the registers a reset is about to clear, then keeps every
 * reader away from them until keel_stats_reset_done(): a register read
 * while the MAC resets may return all ones, which would look like a
 * device gone.
 *
 * Context: process context.
 */
void keel_stats_reset_prepare(struct keel_dev *kd)
{
	if (!test_bit(KEEL_STATE_STATS_ON, kd->state))
		return;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	set_bit(KEEL_STATE_STATS_BUSY, kd->state);
	kd->hw_stats.resets++;
	spin_unlock_bh(&kd->hw_stats_lock);
}

/**
 * keel_stats_reset_done() - the MAC reset is over, read the counters again
 * @kd: the device
 *
 * Context: process context.
 */
void keel_stats_reset_done(struct keel_dev *kd)
{
	if (!test_bit(KEEL_STATE_STATS_ON, kd->state))
		return;

	spin_lock_bh(&kd->hw_stats_lock);
	clear_bit(KEEL_STATE_STATS_BUSY, kd->state);
	spin_unlock_bh(&kd->hw_stats_lock);
}

/**
 * keel_stats_fill64() - the hardware counters of ndo_get_stats64
 * @kd: the device
 * @stats: filled with the software counters; error totals are added to
 *
 * Context: any context but hard interrupts; does not sleep.
 */
void keel_stats_fill64(struct keel_dev *kd, struct rtnl_link_stats64 *stats)
{
	const struct keel_hw_stats *hs = &kd->hw_stats;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);

	stats->multicast = hs->mprc;
	stats->collisions = hs->colc;
	stats->rx_length_errors = hs->rlec;
	stats->rx_crc_errors = hs->crcerrs;
	stats->rx_frame_errors = hs->algnerrc;
	stats->rx_missed_errors = hs->mpc;
	stats->rx_errors += hs->crcerrs + hs->algnerrc + hs->rxerrc +
			    hs->rlec;
	stats->tx_aborted_errors = hs->ecol;
	stats->tx_window_errors = hs->latecol;
	stats->tx_errors += hs->ecol + hs->latecol;

	spin_unlock_bh(&kd->hw_stats_lock);
}

/* IEEE octets: the device's count less header and FCS of each frame */
static u64 keel_ieee_octets(u64 octets, u64 frames)
{
	return octets - min(octets, frames * KEEL_FRAME_FRAMING);
}

/**
 * keel_get_eth_mac_stats() - ethtool eth-mac group (IEEE 802.3 30.3.1.1)
 * @netdev: the device
 * @mac: filled; counters the device lacks stay ETHTOOL_STAT_NOT_SET
 *
 * Context: process context, RTNL held.
 */
void keel_get_eth_mac_stats(struct net_device *netdev,
			    struct ethtool_eth_mac_stats *mac)
{
	struct keel_dev *kd = netdev_priv(netdev);
	const struct keel_hw_stats *hs = &kd->hw_stats;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);

	mac->FramesTransmittedOK = hs->gptc;
	mac->SingleCollisionFrames = hs->scc;
	mac->MultipleCollisionFrames = hs->mcc;
	mac->FramesReceivedOK = hs->gprc;
	mac->FrameCheckSequenceErrors = hs->crcerrs;
	mac->AlignmentErrors = hs->algnerrc;
	mac->OctetsTransmittedOK = keel_ieee_octets(hs->gotc, hs->gptc);
	mac->FramesWithDeferredXmissions = hs->dc;
	mac->LateCollisions = hs->latecol;
	mac->FramesAbortedDueToXSColls = hs->ecol;
	mac->OctetsReceivedOK = keel_ieee_octets(hs->gorc, hs->gprc);
	mac->FramesLostDueToIntMACRcvError = hs->mpc;
	mac->MulticastFramesXmittedOK = hs->mptc;
	mac->BroadcastFramesXmittedOK = hs->bptc;
	mac->MulticastFramesReceivedOK = hs->mprc;
	mac->BroadcastFramesReceivedOK = hs->bprc;
	mac->FrameTooLongErrors = hs->roc;

	spin_unlock_bh(&kd->hw_stats_lock);
}

/**
 * keel_get_eth_phy_stats() - ethtool eth-phy group (IEEE 802.3 30.3.2.1)
 * @netdev: the device
 * @phy: filled
 *
 * Symbol errors count in SYMERRS on a SerDes link and as receive errors
 * (RXERRC) from the internal copper PHY; only one of them moves.
 *
 * Context: process context, RTNL held.
 */
void keel_get_eth_phy_stats(struct net_device *netdev,
			    struct ethtool_eth_phy_stats *phy)
{
	struct keel_dev *kd = netdev_priv(netdev);

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	phy->SymbolErrorDuringCarrier = kd->hw_stats.symerrs +
					kd->hw_stats.rxerrc;
	spin_unlock_bh(&kd->hw_stats_lock);
}

/**
 * keel_get_eth_ctrl_stats() - ethtool eth-ctrl group (IEEE 802.3 30.3.3)
 * @netdev: the device
 * @ctrl: filled
 *
 * The device sends no MAC control frames but PAUSE (XON and XOFF).
 *
 * Context: process context, RTNL held.
 */
void keel_get_eth_ctrl_stats(struct net_device *netdev,
			     struct ethtool_eth_ctrl_stats *ctrl)
{
	struct keel_dev *kd = netdev_priv(netdev);
	const struct keel_hw_stats *hs = &kd->hw_stats;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	ctrl->MACControlFramesTransmitted = hs->xontxc + hs->xofftxc;
	ctrl->MACControlFramesReceived = hs->xonrxc + hs->xoffrxc +
					 hs->fcruc;
	ctrl->UnsupportedOpcodesReceived = hs->fcruc;
	spin_unlock_bh(&kd->hw_stats_lock);
}

/* Frame sizes with the FCS, as the PRC and PTC registers count them */
static const struct ethtool_rmon_hist_range keel_rmon_ranges[] = {
	{   64,   64 },
	{   65,  127 },
	{  128,  255 },
	{  256,  511 },
	{  512, 1023 },
	{ 1024, KEEL_MAX_FRAME },
	{}
};

/**
 * keel_get_rmon_stats() - ethtool rmon group (RFC 2819)
 * @netdev: the device
 * @rmon: filled
 * @ranges: set to the size buckets of the histograms
 *
 * Context: process context, RTNL held.
 */
void keel_get_rmon_stats(struct net_device *netdev,
			 struct ethtool_rmon_stats *rmon,
			 const struct ethtool_rmon_hist_range **ranges)
{
	struct keel_dev *kd = netdev_priv(netdev);
	const struct keel_hw_stats *hs = &kd->hw_stats;
	unsigned int i;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	rmon->undersize_pkts = hs->ruc;
	rmon->oversize_pkts = hs->roc;
	rmon->fragments = hs->rfc;
	rmon->jabbers = hs->rjc;
	for (i = 0; i < KEEL_SIZE_BUCKETS; i++) {
		rmon->hist[i] = hs->prc[i];
		rmon->hist_tx[i] = hs->ptc[i];
	}
	spin_unlock_bh(&kd->hw_stats_lock);

	*ranges = keel_rmon_ranges;
}

/**
 * keel_get_pause_stats() - PAUSE frames sent and received
 * @netdev: the device
 * @pause: filled
 *
 * Context: process context, RTNL held.
 */
void keel_get_pause_stats(struct net_device *netdev,
			  struct ethtool_pause_stats *pause)
{
	struct keel_dev *kd = netdev_priv(netdev);
	const struct keel_hw_stats *hs = &kd->hw_stats;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	pause->tx_pause_frames = hs->xontxc + hs->xofftxc;
	pause->rx_pause_frames = hs->xonrxc + hs->xoffrxc;
	spin_unlock_bh(&kd->hw_stats_lock);
}

/**
 * keel_get_pauseparam() - flow control the MAC applies now
 * @netdev: the device
 * @pause: filled from CTRL.RFCE and CTRL.TFCE
 *
 * The driver does not negotiate flow control itself.
 *
 * Context: process context, RTNL held.
 */
void keel_get_pauseparam(struct net_device *netdev,
			 struct ethtool_pauseparam *pause)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u32 ctrl = keel_rd32(kd, KEEL_CTRL);

	pause->autoneg = AUTONEG_DISABLE;
	if (!keel_present(kd))
		return;
	pause->rx_pause = !!(ctrl & KEEL_CTRL_RFCE);
	pause->tx_pause = !!(ctrl & KEEL_CTRL_TFCE);
}

/**
 * keel_get_sset_count() - number of ethtool strings of a set
 * @netdev: the device
 * @sset: ETH_SS_STATS or ETH_SS_TEST
 *
 * Context: process context, RTNL held.
 * Return: the count, or -EOPNOTSUPP for other sets.
 */
int keel_get_sset_count(struct net_device *netdev, int sset)
{
	switch (sset) {
	case ETH_SS_STATS:
		return ARRAY_SIZE(keel_xstats) + KEEL_SW_XSTATS;
	case ETH_SS_TEST:
		return keel_diag_test_count();
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * keel_get_strings() - names of the -S counters or of the self-tests
 * @netdev: the device
 * @sset: ETH_SS_STATS or ETH_SS_TEST
 * @data: ETH_GSTRING_LEN bytes per string
 *
 * Context: process context, RTNL held.
 */
void keel_get_strings(struct net_device *netdev, u32 sset, u8 *data)
{
	unsigned int i;

	switch (sset) {
	case ETH_SS_STATS:
		for (i = 0; i < ARRAY_SIZE(keel_xstats); i++)
			ethtool_puts(&data, keel_xstats[i].name);
		ethtool_puts(&data, "tx_linearized");
		break;
	case ETH_SS_TEST:
		keel_diag_test_strings(&data);
		break;
	}
}

/**
 * keel_get_ethtool_stats() - values of the -S counters
 * @netdev: the device
 * @stats: unused
 * @data: one u64 per counter, in keel_get_strings() order
 *
 * Context: process context, RTNL held.
 */
void keel_get_ethtool_stats(struct net_device *netdev,
			    struct ethtool_stats *stats, u64 *data)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_ring_stats tx;
	unsigned int i;

	spin_lock_bh(&kd->hw_stats_lock);
	keel_stats_read(kd);
	for (i = 0; i < ARRAY_SIZE(keel_xstats); i++)
		data[i] = *keel_stat_field(&kd->hw_stats,
					   keel_xstats[i].offset);
	spin_unlock_bh(&kd->hw_stats_lock);

	/* Software counters no standard group has, summed over rings */
	spin_lock_bh(&kd->stats_lock);
	tx = kd->tx_base;
	for (i = 0; i < kd->num_queues; i++)
		if (kd->nv[i])
			keel_ring_stats_add(&tx, &kd->nv[i]->tx);
	spin_unlock_bh(&kd->stats_lock);
	data[ARRAY_SIZE(keel_xstats)] = tx.tx.linearized;
}
