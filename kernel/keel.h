/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (c) 2026 Keel contributors */

#ifndef _KEEL_H_
#define _KEEL_H_

#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <net/devlink.h>

#include "keel_csr.h"
#include "keel_stats.h"
#include "keel_txrx.h"

#define KEEL_DRV_NAME		"keel"

#define KEEL_NUM_OTHER_VECTORS	1
#define KEEL_OTHER_VECTOR	0

/* Queue vector moderation until configured: at most one interrupt every
 * 50 us (EITR counts microseconds), 20,000 a second.
 */
#define KEEL_DEFAULT_USECS	50
#define KEEL_MAX_USECS		FIELD_MAX(KEEL_EITR_INTERVAL)

#define KEEL_MIN_MTU		ETH_MIN_MTU
#define KEEL_MAX_MTU		9216
/* Retry interval of the RX refill of a ring left without buffers */
#define KEEL_REFILL_RETRY	msecs_to_jiffies(10)
/* Frame overhead on top of the MTU: header, one VLAN tag and the FCS */
#define KEEL_FRAME_OVERHEAD	(ETH_HLEN + VLAN_HLEN + ETH_FCS_LEN)

/**
 * enum keel_state_bits - bits of &keel_dev.state
 * @KEEL_STATE_UP: the datapath is set up: vectors installed, interrupts
 *	requested. Changed under RTNL only.
 * @KEEL_STATE_DOWN: the datapath is stopping or stopped: no interrupt
 *	handler or NAPI poll may unmask a vector or wake a TX queue.
 * @KEEL_STATE_RESET_REQUESTED: a TX timeout asked for a reset that has
 *	not run yet; ndo_stop clears it, which cancels the reset.
 * @KEEL_STATE_STATS_ON: the MAC counters' lock and work are set up
 * @KEEL_STATE_STATS_BUSY: a MAC reset is under way, the statistics
 *	registers must not be read (changed under &keel_dev.hw_stats_lock)
 * @KEEL_STATE_NBITS: number of bits
 */
enum keel_state_bits {
	KEEL_STATE_UP,
	KEEL_STATE_DOWN,
	KEEL_STATE_RESET_REQUESTED,
	KEEL_STATE_STATS_ON,
	KEEL_STATE_STATS_BUSY,
	KEEL_STATE_NBITS
};

/**
 * struct keel_qirq - the interrupt of one queue vector
 * @kd: the device
 * @idx: queue pair the vector serves
 * @requested: the interrupt is requested (changed under RTNL)
 * @count: interrupts taken
 * @name: interrupt name
 *
 * Lives as long as the device, so that an interrupt stays requested
 * while the rings behind it are replaced (ethtool -L/-G).
 */
struct keel_qirq {
	struct keel_dev *kd;
	u16 idx;
	bool requested;
	u32 count;
	char name[IFNAMSIZ + 16];
};

