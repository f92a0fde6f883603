/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (c) 2026 Keel contributors */

#ifndef _KEEL_STATS_H_
#define _KEEL_STATS_H_

#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/types.h>

#include "keel_csr.h"

struct keel_dev;

/**
 * struct keel_hw_stats - MAC counters accumulated from the device
 * @crcerrs: frames with a bad FCS (CRCERRS)
 * @algnerrc: frames with an alignment error (ALGNERRC)
 * @symerrs: symbol errors, SerDes modes (SYMERRS)
 * @rxerrc: frames received with a PHY error (RXERRC)
 * @mpc: frames dropped for lack of room in the receive FIFO (MPC)
 * @scc: frames sent after exactly one collision (SCC)
 * @ecol: frames dropped after excessive collisions (ECOL)
 * @mcc: frames sent after more than one collision (MCC)
 * @latecol: late collisions (LATECOL)
 * @colc: collisions (COLC)
 * @dc: frames whose transmission was deferred (DC)
 * @rlec: frames received too short or too long (RLEC)
 * @xonrxc: XON frames received (XONRXC)
 * @xontxc: XON frames sent (XONTXC)
 * @xoffrxc: XOFF frames received (XOFFRXC)
 * @xofftxc: XOFF frames sent (XOFFTXC)
 * @fcruc: MAC control frames received with an unsupported opcode (FCRUC)
 * @prc: good frames received per size bucket (PRC64 to PRC1522)
 * @gprc: good frames received (GPRC)
 * @bprc: good broadcast frames received (BPRC)
 * @mprc: good multicast frames received (MPRC)
 * @gptc: good frames sent (GPTC)
 * @gorc: octets of good frames received, address to FCS (GORC)
 * @gotc: octets of good frames sent, address to FCS (GOTC)
 * @rnbc: frames that found no receive descriptor and waited (RNBC)
 * @ruc: undersized frames with a good FCS (RUC)
 * @rfc: undersized frames with a bad FCS (RFC)
 * @roc: oversized frames with a good FCS (ROC)
 * @rjc: oversized frames with a bad FCS (RJC)
 * @mgtprc: management frames passed to the firmware (MGTPRC)
 * @mgtpdc: management frames the firmware dropped (MGTPDC)
 * @mgtptc: management frames the firmware sent (MGTPTC)
 * @ptc: good frames sent per size bucket (PTC64 to PTC1522)
 * @mptc: good multicast frames sent (MPTC)
 * @bptc: good broadcast frames sent (BPTC)
 * @tsctfc: TSO contexts that failed for lack of packet buffer (TSCTFC)
 * @resets: MAC resets since the driver loaded, each of which clears
 *	the device counters after they were added here
 */
struct keel_hw_stats {
	u64 crcerrs;
	u64 algnerrc;
	u64 symerrs;
	u64 rxerrc;
	u64 mpc;
	u64 scc;
	u64 ecol;
	u64 mcc;
	u64 latecol;
	u64 colc;
	u64 dc;
	u64 rlec;
	u64 xonrxc;
	u64 xontxc;
	u64 xoffrxc;
	u64 xofftxc;
	u64 fcruc;
	u64 prc[KEEL_SIZE_BUCKETS];
	u64 gprc;
	u64 bprc;
	u64 mprc;
	u64 gptc;
	u64 gorc;
	u64 gotc;
	u64 rnbc;
	u64 ruc;
	u64 rfc;
	u64 roc;
	u64 rjc;
	u64 mgtprc;
	u64 mgtpdc;
	u64 mgtptc;
	u64 ptc[KEEL_SIZE_BUCKETS];
	u64 mptc;
	u64 bptc;
	u64 tsctfc;
	u64 resets;
};

/* keel_stats.c */
void keel_stats_init(struct keel_dev *kd);
void keel_stats_stop(struct keel_dev *kd);
void keel_stats_reset_prepare(struct keel_dev *kd);
void keel_stats_reset_done(struct keel_dev *kd);
void keel_stats_fill64(struct keel_dev *kd, struct rtnl_link_stats64 *stats);
void keel_get_eth_mac_stats(struct net_device *netdev,
			    struct ethtool_eth_mac_stats *mac);
void keel_get_eth_phy_stats(struct net_device *netdev,
			    struct ethtool_eth_phy_stats *phy);
void keel_get_eth_ctrl_stats(struct net_device *netdev,
			     struct ethtool_eth_ctrl_stats *ctrl);
void keel_get_rmon_stats(struct net_device *netdev,
			 struct ethtool_rmon_stats *rmon,
			 const struct ethtool_rmon_hist_range **ranges);
void keel_get_pause_stats(struct net_device *netdev,
			  struct ethtool_pause_stats *pause);
void keel_get_pauseparam(struct net_device *netdev,
			 struct ethtool_pauseparam *pause);
int keel_get_sset_count(struct net_device *netdev, int sset);
void keel_get_strings(struct net_device *netdev, u32 sset, u8 *data);
void keel_get_ethtool_stats(struct net_device *netdev,
			    struct ethtool_stats *stats, u64 *data);

#endif /* _KEEL_STATS_H_ */
