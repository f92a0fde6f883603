// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/ethtool.h>
#include <linux/linkmode.h>
#include <linux/mii.h>
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

/* What the PHY advertises and what its link partner does; left empty
 * when the PHY cannot be read.
 */
static void keel_get_link_modes(struct keel_dev *kd,
				struct ethtool_link_ksettings *cmd)
{
	u16 bmcr, adv, ctrl1000, lpa, stat1000;

	if (keel_hw_phy_read(kd, MII_BMCR, &bmcr) ||
	    keel_hw_phy_read(kd, MII_ADVERTISE, &adv) ||
	    keel_hw_phy_read(kd, MII_CTRL1000, &ctrl1000) ||
	    keel_hw_phy_read(kd, MII_LPA, &lpa) ||
	    keel_hw_phy_read(kd, MII_STAT1000, &stat1000)) {
		netif_dbg(kd, hw, kd->netdev, "cannot read the PHY\n");
		return;
	}

	cmd->base.autoneg = bmcr & BMCR_ANENABLE ? AUTONEG_ENABLE :
						   AUTONEG_DISABLE;
	mii_adv_to_linkmode_adv_t(cmd->link_modes.advertising, adv);
	mii_ctrl1000_mod_linkmode_adv_t(cmd->link_modes.advertising,
					ctrl1000);
	if (cmd->base.autoneg == AUTONEG_ENABLE)
		ethtool_link_ksettings_add_link_mode(cmd, advertising,
						     Autoneg);
	ethtool_link_ksettings_add_link_mode(cmd, advertising, TP);
	/* A partner's abilities are valid once negotiation completed */
	if (netif_carrier_ok(kd->netdev) && (lpa & LPA_LPACK)) {
		mii_lpa_mod_linkmode_lpa_t(cmd->link_modes.lp_advertising,
					   lpa);
		mii_stat1000_mod_linkmode_lpa_t(cmd->link_modes.lp_advertising,
						stat1000);
	}
}

static int keel_get_link_ksettings(struct net_device *netdev,
				   struct ethtool_link_ksettings *cmd)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u8 duplex = DUPLEX_UNKNOWN;
	u32 speed = SPEED_UNKNOWN;

	ethtool_link_ksettings_zero_link_mode(cmd, supported);
	ethtool_link_ksettings_zero_link_mode(cmd, advertising);
	ethtool_link_ksettings_zero_link_mode(cmd, lp_advertising);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 10baseT_Half);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 10baseT_Full);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 100baseT_Half);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 100baseT_Full);
	ethtool_link_ksettings_add_link_mode(cmd, supported, 1000baseT_Full);
	ethtool_link_ksettings_add_link_mode(cmd, supported, Autoneg);
	ethtool_link_ksettings_add_link_mode(cmd, supported, TP);

	cmd->base.port = PORT_TP;
	cmd->base.phy_address = KEEL_PHY_ADDR;
	cmd->base.autoneg = AUTONEG_DISABLE;
	if (keel_present(kd))
		keel_get_link_modes(kd, cmd);

	if (netif_carrier_ok(netdev) && keel_hw_link_up(kd, &speed, &duplex)) {
		cmd->base.speed = speed;
		cmd->base.duplex = duplex;
	} else {
		cmd->base.speed = SPEED_UNKNOWN;
		cmd->base.duplex = DUPLEX_UNKNOWN;
	}
	return 0;
}

/* Why the link is down, as far as the PHY can tell: with autonegotiation
 * on and not complete, no partner answered (no cable looks the same to a
 * copper PHY). Nothing is reported while the link is up or the device is
 * down, gone, or its PHY unreadable.
 */
static int keel_get_link_ext_state(struct net_device *netdev,
				   struct ethtool_link_ext_state_info *info)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u16 bmcr, bmsr;

	if (netif_carrier_ok(netdev) || !netif_running(netdev) ||
	    !keel_present(kd))
		return -ENODATA;
	if (keel_hw_phy_read(kd, MII_BMCR, &bmcr) ||
	    keel_hw_phy_read(kd, MII_BMSR, &bmsr))
		return -ENODATA;
	if (!(bmcr & BMCR_ANENABLE) || (bmsr & BMSR_ANEGCOMPLETE))
		return -ENODATA;

	info->link_ext_state = ETHTOOL_LINK_EXT_STATE_AUTONEG;
	info->autoneg = ETHTOOL_LINK_EXT_SUBSTATE_AN_NO_PARTNER_DETECTED;
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

