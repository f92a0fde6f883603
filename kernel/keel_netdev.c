// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/unaligned.h>
#include <net/netdev_queues.h>

#include "keel.h"

/* Unicast addresses past RAR[0] (the device's own) take the remaining
 * receive address registers, or unicast promiscuous mode when they do
 * not fit; multicast addresses go into the 4096-bit hash table. The VLAN
 * filter follows @features, which may not be the device's yet.
 */
static void __keel_set_rx_mode(struct net_device *netdev,
			       netdev_features_t features)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct netdev_hw_addr *ha;
	unsigned int idx = 1;
	u32 rctl;

	rctl = keel_rd32(kd, KEEL_RCTL);
	rctl &= ~(KEEL_RCTL_UPE | KEEL_RCTL_MPE | KEEL_RCTL_VFE);
	if (netdev->flags & IFF_PROMISC)
		rctl |= KEEL_RCTL_UPE | KEEL_RCTL_MPE;
	else if (netdev->flags & IFF_ALLMULTI)
		rctl |= KEEL_RCTL_MPE;
	/* Promiscuous mode sees every VLAN too */
	if ((features & NETIF_F_HW_VLAN_CTAG_FILTER) &&
	    !(netdev->flags & IFF_PROMISC))
		rctl |= KEEL_RCTL_VFE;

	if (netdev_uc_count(netdev) > KEEL_RAR_ENTRIES - 1) {
		rctl |= KEEL_RCTL_UPE;
	} else {
		netdev_for_each_uc_addr(ha, netdev)
			keel_hw_set_rar(kd, idx++, ha->addr);
	}
	for (; idx < KEEL_RAR_ENTRIES; idx++)
		keel_hw_clear_rar(kd, idx);

	memset(kd->mta, 0, sizeof(kd->mta));
	if (!(rctl & KEEL_RCTL_MPE)) {
		netdev_for_each_mc_addr(ha, netdev) {
			u32 bit = keel_hw_mta_hash(ha->addr);

			kd->mta[bit / 32] |= BIT(bit % 32);
		}
	}
	keel_hw_set_mta(kd, kd->mta);
	keel_wr32(kd, KEEL_RCTL, rctl);
}

/**
 * keel_set_rx_mode() - ndo_set_rx_mode: program address filters
 * @netdev: the device
 *
 * Context: atomic, netif_addr_lock held.
 */
void keel_set_rx_mode(struct net_device *netdev)
{
	__keel_set_rx_mode(netdev, netdev->features);
}

/**
 * keel_rss_default_indir() - spread the indirection table over the queues
 * @kd: the device
 *
 * Context: process context, RTNL held.
 */
void keel_rss_default_indir(struct keel_dev *kd)
{
	unsigned int i;

	for (i = 0; i < KEEL_RETA_ENTRIES; i++)
		kd->rss_indir[i] = ethtool_rxfh_indir_default(i,
							      kd->num_queues);
}

/**
 * keel_rss_configure() - program the RSS key, table and hash fields
 * @kd: the device
 *
 * RSS stays on with a single queue so that the stack still gets the
 * hash. The device puts the hash into receive descriptors only when
 * RXCSUM.PCSD is set, which keel_configure() does.
 *
 * Context: process context, RTNL held.
 */
void keel_rss_configure(struct keel_dev *kd)
{
	unsigned int i;

	for (i = 0; i < KEEL_RSS_KEY_SIZE / 4; i++)
		keel_wr32(kd, KEEL_RSSRK(i),
			  get_unaligned_le32(&kd->rss_key[i * 4]));
	/* Entry n is byte n % 4 of RETA(n / 4) */
	for (i = 0; i < KEEL_RETA_ENTRIES / 4; i++)
		keel_wr32(kd, KEEL_RETA(i),
			  get_unaligned_le32(&kd->rss_indir[i * 4]));
	keel_wr32(kd, KEEL_MRQC, kd->rss_hash |
		  FIELD_PREP(KEEL_MRQC_MRQE, KEEL_MRQC_MRQE_RSS));
}

