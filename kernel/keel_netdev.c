// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

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

	rctl = keel_rd32(kd, KEEL_RCTL) & ~(KEEL_RCTL_UPE | KEEL_RCTL_MPE);
	if (netdev->flags & IFF_PROMISC)
		rctl |= KEEL_RCTL_UPE | KEEL_RCTL_MPE;
	else if (netdev->flags & IFF_ALLMULTI)
		rctl |= KEEL_RCTL_MPE;

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
		  KEEL_RXCSUM_CRCOFL);
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
		  KEEL_RCTL_MO | KEEL_RCTL_VFE);
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

static int keel_open(struct net_device *netdev)
{
	struct keel_dev *kd = netdev_priv(netdev);
	int err;

	if (!keel_present(kd))
		return -EIO;

	netif_carrier_off(netdev);
	err = keel_alloc_vectors(kd);
	if (err)
		return err;

	err = keel_irq_request(kd);
	if (err)
		goto err_free_vectors;

	keel_up(kd);
	kd->up = true;
	return 0;

err_free_vectors:
	keel_free_vectors(kd);
	return err;
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

static void keel_reset_task(struct work_struct *work)
{
	struct keel_dev *kd = container_of(work, struct keel_dev, reset_task);
	struct net_device *netdev = kd->netdev;
	int err;

	rtnl_lock();
	if (!netif_running(netdev) || !keel_present(kd))
		goto out_unlock;

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
out_unlock:
	rtnl_unlock();
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
}

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
	kd->itr = KEEL_DEFAULT_ITR;
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
		   NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_RXCSUM;
	netdev->hw_features = features;
	netdev->features = features | NETIF_F_HIGHDMA;
	netdev->vlan_features = features & ~NETIF_F_RXCSUM;

	return netdev;
}