/**
 * struct keel_dev - state of one 82576 port
 * @netdev: the network device
 * @pdev: the PCI function
 * @hw_addr: BAR0 mapping; NULL once the device stopped answering
 * @bar0: BAR0 mapping, kept for PCIe error recovery
 * @nv: NAPI vectors, one per queue pair; allocated while the device is up
 * @num_queues: queue pairs in use
 * @max_queues: queue pairs the MSI-X vectors allow
 * @tx_ring_count: descriptors per TX ring
 * @rx_ring_count: descriptors per RX ring
 * @eims_other: EIMS bit of the vector for link and other causes
 * @eims_queues: EIMS bits of the queue vectors
 * @rx_usecs: interrupt interval of the queue vectors, in microseconds;
 *	a vector serves an RX and a TX queue, so it covers both
 * @rss_key: RSS hash key
 * @rss_indir: RSS indirection table, queue per entry
 * @rss_hash: MRQC hash-field enables (KEEL_MRQC_TCP4...)
 * @active_vlans: VLAN IDs the stack registered, for the VLAN filter
 * @state: KEEL_STATE_* bits
 * @stop_gen: datapath stops so far (changed under RTNL): a reset taken
 *	before a stop is moot after it
 * @rx_starved: queues whose RX ring has no buffer posted
 * @refill_work: retries the RX refill of starved queues
 * @qirq: queue vector interrupts
 * @lan_id: port of a dual-port device, for the PHY semaphore
 * @stats_lock: protects @nv against ndo_get_stats64 while rings come and
 *	go, and the totals in @tx_base and @rx_base
 * @tx_base: counters of TX rings that were freed
 * @rx_base: counters of RX rings that were freed
 * @reset_task: recovery after a TX timeout
 * @msg_enable: netif_msg_* bitmap
 * @mta: shadow of the multicast table, built under netif_addr_lock
 * @misc_name: name of the link and other causes interrupt
 * @hw_stats_lock: protects @hw_stats and KEEL_STATE_STATS_BUSY; held
 *	while the clear-on-read statistics registers are read and added up
 * @hw_stats: MAC counters accumulated from the statistics registers
 * @stats_work: adds up the statistics registers every two seconds
 * @other_irqs: interrupts taken on the link and other causes vector
 * @devlink: the devlink instance; its private area points back here
 * @dl_port: devlink port of the netdev, flavour physical
 * @tx_reporter: devlink health reporter of TX timeouts
 * @rx_reporter: devlink health reporter of RX frame errors
 * @rx_errors_seen: RX frame errors at the last report, read and written
 *	by @stats_work only
 * @rx_report_time: jiffies of the last RX error report, 0 before the
 *	first; @stats_work only
 */
struct keel_dev {
	struct net_device *netdev;
	struct pci_dev *pdev;
	u8 __iomem *hw_addr;
	u8 __iomem *bar0;

	struct keel_napi_vector *nv[KEEL_MAX_QUEUES];
	unsigned int num_queues;
	unsigned int max_queues;
	u32 tx_ring_count;
	u32 rx_ring_count;

	u32 eims_other;
	u32 eims_queues;
	u32 rx_usecs;

	u8 rss_key[KEEL_RSS_KEY_SIZE];
	u8 rss_indir[KEEL_RETA_ENTRIES];
	u32 rss_hash;
	unsigned long active_vlans[BITS_TO_LONGS(VLAN_N_VID)];
	DECLARE_BITMAP(state, KEEL_STATE_NBITS);
	u32 stop_gen;
	DECLARE_BITMAP(rx_starved, KEEL_MAX_QUEUES);
	struct delayed_work refill_work;
	struct keel_qirq qirq[KEEL_MAX_QUEUES];
	u8 lan_id;

	/* protects nv[] for readers of the counters, and the bases */
	spinlock_t stats_lock;
	struct keel_ring_stats tx_base;
	struct keel_ring_stats rx_base;

	struct work_struct reset_task;
	u32 msg_enable;
	u32 mta[KEEL_MTA_ENTRIES];
	char misc_name[IFNAMSIZ + 8];

	/* protects hw_stats, STATS_BUSY and the statistics registers */
	spinlock_t hw_stats_lock;
	struct keel_hw_stats hw_stats;
	struct delayed_work stats_work;
	u32 other_irqs;

	struct devlink *devlink;
	struct devlink_port dl_port;
	struct devlink_health_reporter *tx_reporter;
	struct devlink_health_reporter *rx_reporter;
	u64 rx_errors_seen;
	unsigned long rx_report_time;
};

u32 keel_rd32(struct keel_dev *kd, u32 reg);

static inline void keel_wr32(struct keel_dev *kd, u32 reg, u32 val)
{
	u8 __iomem *hw_addr = READ_ONCE(kd->hw_addr);

	if (likely(hw_addr))
		writel(val, hw_addr + reg);
}