static void keel_vlan_configure(struct keel_dev *kd,
				netdev_features_t features)
{
	u32 vfta[KEEL_VFTA_ENTRIES] = {};
	unsigned int i;
	u16 vid;

	/* Priority-tagged frames (VID 0) always pass */
	vfta[0] = BIT(0);
	for_each_set_bit(vid, kd->active_vlans, VLAN_N_VID)
		vfta[vid / 32] |= BIT(vid % 32);
	for (i = 0; i < KEEL_VFTA_ENTRIES; i++)
		keel_wr32(kd, KEEL_VFTA(i), vfta[i]);

	if (features & NETIF_F_HW_VLAN_CTAG_RX)
		keel_rmw32(kd, KEEL_CTRL, 0, KEEL_CTRL_VME);
	else
		keel_rmw32(kd, KEEL_CTRL, KEEL_CTRL_VME, 0);
}

static void keel_configure(struct keel_dev *kd)
{
	unsigned int i;
	u32 rctl;

	keel_hw_set_max_frame(kd, kd->netdev->mtu);
	/* The device always checks; NETIF_F_RXCSUM decides in software
	 * whether its verdict is used, so RXCSUM is never rewritten while
	 * the receiver runs.
	 */
	keel_wr32(kd, KEEL_RXCSUM, KEEL_RXCSUM_IPOFLD | KEEL_RXCSUM_TUOFLD |
		  KEEL_RXCSUM_CRCOFL | KEEL_RXCSUM_PCSD);
	keel_rss_configure(kd);
	keel_vlan_configure(kd, kd->netdev->features);
	netif_addr_lock_bh(kd->netdev);
	keel_set_rx_mode(kd->netdev);
	netif_addr_unlock_bh(kd->netdev);

	for (i = 0; i < kd->num_queues; i++)
		keel_configure_tx_ring(kd, &kd->nv[i]->tx);
	keel_wr32(kd, KEEL_TCTL, KEEL_TCTL_EN | KEEL_TCTL_PSP |
		  KEEL_TCTL_RTLC | FIELD_PREP(KEEL_TCTL_CT, 15) |
		  FIELD_PREP(KEEL_TCTL_COLD, 63));

	/* Long frames are always accepted and cut at RLPML; the CRC is
	 * stripped (QEMU otherwise appends four zero bytes).
	 */
	rctl = keel_rd32(kd, KEEL_RCTL);
	rctl &= ~(KEEL_RCTL_EN | KEEL_RCTL_SBP | KEEL_RCTL_LBM |
		  KEEL_RCTL_MO);
	rctl |= KEEL_RCTL_BAM | KEEL_RCTL_LPE | KEEL_RCTL_SECRC;
	keel_wr32(kd, KEEL_RCTL, rctl);

	for (i = 0; i < kd->num_queues; i++)
		keel_configure_rx_ring(kd, &kd->nv[i]->rx);
	keel_wr32(kd, KEEL_RCTL, rctl | KEEL_RCTL_EN);
}

/**
 * keel_rx_kick() - have a queue's NAPI poll retry its RX refill
 * @kd: the device
 * @q: the queue, whose RX ring has no buffer posted
 *
 * With no buffer posted the ring raises no RX interrupt, and a poll
 * that kept itself scheduled would spin while memory is short: the
 * refill is retried from a short timer instead, through the vector's
 * own interrupt.
 *
 * Context: any.
 */
void keel_rx_kick(struct keel_dev *kd, unsigned int q)
{
	set_bit(q, kd->rx_starved);
	if (!test_bit(KEEL_STATE_DOWN, kd->state))
		mod_delayed_work(system_wq, &kd->refill_work,
				 KEEL_REFILL_RETRY);
}

