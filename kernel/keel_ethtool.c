// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/ethtool.h>
#include <linux/linkmode.h>
#include <linux/netdevice.h>
#include <linux/pci.h>

#include "keel.h"

static void keel_get_drvinfo(struct net_device *netdev,
			     struct ethtool_drvinfo *info)
{
	struct keel_dev *kd = netdev_priv(netdev);

	strscpy(info->driver, KEEL_DRV_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(kd->pdev), sizeof(info->bus_info));
}

static u32 keel_get_msglevel(struct net_device *netdev)
{
	struct keel_dev *kd = netdev_priv(netdev);

	return kd->msg_enable;
}

static void keel_set_msglevel(struct net_device *netdev, u32 level)
{
	struct keel_dev *kd = netdev_priv(netdev);

	kd->msg_enable = level;
}

static int keel_get_link_ksettings(struct net_device *netdev,
				   struct ethtool_link_ksettings *cmd)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u8 duplex = DUPLEX_UNKNOWN;
	u32 speed = SPEED_UNKNOWN;

	ethtool_link_ksettings_zero_link_mode(cmd, supported);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 10baseT_Half);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 10baseT_Full);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 100baseT_Half);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 100baseT_Full);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 1000baseT_Full);
	ethtool_link_ksettings_add_link_mode(cmd, supported, Autoneg);
	ethtool_link_ksettings_add_link_mode(cmd, supported, TP);
	linkmode_copy(cmd->link_modes.advertising, cmd->link_modes.supported);

	cmd->base.port = PORT_TP;
	cmd->base.phy_address = KEEL_PHY_ADDR;
	cmd->base.autoneg = AUTONEG_ENABLE;
	cmd->base.mdio_support = ETH_MDIO_SUPPORTS_C22;

	if (netif_carrier_ok(netdev) && keel_hw_link_up(kd, &speed, &duplex)) {
		cmd->base.speed = speed;
		cmd->base.duplex = duplex;
	} else {
		cmd->base.speed = SPEED_UNKNOWN;
		cmd->base.duplex = DUPLEX_UNKNOWN;
	}
	return 0;
}

static void keel_get_ringparam(struct net_device *netdev,
			       struct ethtool_ringparam *ring,
			       struct kernel_ethtool_ringparam *kring,
			       struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = netdev_priv(netdev);

	ring->rx_max_pending = KEEL_MAX_DESC;
	ring->tx_max_pending = KEEL_MAX_DESC;
	ring->rx_pending = kd->rx_ring_count;
	ring->tx_pending = kd->tx_ring_count;
}

static void keel_get_channels(struct net_device *netdev,
			      struct ethtool_channels *ch)
{
	struct keel_dev *kd = netdev_priv(netdev);

	ch->max_other = KEEL_NUM_OTHER_VECTORS;
	ch->other_count = KEEL_NUM_OTHER_VECTORS;
	ch->max_combined = kd->num_queues;
	ch->combined_count = kd->num_queues;
}

static const struct ethtool_ops keel_ethtool_ops = {
	.get_drvinfo		= keel_get_drvinfo,
	.get_msglevel		= keel_get_msglevel,
	.set_msglevel		= keel_set_msglevel,
	.get_link		= ethtool_op_get_link,
	.get_link_ksettings	= keel_get_link_ksettings,
	.get_ringparam		= keel_get_ringparam,
	.get_channels		= keel_get_channels,
};

/**
 * keel_set_ethtool_ops() - attach the ethtool operations
 * @netdev: the device
 */
void keel_set_ethtool_ops(struct net_device *netdev)
{
	netdev->ethtool_ops = &keel_ethtool_ops;
}