static inline void keel_rmw32(struct keel_dev *kd, u32 reg, u32 clear,
			      u32 set)
{
	keel_wr32(kd, reg, (keel_rd32(kd, reg) & ~clear) | set);
}

static inline void keel_wrfl(struct keel_dev *kd)
{
	keel_rd32(kd, KEEL_STATUS);
}

static inline bool keel_present(struct keel_dev *kd)
{
	return !!READ_ONCE(kd->hw_addr);
}

/* keel_hw.c */
int keel_hw_reset(struct keel_dev *kd);
int keel_hw_read_mac(struct keel_dev *kd, u8 *mac);
int keel_hw_read_eeprom(struct keel_dev *kd, u16 offset, u16 *data);
int keel_hw_eeprom_checksum(struct keel_dev *kd, bool *valid);
void keel_hw_set_rar(struct keel_dev *kd, unsigned int idx, const u8 *addr);
void keel_hw_clear_rar(struct keel_dev *kd, unsigned int idx);
void keel_hw_set_mta(struct keel_dev *kd, const u32 *mta);
u32 keel_hw_mta_hash(const u8 *addr);
int keel_hw_setup_link(struct keel_dev *kd);
int keel_hw_phy_read(struct keel_dev *kd, u32 reg, u16 *data);
bool keel_hw_link_up(struct keel_dev *kd, u32 *speed, u8 *duplex);
void keel_hw_set_max_frame(struct keel_dev *kd, unsigned int mtu);
void keel_hw_driver_loaded(struct keel_dev *kd, bool loaded);

/* keel_irq.c */
void keel_irq_set_itr(struct keel_dev *kd);
int keel_irq_alloc_vectors(struct keel_dev *kd);
int keel_irq_request(struct keel_dev *kd, unsigned int num_queues);
void keel_irq_release(struct keel_dev *kd, unsigned int num_queues);
int keel_irq_request_other(struct keel_dev *kd);
void keel_irq_free(struct keel_dev *kd);
void keel_irq_configure(struct keel_dev *kd);
void keel_irq_enable(struct keel_dev *kd);
void keel_irq_disable(struct keel_dev *kd);
void keel_link_check(struct keel_dev *kd);

/* keel_netdev.c */
struct net_device *keel_netdev_alloc(struct pci_dev *pdev);
void keel_up(struct keel_dev *kd);
void keel_down(struct keel_dev *kd);
int keel_reset(struct keel_dev *kd);
int keel_open_datapath(struct keel_dev *kd);
void keel_close_datapath(struct keel_dev *kd);
void keel_set_rx_mode(struct net_device *netdev);
int keel_reconfigure(struct keel_dev *kd, unsigned int num_queues,
		     u32 tx_count, u32 rx_count,
		     struct netlink_ext_ack *extack);
void keel_rss_default_indir(struct keel_dev *kd);
void keel_rx_kick(struct keel_dev *kd, unsigned int q);
void keel_rss_configure(struct keel_dev *kd);
int keel_reset(struct keel_dev *kd);

/* keel_devlink.c */
int keel_devlink_register(struct keel_dev *kd);
void keel_devlink_unregister(struct keel_dev *kd);
void keel_devlink_report_tx_timeout(struct keel_dev *kd, u32 stop_gen);
void keel_devlink_rx_check(struct keel_dev *kd, u64 errors);

/* keel_ethtool.c */
void keel_set_ethtool_ops(struct net_device *netdev);

/* keel_diag.c */
int keel_diag_test_count(void);
void keel_diag_test_strings(u8 **data);
void keel_self_test(struct net_device *netdev, struct ethtool_test *test,
		    u64 *data);
int keel_get_regs_len(struct net_device *netdev);
void keel_get_regs(struct net_device *netdev, struct ethtool_regs *regs,
		   void *p);
int keel_get_eeprom_len(struct net_device *netdev);
int keel_get_eeprom(struct net_device *netdev, struct ethtool_eeprom *ee,
		    u8 *data);

#endif /* _KEEL_H_ */