static void keel_refill_work(struct work_struct *work)
{
	struct keel_dev *kd = container_of(to_delayed_work(work),
					   struct keel_dev, refill_work);
	u32 eics = 0;
	unsigned int q;

	for_each_set_bit(q, kd->rx_starved, KEEL_MAX_QUEUES)
		if (test_and_clear_bit(q, kd->rx_starved))
			eics |= BIT(q + KEEL_NUM_OTHER_VECTORS);
	if (eics && !test_bit(KEEL_STATE_DOWN, kd->state))
		keel_wr32(kd, KEEL_EICS, eics);
}

/**
 * keel_up() - start the datapath on installed rings
 * @kd: the device, with vectors installed and interrupts requested
 *
 * Context: process context, RTNL held.
 */
void keel_up(struct keel_dev *kd)
{
	unsigned int i;

	keel_configure(kd);
	keel_irq_configure(kd);
	clear_bit(KEEL_STATE_DOWN, kd->state);
	for (i = 0; i < kd->num_queues; i++)
		napi_enable(&kd->nv[i]->napi);
	keel_irq_enable(kd);
	for (i = 0; i < kd->num_queues; i++)
		if (keel_rx_ring_empty(&kd->nv[i]->rx))
			keel_rx_kick(kd, i);
	/* Wake, not start: after a reset or a ring change the qdisc may
	 * hold packets and must be rescheduled.
	 */
	netif_tx_wake_all_queues(kd->netdev);
	keel_link_check(kd);
}

/**
 * keel_down() - stop the datapath; rings stay allocated
 * @kd: the device
 *
 * The one teardown order of every path (ndo_stop, reset, ring and
 * channel changes, the offline self-test): the carrier goes first, so
 * that the TX watchdog stops looking at the queues; then interrupts and
 * NAPI are quiesced, and since neither may wake a TX queue once
 * KEEL_STATE_DOWN is set, the TX queues stopped after them stay
 * stopped; only then is the hardware stopped. netif_tx_disable() takes
 * every queue's lock, so no ndo_start_xmit runs on return.
 *
 * On return the device does no DMA and raises no interrupt, no NAPI
 * poll runs and the stack sends nothing.
 *
 * Context: process context, RTNL held.
 */
void keel_down(struct keel_dev *kd)
{
	unsigned int i;

	set_bit(KEEL_STATE_DOWN, kd->state);
	/* Pairs with the barrier of netif_txq_completed_wake() */
	smp_mb__after_atomic();
	netif_carrier_off(kd->netdev);

	keel_irq_disable(kd);
	for (i = 0; i < kd->num_queues; i++)
		napi_disable(&kd->nv[i]->napi);
	cancel_delayed_work_sync(&kd->refill_work);
	bitmap_zero(kd->rx_starved, KEEL_MAX_QUEUES);
	/* A poll that finished just before may have unmasked its vector */
	keel_wr32(kd, KEEL_EIMC, ~0U);
	netif_tx_disable(kd->netdev);

	keel_disable_queues(kd);
}

/* Rings allocated, interrupts requested, nothing installed yet */
static int keel_prepare(struct keel_dev *kd, struct keel_qcfg *qcfg)
{
	int err;

	err = keel_alloc_vectors(kd, qcfg);
	if (err)
		return err;
	err = keel_irq_request(kd, qcfg->num_queues);
	if (err)
		keel_discard_vectors(qcfg);
	return err;
}

/**
 * keel_open_datapath() - allocate rings and interrupts and start traffic
 * @kd: the device, reset, with the datapath stopped
 *
 * Context: process context, RTNL held.
 * Return: 0 or a negative errno, with nothing left allocated.
 */
int keel_open_datapath(struct keel_dev *kd)
{
	struct net_device *netdev = kd->netdev;
	struct keel_qcfg qcfg = {
		.num_queues = kd->num_queues,
		.tx_count = kd->tx_ring_count,
		.rx_count = kd->rx_ring_count,
	};
	int err;

	if (!keel_present(kd))
		return -EIO;

	netif_carrier_off(netdev);
	err = keel_irq_request_other(kd);
	if (err)
		return err;
	err = keel_prepare(kd, &qcfg);
	if (err) {
		keel_irq_free(kd);
		return err;
	}
	keel_install_vectors(kd, &qcfg);
	keel_up(kd);
	set_bit(KEEL_STATE_UP, kd->state);
	return 0;
}