static int keel_set_ringparam(struct net_device *netdev,
			      struct ethtool_ringparam *ring,
			      struct kernel_ethtool_ringparam *kring,
			      struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u32 tx, rx;

	if (ring->tx_pending < KEEL_MIN_DESC ||
	    ring->rx_pending < KEEL_MIN_DESC) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "rings hold at least %u descriptors",
				       KEEL_MIN_DESC);
		return -EINVAL;
	}
	/* The core has checked the maximum; ring memory comes in
	 * 128-byte steps
	 */
	tx = ALIGN(ring->tx_pending, KEEL_DESC_ALIGN);
	rx = ALIGN(ring->rx_pending, KEEL_DESC_ALIGN);
	if (tx == kd->tx_ring_count && rx == kd->rx_ring_count)
		return 0;

	return keel_reconfigure(kd, kd->num_queues, tx, rx, extack);
}

static void keel_get_channels(struct net_device *netdev,
			      struct ethtool_channels *ch)
{
	struct keel_dev *kd = netdev_priv(netdev);

	ch->max_other = KEEL_NUM_OTHER_VECTORS;
	ch->other_count = KEEL_NUM_OTHER_VECTORS;
	ch->max_combined = kd->max_queues;
	ch->combined_count = kd->num_queues;
}

static int keel_set_channels(struct net_device *netdev,
			     struct ethtool_channels *ch)
{
	struct keel_dev *kd = netdev_priv(netdev);

	/* The core has checked the maximums and that the indirection
	 * table a user set points at no queue that goes away
	 */
	if (!ch->combined_count || ch->rx_count || ch->tx_count ||
	    ch->other_count != KEEL_NUM_OTHER_VECTORS)
		return -EINVAL;
	if (ch->combined_count == kd->num_queues)
		return 0;

	return keel_reconfigure(kd, ch->combined_count, kd->tx_ring_count,
				kd->rx_ring_count, NULL);
}

static int keel_get_coalesce(struct net_device *netdev,
			     struct ethtool_coalesce *ec,
			     struct kernel_ethtool_coalesce *kec,
			     struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = netdev_priv(netdev);

	ec->rx_coalesce_usecs = kd->rx_usecs;
	return 0;
}

static int keel_set_coalesce(struct net_device *netdev,
			     struct ethtool_coalesce *ec,
			     struct kernel_ethtool_coalesce *kec,
			     struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = netdev_priv(netdev);

	/* One vector serves a queue pair, so one interval covers both
	 * directions: rx-usecs. The core refuses tx-usecs.
	 */
	if (ec->rx_coalesce_usecs > KEEL_MAX_USECS) {
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "the interrupt interval is at most %lu us",
				       KEEL_MAX_USECS);
		return -EINVAL;
	}
	kd->rx_usecs = ec->rx_coalesce_usecs;
	if (test_bit(KEEL_STATE_UP, kd->state))
		keel_irq_set_itr(kd);
	return 0;
}

/* RSS hash fields per flow type. IPv4 and IPv6 addresses are always
 * hashed; TCP and UDP ports can be added or left out.
 */
#define KEEL_RXH_L3	(RXH_IP_SRC | RXH_IP_DST)
#define KEEL_RXH_L4	(KEEL_RXH_L3 | RXH_L4_B_0_1 | RXH_L4_B_2_3)

static u32 keel_flow_l4_bits(u32 flow_type)
{
	switch (flow_type) {
	case TCP_V4_FLOW:
		return KEEL_MRQC_TCP4;
	case UDP_V4_FLOW:
		return KEEL_MRQC_UDP4;
	case TCP_V6_FLOW:
		return KEEL_MRQC_TCP6 | KEEL_MRQC_TCP6EX;
	case UDP_V6_FLOW:
		return KEEL_MRQC_UDP6 | KEEL_MRQC_UDP6EX;
	default:
		return 0;
	}
}

static bool keel_flow_is_ip(u32 flow_type)
{
	switch (flow_type) {
	case TCP_V4_FLOW:
	case UDP_V4_FLOW:
	case SCTP_V4_FLOW:
	case AH_ESP_V4_FLOW:
	case AH_V4_FLOW:
	case ESP_V4_FLOW:
	case IPV4_FLOW:
	case TCP_V6_FLOW:
	case UDP_V6_FLOW:
	case SCTP_V6_FLOW:
	case AH_ESP_V6_FLOW:
	case AH_V6_FLOW:
	case ESP_V6_FLOW:
	case IPV6_FLOW:
		return true;
	default:
		return false;
	}
}

