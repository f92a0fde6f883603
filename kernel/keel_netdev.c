// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/unaligned.h>
#include <net/netdev_queues.h>

#include "keel.h"

/**
 * keel_set_rx_mode() - ndo_set_rx_mode: program address filters
 * @netdev: the device
 *
 * Unicast addresses past RAR[0] (the device's own) take the remaining
 * receive address registers, or unicast promiscuous mode when they do not
 * fit; multicast addresses go into the 4096-bit hash table.
 *
 * Context: atomic, netif_addr_lock held.
 */
void keel_set_rx_mode(struct net_device *netdev)
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
	if ((netdev->features & NETIF_F_HW_VLAN_CTAG_FILTER) &&
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

static void keel_vlan_configure(struct keel_dev *kd)
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

	if (kd->netdev->features & NETIF_F_HW_VLAN_CTAG_RX)
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
	keel_vlan_configure(kd);
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
 * keel_up() - start the datapath on allocated rings
 * @kd: the device, with vectors allocated and interrupts requested
 *
 * Context: process context, RTNL held.
 */
void keel_up(struct keel_dev *kd)
{
	unsigned int i;

	WRITE_ONCE(kd->down, false);
	keel_configure(kd);
	keel_irq_configure(kd);
	for (i = 0; i < kd->num_queues; i++)
		napi_enable(&kd->nv[i]->napi);
	keel_irq_enable(kd);
	netif_tx_start_all_queues(kd->netdev);
	keel_link_check(kd);
}

/**
 * keel_down() - stop the datapath; rings stay allocated
 * @kd: the device
 *
 * On return the device does no DMA and raises no interrupt, and no NAPI
 * poll runs.
 *
 * Context: process context, RTNL held.
 */
void keel_down(struct keel_dev *kd)
{
	unsigned int i;

	WRITE_ONCE(kd->down, true);
	netif_tx_disable(kd->netdev);
	keel_disable_queues(kd);
	keel_irq_disable(kd);
	for (i = 0; i < kd->num_queues; i++)
		napi_disable(&kd->nv[i]->napi);
	/* A poll that finished just before may have unmasked its vector */
	keel_wr32(kd, KEEL_EIMC, ~0U);
	netif_carrier_off(kd->netdev);
}

static int keel_start(struct keel_dev *kd, struct keel_qcfg *qcfg)
{
	int err;

	keel_install_vectors(kd, qcfg);
	err = keel_irq_request(kd);
	if (err) {
		keel_free_vectors(kd);
		return err;
	}
	keel_up(kd);
	kd->up = true;
	return 0;
}

static int keel_open(struct net_device *netdev)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_qcfg qcfg = {
		.num_queues = kd->num_queues,
		.tx_count = kd->tx_ring_count,
		.rx_count = kd->rx_ring_count,
	};
	int err;

	if (!keel_present(kd))
		return -EIO;

	netif_carrier_off(netdev);
	err = keel_alloc_vectors(kd, &qcfg);
	if (err)
		return err;
	return keel_start(kd, &qcfg);
}

static int keel_stop(struct net_device *netdev)
{
	struct keel_dev *kd = netdev_priv(netdev);

	/* A failed reset may have stopped the datapath already */
	if (!kd->up)
		return 0;

	keel_down(kd);
	keel_irq_free(kd);
	keel_free_vectors(kd);
	kd->up = false;
	return 0;
}

static int keel_set_real_num_queues(struct keel_dev *kd, unsigned int n)
{
	int err;

	err = netif_set_real_num_tx_queues(kd->netdev, n);
	if (!err)
		err = netif_set_real_num_rx_queues(kd->netdev, n);
	return err;
}