static int keel_open(struct net_device *netdev)
{
	return keel_open_datapath(netdev_priv(netdev));
}

/**
 * keel_close_datapath() - stop traffic and free rings and interrupts
 * @kd: the device
 *
 * Also cancels a reset asked for and not yet run. Does nothing when the
 * datapath is not running (a failed reset may have stopped it).
 *
 * Context: process context, RTNL held.
 */
void keel_close_datapath(struct keel_dev *kd)
{
	/* A reset asked for before is moot: the device stops here */
	clear_bit(KEEL_STATE_RESET_REQUESTED, kd->state);
	kd->stop_gen++;
	if (!test_and_clear_bit(KEEL_STATE_UP, kd->state))
		return;

	keel_down(kd);
	keel_irq_free(kd);
	keel_free_vectors(kd);
}

static int keel_stop(struct net_device *netdev)
{
	keel_close_datapath(netdev_priv(netdev));
	return 0;
}

/**
 * keel_reconfigure() - change queue count or ring sizes
 * @kd: the device
 * @num_queues: queue pairs
 * @tx_count: descriptors per TX ring
 * @rx_count: descriptors per RX ring
 * @extack: netlink extended ACK for the reason of a failure
 *
 * On a running device everything that can fail is done before the old
 * configuration stops: the new rings and page pools are allocated, the
 * interrupts of added queues requested, and the stack's queue counts
 * changed while the old rings are only stopped. A failure at any step
 * restarts the old configuration untouched, so the device runs either
 * the new configuration or the old one. Filters, RSS settings, VLANs,
 * features, MTU and the link survive; the counters of the old rings are
 * kept in the device totals.
 *
 * Context: process context, RTNL held.
 * Return: 0 or a negative errno.
 */
int keel_reconfigure(struct keel_dev *kd, unsigned int num_queues,
		     u32 tx_count, u32 rx_count,
		     struct netlink_ext_ack *extack)
{
	struct net_device *netdev = kd->netdev;
	bool respread = !netif_is_rxfh_configured(netdev);
	struct keel_qcfg *qcfg;
	int err;

	if (!test_bit(KEEL_STATE_UP, kd->state)) {
		err = netif_set_real_num_queues(netdev, num_queues,
						num_queues);
		if (err)
			return err;
		kd->num_queues = num_queues;
		kd->tx_ring_count = tx_count;
		kd->rx_ring_count = rx_count;
		if (respread)
			keel_rss_default_indir(kd);
		return 0;
	}

	qcfg = kzalloc(sizeof(*qcfg), GFP_KERNEL);
	if (!qcfg)
		return -ENOMEM;
	qcfg->num_queues = num_queues;
	qcfg->tx_count = tx_count;
	qcfg->rx_count = rx_count;
	err = keel_prepare(kd, qcfg);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack,
				   "cannot set up the new rings; the old ones keep running");
		goto out_free;
	}

	keel_down(kd);
	err = netif_set_real_num_queues(netdev, num_queues, num_queues);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the stack refused the queue count; the old rings keep running");
		keel_irq_release(kd, kd->num_queues);
		keel_discard_vectors(qcfg);
		keel_up(kd);
		goto out_free;
	}

	keel_free_vectors(kd);
	keel_install_vectors(kd, qcfg);
	keel_irq_release(kd, num_queues);
	if (respread)
		keel_rss_default_indir(kd);
	keel_up(kd);
out_free:
	kfree(qcfg);
	return err;
}

/**
 * keel_reset() - reset the MAC and restart the datapath
 * @kd: the device, running
 *
 * Recovery from a hung queue: the datapath stops in the usual order,
 * the MAC resets and the datapath starts again on fresh rings with the
 * configuration kept. A device that cannot be brought back is closed.
 *
 * Context: process context, RTNL held.
 * Return: 0 or a negative errno; the device is closed on an error.
 */