static int keel_get_rxnfc(struct net_device *netdev,
			  struct ethtool_rxnfc *cmd, u32 *rule_locs)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u32 l4;

	switch (cmd->cmd) {
	case ETHTOOL_GRXRINGS:
		cmd->data = kd->num_queues;
		return 0;
	case ETHTOOL_GRXFH:
		if (!keel_flow_is_ip(cmd->flow_type))
			return -EINVAL;
		l4 = keel_flow_l4_bits(cmd->flow_type);
		cmd->data = l4 && (kd->rss_hash & l4) ? KEEL_RXH_L4 :
							KEEL_RXH_L3;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int keel_set_rxnfc(struct net_device *netdev,
			  struct ethtool_rxnfc *cmd)
{
	struct keel_dev *kd = netdev_priv(netdev);
	u32 l4;

	if (cmd->cmd != ETHTOOL_SRXFH)
		return -EOPNOTSUPP;
	if (!keel_flow_is_ip(cmd->flow_type))
		return -EINVAL;

	l4 = keel_flow_l4_bits(cmd->flow_type);
	if (cmd->data == KEEL_RXH_L4 && l4)
		kd->rss_hash |= l4;
	else if (cmd->data == KEEL_RXH_L3)
		kd->rss_hash &= ~l4;
	else
		return -EINVAL;

	if (test_bit(KEEL_STATE_UP, kd->state))
		keel_rss_configure(kd);
	return 0;
}

static u32 keel_get_rxfh_key_size(struct net_device *netdev)
{
	return KEEL_RSS_KEY_SIZE;
}

static u32 keel_get_rxfh_indir_size(struct net_device *netdev)
{
	return KEEL_RETA_ENTRIES;
}

static int keel_get_rxfh(struct net_device *netdev,
			 struct ethtool_rxfh_param *rxfh)
{
	struct keel_dev *kd = netdev_priv(netdev);
	unsigned int i;

	rxfh->hfunc = ETH_RSS_HASH_TOP;
	if (rxfh->indir)
		for (i = 0; i < KEEL_RETA_ENTRIES; i++)
			rxfh->indir[i] = kd->rss_indir[i];
	if (rxfh->key)
		memcpy(rxfh->key, kd->rss_key, KEEL_RSS_KEY_SIZE);
	return 0;
}

static int keel_set_rxfh(struct net_device *netdev,
			 struct ethtool_rxfh_param *rxfh,
			 struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = netdev_priv(netdev);
	unsigned int i;

	if (rxfh->hfunc != ETH_RSS_HASH_NO_CHANGE &&
	    rxfh->hfunc != ETH_RSS_HASH_TOP) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the device hashes with Toeplitz only");
		return -EOPNOTSUPP;
	}
	/* The core has checked every entry against the queue count */
	if (rxfh->indir)
		for (i = 0; i < KEEL_RETA_ENTRIES; i++)
			kd->rss_indir[i] = rxfh->indir[i];
	if (rxfh->key)
		memcpy(kd->rss_key, rxfh->key, KEEL_RSS_KEY_SIZE);

	if (test_bit(KEEL_STATE_UP, kd->state))
		keel_rss_configure(kd);
	return 0;
}

static const struct ethtool_ops keel_ethtool_ops = {
	.supported_coalesce_params = ETHTOOL_COALESCE_RX_USECS,
	.get_drvinfo		= keel_get_drvinfo,
	.get_msglevel		= keel_get_msglevel,
	.set_msglevel		= keel_set_msglevel,
	.get_link		= ethtool_op_get_link,
	.get_link_ext_state	= keel_get_link_ext_state,
	.get_regs_len		= keel_get_regs_len,
	.get_regs		= keel_get_regs,
	.get_eeprom_len		= keel_get_eeprom_len,
	.get_eeprom		= keel_get_eeprom,
	.self_test		= keel_self_test,
	.get_sset_count		= keel_get_sset_count,
	.get_strings		= keel_get_strings,
	.get_ethtool_stats	= keel_get_ethtool_stats,
	.get_eth_phy_stats	= keel_get_eth_phy_stats,
	.get_eth_mac_stats	= keel_get_eth_mac_stats,
	.get_eth_ctrl_stats	= keel_get_eth_ctrl_stats,
	.get_rmon_stats		= keel_get_rmon_stats,
	.get_pauseparam		= keel_get_pauseparam,
	.get_pause_stats	= keel_get_pause_stats,
	.get_link_ksettings	= keel_get_link_ksettings,
	.get_ringparam		= keel_get_ringparam,
	.set_ringparam		= keel_set_ringparam,
	.get_channels		= keel_get_channels,
	.set_channels		= keel_set_channels,
	.get_coalesce		= keel_get_coalesce,
	.set_coalesce		= keel_set_coalesce,
	.get_rxnfc		= keel_get_rxnfc,
	.set_rxnfc		= keel_set_rxnfc,
	.get_rxfh_key_size	= keel_get_rxfh_key_size,
	.get_rxfh_indir_size	= keel_get_rxfh_indir_size,
	.get_rxfh		= keel_get_rxfh,
	.set_rxfh		= keel_set_rxfh,
};

/**
 * keel_set_ethtool_ops() - attach the ethtool operations
 * @netdev: the device
 */
void keel_set_ethtool_ops(struct net_device *netdev)
{
	netdev->ethtool_ops = &keel_ethtool_ops;
}