/**
 * keel_reconfigure() - change queue count or ring sizes
 * @kd: the device
 * @num_queues: queue pairs
 * @tx_count: descriptors per TX ring
 * @rx_count: descriptors per RX ring
 * @extack: netlink extended ACK for the reason of a failure
 *
 * On a running device the new rings are allocated before the old ones
 * are released: when memory is short the old configuration keeps
 * running untouched. Filters, RSS settings, VLANs, features, MTU and
 * the link survive; the counters of the old rings are kept in the
 * device totals.
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

	if (!kd->up) {
		err = keel_set_real_num_queues(kd, num_queues);
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
	err = keel_alloc_vectors(kd, qcfg);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack,
				   "no memory for the new rings; the old ones keep running");
		goto out_free;
	}

	keel_down(kd);
	keel_irq_free(kd);
	keel_free_vectors(kd);
	kd->up = false;

	err = keel_set_real_num_queues(kd, num_queues);
	if (err) {
		keel_discard_vectors(qcfg);
		NL_SET_ERR_MSG_MOD(extack, "the stack refused the queue count");
		goto out_free;
	}
	if (respread) {
		kd->num_queues = num_queues;
		keel_rss_default_indir(kd);
	}
	err = keel_start(kd, qcfg);
	if (err)
		NL_SET_ERR_MSG_MOD(extack,
				   "interrupts unavailable; the device stays down");
out_free:
	kfree(qcfg);
	return err;
}

/**
 * keel_reset() - reset the MAC and reopen a running device
 * @kd: the device, running and present
 *
 * Stops the datapath, resets the MAC and opens the device again with its
 * configuration; closes it when that fails.
 *
 * Context: process context, RTNL held.
 * Return: 0 or a negative errno.
 */
int keel_reset(struct keel_dev *kd)
{
	struct net_device *netdev = kd->netdev;
	int err;

	ASSERT_RTNL();
	netdev_warn(netdev, "resetting the device\n");
	keel_stop(netdev);
	err = keel_hw_reset(kd);
	if (!err) {
		keel_hw_driver_loaded(kd, true);
		keel_hw_set_rar(kd, 0, netdev->dev_addr);
		err = keel_hw_setup_link(kd);
	}
	if (!err)
		err = keel_open(netdev);
	if (err) {
		netdev_err(netdev, "reset failed: %d, closing\n", err);
		dev_close(netdev);
	}
	return err;
}

/* Recovery goes through the devlink tx reporter, which counts it and
 * calls keel_reset() unless auto_recover is off; devlink's lock comes
 * before RTNL, so RTNL is not held here.
 */
static void keel_reset_task(struct work_struct *work)
{
	struct keel_dev *kd = container_of(work, struct keel_dev, reset_task);

	keel_devlink_report_tx_timeout(kd);
}

static void keel_tx_timeout(struct net_device *netdev, unsigned int txqueue)
{
	struct keel_dev *kd = netdev_priv(netdev);

	netdev_err(netdev, "TX queue %u timed out\n", txqueue);
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

static int keel_set_features(struct net_device *netdev,
			     netdev_features_t features)
{
	netdev_features_t changed = netdev->features ^ features;
	struct keel_dev *kd = netdev_priv(netdev);

	/* RXCSUM and RXHASH only gate what the RX path reads from the
	 * descriptors; the VLAN settings live in the device.
	 */
	netdev->features = features;
	if (!kd->up)
		return 1;
	if (changed & NETIF_F_HW_VLAN_CTAG_RX)
		keel_vlan_configure(kd);
	if (changed & NETIF_F_HW_VLAN_CTAG_FILTER) {
		netif_addr_lock_bh(netdev);
		keel_set_rx_mode(netdev);
		netif_addr_unlock_bh(netdev);
	}
	return 1;
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
	kd->tx_usecs = KEEL_DEFAULT_USECS;
	netdev_rss_key_fill(kd->rss_key, sizeof(kd->rss_key));
	kd->rss_hash = KEEL_MRQC_IPV4 | KEEL_MRQC_TCP4 | KEEL_MRQC_IPV6 |
		       KEEL_MRQC_IPV6EX | KEEL_MRQC_TCP6 | KEEL_MRQC_TCP6EX;
	kd->msg_enable = netif_msg_init(-1, NETIF_MSG_DRV | NETIF_MSG_PROBE |
					NETIF_MSG_LINK);
	spin_lock_init(&kd->stats_lock);
	INIT_WORK(&kd->reset_task, keel_reset_task);

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