int keel_reset(struct keel_dev *kd)
{
	struct net_device *netdev = kd->netdev;
	int err;

	ASSERT_RTNL();
	if (!netif_running(netdev) || !keel_present(kd))
		return -ENODEV;

	netdev_warn(netdev, "resetting the device\n");
	keel_close_datapath(kd);
	err = keel_hw_reset(kd);
	if (!err) {
		keel_hw_driver_loaded(kd, true);
		keel_hw_set_rar(kd, 0, netdev->dev_addr);
		err = keel_hw_setup_link(kd);
	}
	if (!err)
		err = keel_open_datapath(kd);
	if (err) {
		netdev_err(netdev, "reset failed: %d, closing\n", err);
		dev_close(netdev);
	}
	return err;
}

/* Recovery goes through the devlink tx reporter, which counts it and,
 * unless auto_recover is off, calls keel_reset() from its recover op.
 * devlink's lock comes before RTNL, so the report is made without RTNL;
 * the request is taken under RTNL with the stop count of that moment,
 * and the recover op resets only if no stop came in between. A request
 * that ndo_stop cancelled before is not reported at all.
 */
static void keel_reset_task(struct work_struct *work)
{
	struct keel_dev *kd = container_of(work, struct keel_dev, reset_task);
	u32 stop_gen;

	rtnl_lock();
	stop_gen = kd->stop_gen;
	/* Cleared by ndo_stop since the timeout: nothing to recover */
	if (!test_and_clear_bit(KEEL_STATE_RESET_REQUESTED, kd->state) ||
	    !test_bit(KEEL_STATE_UP, kd->state)) {
		rtnl_unlock();
		return;
	}
	rtnl_unlock();
	keel_devlink_report_tx_timeout(kd, stop_gen);
}

static void keel_tx_timeout(struct net_device *netdev, unsigned int txqueue)
{
	struct keel_dev *kd = netdev_priv(netdev);

	netdev_err(netdev, "TX queue %u timed out\n", txqueue);
	if (!test_and_set_bit(KEEL_STATE_RESET_REQUESTED, kd->state))
		schedule_work(&kd->reset_task);
}

static int keel_set_mac_address(struct net_device *netdev, void *p)
{
	struct keel_dev *kd = netdev_priv(netdev);
	int err;

	err = eth_mac_addr(netdev, p);
	if (err)
		return err;

	keel_hw_set_rar(kd, 0, netdev->dev_addr);
	return 0;
}

static int keel_change_mtu(struct net_device *netdev, int new_mtu)
{
	struct keel_dev *kd = netdev_priv(netdev);

	/* RX buffers chain for long frames, so only the limit changes */
	WRITE_ONCE(netdev->mtu, new_mtu);
	keel_hw_set_max_frame(kd, new_mtu);
	return 0;
}

static void keel_get_stats64(struct net_device *netdev,
			     struct rtnl_link_stats64 *stats)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_ring_stats tx, rx;
	unsigned int i;

	spin_lock_bh(&kd->stats_lock);
	tx = kd->tx_base;
	rx = kd->rx_base;
	for (i = 0; i < kd->num_queues; i++) {
		struct keel_napi_vector *nv = kd->nv[i];

		if (!nv)
			continue;
		keel_ring_stats_add(&tx, &nv->tx);
		keel_ring_stats_add(&rx, &nv->rx);
	}
	spin_unlock_bh(&kd->stats_lock);

	stats->tx_packets = tx.packets;
	stats->tx_bytes = tx.bytes;
	stats->tx_dropped = tx.tx.dropped;
	stats->rx_packets = rx.packets;
	stats->rx_bytes = rx.bytes;
	stats->rx_errors = rx.rx.errors;
	stats->rx_dropped = rx.rx.dropped;
	keel_stats_fill64(kd, stats);
}

/* Returns 0 so that the core sets the features itself and, when the
 * VLAN filter comes on, replays the VLANs registered while it was off
 * through ndo_vlan_rx_add_vid().
 */
static int keel_set_features(struct net_device *netdev,
			     netdev_features_t features)
{
	netdev_features_t changed = netdev->features ^ features;
	struct keel_dev *kd = netdev_priv(netdev);

	/* RXCSUM and RXHASH only gate what the RX path reads from the
	 * descriptors; the VLAN settings live in the device.
	 */
	if (!test_bit(KEEL_STATE_UP, kd->state))
		return 0;
	if (changed & NETIF_F_HW_VLAN_CTAG_RX)
		keel_vlan_configure(kd, features);
	if (changed & NETIF_F_HW_VLAN_CTAG_FILTER) {
		netif_addr_lock_bh(netdev);
		__keel_set_rx_mode(netdev, features);
		netif_addr_unlock_bh(netdev);
	}
	return 0;
}

static void keel_vfta_update(struct keel_dev *kd, u16 vid, bool set)
{
	u32 bit = BIT(vid % 32);

	if (!vid)
		return;
	keel_rmw32(kd, KEEL_VFTA(vid / 32), set ? 0 : bit, set ? bit : 0);
}

static int keel_vlan_rx_add_vid(struct net_device *netdev, __be16 proto,
				u16 vid)
{
	struct keel_dev *kd = netdev_priv(netdev);

	set_bit(vid, kd->active_vlans);
	keel_vfta_update(kd, vid, true);
	return 0;
}

static int keel_vlan_rx_kill_vid(struct net_device *netdev, __be16 proto,
				 u16 vid)
{
	struct keel_dev *kd = netdev_priv(netdev);

	clear_bit(vid, kd->active_vlans);
	keel_vfta_update(kd, vid, false);
	return 0;
}

static void keel_queue_stats_rx(struct net_device *netdev, int idx,
				struct netdev_queue_stats_rx *rx)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_ring_stats s = {};

	spin_lock_bh(&kd->stats_lock);
	if (idx < kd->num_queues && kd->nv[idx])
		keel_ring_stats_add(&s, &kd->nv[idx]->rx);
	spin_unlock_bh(&kd->stats_lock);

	rx->packets = s.packets;
	rx->bytes = s.bytes;
	rx->alloc_fail = s.rx.alloc_fail;
	rx->csum_unnecessary = s.rx.csum_unnecessary;
	rx->csum_none = s.rx.csum_none;
	rx->csum_bad = s.rx.csum_bad;
}

static void keel_queue_stats_tx(struct net_device *netdev, int idx,
				struct netdev_queue_stats_tx *tx)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_ring_stats s = {};

	spin_lock_bh(&kd->stats_lock);
	if (idx < kd->num_queues && kd->nv[idx])
		keel_ring_stats_add(&s, &kd->nv[idx]->tx);
	spin_unlock_bh(&kd->stats_lock);

	tx->packets = s.packets;
	tx->bytes = s.bytes;
	tx->needs_csum = s.tx.needs_csum;
	tx->hw_gso_packets = s.tx.hw_gso_packets;
	tx->hw_gso_bytes = s.tx.hw_gso_bytes;
	tx->stop = s.tx.stop;
	tx->wake = s.tx.wake;
}

/* Counters of rings that were freed: down/up, channel and ring changes */
static void keel_base_stats(struct net_device *netdev,
			    struct netdev_queue_stats_rx *rx,
			    struct netdev_queue_stats_tx *tx)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_ring_stats r, t;

	spin_lock_bh(&kd->stats_lock);
	r = kd->rx_base;
	t = kd->tx_base;
	spin_unlock_bh(&kd->stats_lock);

	rx->packets = r.packets;
	rx->bytes = r.bytes;
	rx->alloc_fail = r.rx.alloc_fail;
	rx->csum_unnecessary = r.rx.csum_unnecessary;
	rx->csum_none = r.rx.csum_none;
	rx->csum_bad = r.rx.csum_bad;

	tx->packets = t.packets;
	tx->bytes = t.bytes;
	tx->needs_csum = t.tx.needs_csum;
	tx->hw_gso_packets = t.tx.hw_gso_packets;
	tx->hw_gso_bytes = t.tx.hw_gso_bytes;
	tx->stop = t.tx.stop;
	tx->wake = t.tx.wake;
}

static const struct netdev_stat_ops keel_stat_ops = {
	.get_queue_stats_rx	= keel_queue_stats_rx,
	.get_queue_stats_tx	= keel_queue_stats_tx,
	.get_base_stats		= keel_base_stats,
};

static const struct net_device_ops keel_netdev_ops = {
	.ndo_open		= keel_open,
	.ndo_stop		= keel_stop,
	.ndo_start_xmit		= keel_xmit,
	.ndo_set_rx_mode	= keel_set_rx_mode,
	.ndo_set_mac_address	= keel_set_mac_address,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_change_mtu		= keel_change_mtu,
	.ndo_get_stats64	= keel_get_stats64,
	.ndo_tx_timeout		= keel_tx_timeout,
	.ndo_set_features	= keel_set_features,
	.ndo_vlan_rx_add_vid	= keel_vlan_rx_add_vid,
	.ndo_vlan_rx_kill_vid	= keel_vlan_rx_kill_vid,
};

/**
 * keel_netdev_alloc() - allocate and set up the network device
 * @pdev: the PCI function
 *
 * Context: process context, probe.
 * Return: the device, freed automatically with @pdev, or NULL.
 */
struct net_device *keel_netdev_alloc(struct pci_dev *pdev)
{
	netdev_features_t features;
	struct net_device *netdev;
	struct keel_dev *kd;

	netdev = devm_alloc_etherdev_mqs(&pdev->dev, sizeof(*kd),
					 KEEL_MAX_QUEUES, KEEL_MAX_QUEUES);
	if (!netdev)
		return NULL;
	SET_NETDEV_DEV(netdev, &pdev->dev);

	kd = netdev_priv(netdev);
	kd->netdev = netdev;
	kd->pdev = pdev;
	kd->num_queues = 1;
	kd->tx_ring_count = KEEL_DEFAULT_TXD;
	kd->rx_ring_count = KEEL_DEFAULT_RXD;
	kd->rx_usecs = KEEL_DEFAULT_USECS;
	netdev_rss_key_fill(kd->rss_key, sizeof(kd->rss_key));
	kd->rss_hash = KEEL_MRQC_IPV4 | KEEL_MRQC_TCP4 | KEEL_MRQC_IPV6 |
		       KEEL_MRQC_IPV6EX | KEEL_MRQC_TCP6 | KEEL_MRQC_TCP6EX;
	kd->msg_enable = netif_msg_init(-1, NETIF_MSG_DRV | NETIF_MSG_PROBE |
					NETIF_MSG_LINK);
	spin_lock_init(&kd->stats_lock);
	INIT_WORK(&kd->reset_task, keel_reset_task);
	INIT_DELAYED_WORK(&kd->refill_work, keel_refill_work);
	set_bit(KEEL_STATE_DOWN, kd->state);

	netdev->netdev_ops = &keel_netdev_ops;
	keel_set_ethtool_ops(netdev);
	netdev->watchdog_timeo = 5 * HZ;
	netdev->min_mtu = KEEL_MIN_MTU;
	netdev->max_mtu = KEEL_MAX_MTU;
	netdev->priv_flags |= IFF_UNICAST_FLT | IFF_LIVE_ADDR_CHANGE;

	features = NETIF_F_SG | NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM |
		   NETIF_F_SCTP_CRC | NETIF_F_TSO | NETIF_F_TSO6 |
		   NETIF_F_RXCSUM | NETIF_F_RXHASH;
	netdev->vlan_features = features & ~(NETIF_F_RXCSUM | NETIF_F_RXHASH);
	features |= NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_CTAG_RX |
		    NETIF_F_HW_VLAN_CTAG_FILTER;
	netdev->hw_features = features;
	netdev->features = features | NETIF_F_HIGHDMA;
	netdev->stat_ops = &keel_stat_ops;

	return netdev;
}
