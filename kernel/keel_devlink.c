// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/etherdevice.h>
#include <linux/jiffies.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>
#include <linux/unaligned.h>
#include <net/devlink.h>

#include "keel.h"

/* Locking: devlink calls every op below with its instance lock held, and
 * devlink_health_report() takes that lock itself. The instance lock comes
 * before RTNL (Documentation/networking/devlink/index.rst), so the ops
 * take RTNL for the rings and registers, and nothing reports to devlink
 * with RTNL held.
 */

/* EEPROM words read by devlink info (82576 datasheet, section 6.1) */
#define KEEL_NVM_VERSION		0x05
#define  KEEL_NVM_VERSION_MAJOR		GENMASK(15, 12)
#define  KEEL_NVM_VERSION_MINOR		GENMASK(11, 4)
#define  KEEL_NVM_VERSION_IMAGE		GENMASK(3, 0)
#define KEEL_NVM_PBA_0			0x08
#define KEEL_NVM_PBA_1			0x09
#define  KEEL_NVM_PBA_PTR_GUARD		0xFAFA
#define KEEL_NVM_ETRACK_LO		0x42
#define KEEL_NVM_ETRACK_HI		0x43
#define  KEEL_NVM_ETRACK_FLAG		GENMASK(15, 12)
#define  KEEL_NVM_ETRACK_VALID		0x8

/* Longest PBA string kept: "G12345-001" style numbers are 10 characters */
#define KEEL_PBA_LEN			32
#define KEEL_VER_LEN			32

/* Descriptors a dump shows on each side of a ring's head */
#define KEEL_DUMP_TX_BEFORE		64
#define KEEL_DUMP_TX_AFTER		64
#define KEEL_DUMP_RX_BEFORE		16
#define KEEL_DUMP_RX_AFTER		16

/* At most one RX error report in this interval */
#define KEEL_RX_REPORT_INTERVAL		(30 * HZ)

/**
 * struct keel_dl_ctx - what a report passes to the reporter's ops
 * @reason: what went wrong, for the log
 * @stop_gen: for a TX timeout, &keel_dev.stop_gen when the reset work
 *	took the request: a stop since then cancelled the reset
 * @timeout: the report is a TX timeout's
 */
struct keel_dl_ctx {
	const char *reason;
	u32 stop_gen;
	bool timeout;
};

static struct keel_dev *keel_dl_kd(struct devlink *devlink)
{
	return *(struct keel_dev **)devlink_priv(devlink);
}

static int keel_nvm_read(struct keel_dev *kd, u16 word, u16 *data)
{
	return keel_hw_read_eeprom(kd, word, data);
}

/* The PBA as igb decodes it: a string in the EEPROM behind the pointer
 * in word 0x09 when word 0x08 holds the guard, else the legacy format of
 * six and three hex digits packed in the two words.
 */
static int keel_nvm_pba(struct keel_dev *kd, char *pba, size_t size)
{
	u16 w0, w1, len, data, i;
	int err;

	err = keel_nvm_read(kd, KEEL_NVM_PBA_0, &w0);
	if (!err)
		err = keel_nvm_read(kd, KEEL_NVM_PBA_1, &w1);
	if (err)
		return err;

	if (w0 != KEEL_NVM_PBA_PTR_GUARD) {
		snprintf(pba, size, "%04X%02X-0%02X", w0, w1 >> 8, w1 & 0xff);
		return 0;
	}

	/* The section's first word is its length in words, itself included */
	err = keel_nvm_read(kd, w1, &len);
	if (err)
		return err;
	if (!len || len == 0xFFFF || (len - 1) * 2 >= size)
		return -EINVAL;
	for (i = 0; i < len - 1; i++) {
		err = keel_nvm_read(kd, w1 + 1 + i, &data);
		if (err)
			return err;
		pba[2 * i] = data >> 8;
		pba[2 * i + 1] = data & 0xff;
	}
	pba[2 * i] = '\0';
	return 0;
}

/* The EEPROM image version, as igb reads it on the 82575 and 82576:
 * word 0x05 holds major, minor and image ID unless words 0x42/0x43 hold
 * an eTrack ID; then the minor number is BCD-like and the eTrack ID names
 * the image.
 */
static int keel_nvm_version(struct keel_dev *kd, char *ver, u32 *etrack)
{
	u16 word, hi, lo;
	u8 minor;
	int err;

	err = keel_nvm_read(kd, KEEL_NVM_ETRACK_HI, &hi);
	if (!err)
		err = keel_nvm_read(kd, KEEL_NVM_VERSION, &word);
	if (err)
		return err;

	*etrack = 0;
	if (FIELD_GET(KEEL_NVM_ETRACK_FLAG, hi) != KEEL_NVM_ETRACK_VALID) {
		snprintf(ver, KEEL_VER_LEN, "%lu.%lu.%lu",
			 FIELD_GET(KEEL_NVM_VERSION_MAJOR, word),
			 FIELD_GET(KEEL_NVM_VERSION_MINOR, word),
			 FIELD_GET(KEEL_NVM_VERSION_IMAGE, word));
		return 0;
	}

	err = keel_nvm_read(kd, KEEL_NVM_ETRACK_LO, &lo);
	if (err)
		return err;
	*etrack = (u32)hi << 16 | lo;
	/* Newer images keep the minor number in the low byte */
	if (word & 0x0F00)
		minor = FIELD_GET(KEEL_NVM_VERSION_MINOR, word);
	else
		minor = word & 0xff;
	snprintf(ver, KEEL_VER_LEN, "%lu.%u",
		 FIELD_GET(KEEL_NVM_VERSION_MAJOR, word),
		 (minor >> 4) * 10 + (minor & 0xf));
	return 0;
}

/* Serial number: the PCIe Device Serial Number, which the 82576 derives
 * from the port's own MAC address (EUI-64), so each port has its own;
 * without the capability, the permanent MAC address of the port.
 */
static int keel_serial_put(struct keel_dev *kd, struct devlink_info_req *req)
{
	char serial[3 * 8];
	u8 dsn[8];
	u64 val;

	val = pci_get_dsn(kd->pdev);
	if (val) {
		put_unaligned_be64(val, dsn);
		snprintf(serial, sizeof(serial), "%8phD", dsn);
	} else if (is_valid_ether_addr(kd->netdev->perm_addr)) {
		snprintf(serial, sizeof(serial), "%pM", kd->netdev->perm_addr);
	} else {
		return 0;
	}
	return devlink_info_serial_number_put(req, serial);
}

/* The PBA goes in board.id, as ice reports it; the EEPROM image version
 * in fw, and its eTrack ID, when it has one, in fw.bundle_id
 */
#define KEEL_INFO_BOARD_ID	DEVLINK_INFO_VERSION_GENERIC_BOARD_ID
#define KEEL_INFO_FW		DEVLINK_INFO_VERSION_GENERIC_FW
#define KEEL_INFO_BUNDLE_ID	DEVLINK_INFO_VERSION_GENERIC_FW_BUNDLE_ID

static int keel_devlink_info_get(struct devlink *devlink,
				 struct devlink_info_req *req,
				 struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = keel_dl_kd(devlink);
	char pba[KEEL_PBA_LEN], ver[KEEL_VER_LEN];
	u32 etrack;
	int err;

	err = keel_serial_put(kd, req);
	if (err)
		return err;

	/* RTNL keeps EERD to one reader: ethtool -e and resets use it too */
	rtnl_lock();
	if (!keel_present(kd)) {
		rtnl_unlock();
		NL_SET_ERR_MSG_MOD(extack, "the device does not answer");
		return -EIO;
	}
	err = keel_nvm_pba(kd, pba, sizeof(pba));
	if (err == -EINVAL) {
		pba[0] = '\0';
		err = 0;
	}
	if (!err)
		err = keel_nvm_version(kd, ver, &etrack);
	rtnl_unlock();
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot read the EEPROM");
		return err;
	}

	if (pba[0]) {
		err = devlink_info_version_fixed_put(req, KEEL_INFO_BOARD_ID,
						     pba);
		if (err)
			return err;
	}
	err = devlink_info_version_running_put(req, KEEL_INFO_FW, ver);
	if (err || !etrack)
		return err;
	snprintf(ver, sizeof(ver), "0x%08x", etrack);
	return devlink_info_version_running_put(req, KEEL_INFO_BUNDLE_ID,
						ver);
}

static const struct devlink_ops keel_devlink_ops = {
	.info_get	= keel_devlink_info_get,
};

static void keel_fmsg_hex64(struct devlink_fmsg *fmsg, const char *name,
			    __le64 val)
{
	char buf[sizeof("0123456789abcdef")];

	snprintf(buf, sizeof(buf), "%016llx", le64_to_cpu(val));
	devlink_fmsg_string_pair_put(fmsg, name, buf);
}

/* The descriptors from @before ahead of the ring's head up to @after past
 * it, but no further than the tail: those the device finished last and
 * those it still owns. Raw, as the device sees them.
 */
static void keel_fmsg_descs(struct devlink_fmsg *fmsg, struct keel_ring *ring,
			    u32 before, u32 after)
{
	u32 head = READ_ONCE(ring->head);
	u32 tail = READ_ONCE(ring->tail_idx);
	u32 n = ring->count, i, idx;

	after = min((tail + n - head) % n, after);
	before = min(n - after, before);

	devlink_fmsg_arr_pair_nest_start(fmsg, "descriptors");
	for (i = 0; i < before + after; i++) {
		idx = (head + n - before + i) % n;
		devlink_fmsg_obj_nest_start(fmsg);
		devlink_fmsg_u32_pair_put(fmsg, "index", idx);
		keel_fmsg_hex64(fmsg, "qw0", READ_ONCE(ring->desc[idx].qw0));
		keel_fmsg_hex64(fmsg, "qw1", READ_ONCE(ring->desc[idx].qw1));
		devlink_fmsg_obj_nest_end(fmsg);
	}
	devlink_fmsg_arr_pair_nest_end(fmsg);
}

static void keel_fmsg_ring(struct keel_dev *kd, struct devlink_fmsg *fmsg,
			   struct keel_ring *ring, bool tx)
{
	u32 ctl = keel_rd32(kd, tx ? KEEL_TXDCTL(ring->q_idx) :
				     KEEL_RXDCTL(ring->q_idx));

	devlink_fmsg_u32_pair_put(fmsg, "queue", ring->q_idx);
	devlink_fmsg_u32_pair_put(fmsg, "count", ring->count);
	devlink_fmsg_u32_pair_put(fmsg, "sw_head", READ_ONCE(ring->head));
	devlink_fmsg_u32_pair_put(fmsg, "sw_tail", READ_ONCE(ring->tail_idx));
	devlink_fmsg_u32_pair_put(fmsg, "hw_head",
				  keel_rd32(kd, tx ? KEEL_TDH(ring->q_idx) :
						     KEEL_RDH(ring->q_idx)));
	devlink_fmsg_u32_pair_put(fmsg, "hw_tail",
				  keel_rd32(kd, tx ? KEEL_TDT(ring->q_idx) :
						     KEEL_RDT(ring->q_idx)));
	devlink_fmsg_bool_pair_put(fmsg, "enabled",
				   ctl & (tx ? KEEL_TXDCTL_ENABLE :
					       KEEL_RXDCTL_ENABLE));
}

static void keel_fmsg_tx_queue(struct keel_dev *kd, struct devlink_fmsg *fmsg,
			       struct keel_ring *ring)
{
	struct netdev_queue *txq = netdev_get_tx_queue(kd->netdev,
						       ring->q_idx);
	struct keel_ring_stats s = {};

	keel_ring_stats_add(&s, ring);

	devlink_fmsg_obj_nest_start(fmsg);
	keel_fmsg_ring(kd, fmsg, ring, true);
	devlink_fmsg_bool_pair_put(fmsg, "stopped",
				   netif_xmit_stopped(txq));
	devlink_fmsg_u64_pair_put(fmsg, "packets", s.packets);
	devlink_fmsg_u64_pair_put(fmsg, "bytes", s.bytes);
	devlink_fmsg_u64_pair_put(fmsg, "stop", s.tx.stop);
	devlink_fmsg_u64_pair_put(fmsg, "wake", s.tx.wake);
	devlink_fmsg_u64_pair_put(fmsg, "dropped", s.tx.dropped);
	devlink_fmsg_obj_nest_end(fmsg);
}

static void keel_fmsg_rx_queue(struct keel_dev *kd, struct devlink_fmsg *fmsg,
			       struct keel_ring *ring)
{
	struct keel_ring_stats s = {};

	keel_ring_stats_add(&s, ring);

	devlink_fmsg_obj_nest_start(fmsg);
	keel_fmsg_ring(kd, fmsg, ring, false);
	devlink_fmsg_u64_pair_put(fmsg, "packets", s.packets);
	devlink_fmsg_u64_pair_put(fmsg, "bytes", s.bytes);
	devlink_fmsg_u64_pair_put(fmsg, "errors", s.rx.errors);
	devlink_fmsg_u64_pair_put(fmsg, "dropped", s.rx.dropped);
	devlink_fmsg_u64_pair_put(fmsg, "alloc_fail", s.rx.alloc_fail);
	devlink_fmsg_obj_nest_end(fmsg);
}

/* The rings exist (RTNL held) */
static bool keel_dl_up(struct keel_dev *kd)
{
	return test_bit(KEEL_STATE_UP, kd->state);
}

/* Device-wide state shared by both reporters; RTNL held */
static void keel_fmsg_common(struct keel_dev *kd, struct devlink_fmsg *fmsg)
{
	bool up = test_bit(KEEL_STATE_UP, kd->state);

	devlink_fmsg_bool_pair_put(fmsg, "running", up);
	devlink_fmsg_u32_pair_put(fmsg, "num_queues", up ? kd->num_queues : 0);
}

static int keel_tx_diagnose(struct devlink_health_reporter *reporter,
			    struct devlink_fmsg *fmsg,
			    struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = devlink_health_reporter_priv(reporter);
	unsigned int q;

	rtnl_lock();
	keel_fmsg_common(kd, fmsg);
	devlink_fmsg_arr_pair_nest_start(fmsg, "queues");
	for (q = 0; keel_dl_up(kd) && q < kd->num_queues; q++)
		keel_fmsg_tx_queue(kd, fmsg, &kd->nv[q]->tx);
	devlink_fmsg_arr_pair_nest_end(fmsg);
	rtnl_unlock();
	return 0;
}

static int keel_ring_dump(struct devlink_health_reporter *reporter,
			  struct devlink_fmsg *fmsg, void *priv_ctx,
			  bool tx)
{
	struct keel_dev *kd = devlink_health_reporter_priv(reporter);
	struct keel_dl_ctx *ctx = priv_ctx;
	struct keel_ring *ring;
	unsigned int q;

	rtnl_lock();
	devlink_fmsg_string_pair_put(fmsg, "reason",
				     ctx ? ctx->reason : "user request");
	keel_fmsg_common(kd, fmsg);
	devlink_fmsg_arr_pair_nest_start(fmsg, "rings");
	for (q = 0; keel_dl_up(kd) && q < kd->num_queues; q++) {
		ring = tx ? &kd->nv[q]->tx : &kd->nv[q]->rx;
		devlink_fmsg_obj_nest_start(fmsg);
		keel_fmsg_ring(kd, fmsg, ring, tx);
		if (tx)
			keel_fmsg_descs(fmsg, ring, KEEL_DUMP_TX_BEFORE,
					KEEL_DUMP_TX_AFTER);
		else
			keel_fmsg_descs(fmsg, ring, KEEL_DUMP_RX_BEFORE,
					KEEL_DUMP_RX_AFTER);
		devlink_fmsg_obj_nest_end(fmsg);
	}
	devlink_fmsg_arr_pair_nest_end(fmsg);
	rtnl_unlock();
	return 0;
}

static int keel_tx_dump(struct devlink_health_reporter *reporter,
			struct devlink_fmsg *fmsg, void *priv_ctx,
			struct netlink_ext_ack *extack)
{
	return keel_ring_dump(reporter, fmsg, priv_ctx, true);
}

/* A TX timeout (priv_ctx set) or `devlink health recover` (priv_ctx
 * NULL): both reach here with the devlink instance lock held and RTNL
 * free, see the locking comment at the top.
 */
static int keel_tx_recover(struct devlink_health_reporter *reporter,
			   void *priv_ctx, struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = devlink_health_reporter_priv(reporter);
	struct keel_dl_ctx *ctx = priv_ctx;
	int err = 0;

	rtnl_lock();
	/* A TX timeout's reset is cancelled by a stop since the reset
	 * work took it: the device was reopened fresh
	 */
	if (ctx && ctx->timeout && ctx->stop_gen != kd->stop_gen)
		goto out_unlock;
	if (!netif_running(kd->netdev) ||
	    !test_bit(KEEL_STATE_UP, kd->state))
		goto out_unlock;
	if (!keel_present(kd)) {
		NL_SET_ERR_MSG_MOD(extack, "the device does not answer");
		err = -EIO;
		goto out_unlock;
	}
	netdev_info(kd->netdev, "recovering from %s\n",
		    ctx ? ctx->reason : "an error, on request");
	err = keel_reset(kd);
	if (err)
		NL_SET_ERR_MSG_MOD(extack,
				   "reset failed, the device is closed");
out_unlock:
	rtnl_unlock();
	return err;
}

/* Stands in for a hung queue: the device stops processing every TX queue
 * while the driver keeps posting, so the stack's watchdog fires and the
 * real recovery path runs.
 */
static int keel_tx_test(struct devlink_health_reporter *reporter,
			struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = devlink_health_reporter_priv(reporter);
	unsigned int q;
	int err = 0;

	rtnl_lock();
	if (!test_bit(KEEL_STATE_UP, kd->state)) {
		NL_SET_ERR_MSG_MOD(extack, "the interface is down");
		err = -ENETDOWN;
		goto out_unlock;
	}
	netdev_warn(kd->netdev,
		    "devlink health test: disabling %u TX queues\n",
		    kd->num_queues);
	for (q = 0; q < kd->num_queues; q++)
		keel_wr32(kd, KEEL_TXDCTL(q), 0);
out_unlock:
	rtnl_unlock();
	return err;
}

static const struct devlink_health_reporter_ops keel_tx_reporter_ops = {
	.name		= "tx",
	.recover	= keel_tx_recover,
	.dump		= keel_tx_dump,
	.diagnose	= keel_tx_diagnose,
	.test		= keel_tx_test,
};

static void keel_fmsg_rx_errors(struct keel_dev *kd,
				struct devlink_fmsg *fmsg)
{
	struct keel_hw_stats hs;

	spin_lock_bh(&kd->hw_stats_lock);
	hs = kd->hw_stats;
	spin_unlock_bh(&kd->hw_stats_lock);

	devlink_fmsg_pair_nest_start(fmsg, "mac_errors");
	devlink_fmsg_obj_nest_start(fmsg);
	devlink_fmsg_u64_pair_put(fmsg, "crc", hs.crcerrs);
	devlink_fmsg_u64_pair_put(fmsg, "alignment", hs.algnerrc);
	devlink_fmsg_u64_pair_put(fmsg, "symbol", hs.symerrs);
	devlink_fmsg_u64_pair_put(fmsg, "phy", hs.rxerrc);
	devlink_fmsg_u64_pair_put(fmsg, "length", hs.rlec);
	devlink_fmsg_obj_nest_end(fmsg);
	devlink_fmsg_pair_nest_end(fmsg);
}

static int keel_rx_diagnose(struct devlink_health_reporter *reporter,
			    struct devlink_fmsg *fmsg,
			    struct netlink_ext_ack *extack)
{
	struct keel_dev *kd = devlink_health_reporter_priv(reporter);
	unsigned int q;

	rtnl_lock();
	keel_fmsg_common(kd, fmsg);
	keel_fmsg_rx_errors(kd, fmsg);
	devlink_fmsg_arr_pair_nest_start(fmsg, "queues");
	for (q = 0; keel_dl_up(kd) && q < kd->num_queues; q++)
		keel_fmsg_rx_queue(kd, fmsg, &kd->nv[q]->rx);
	devlink_fmsg_arr_pair_nest_end(fmsg);
	rtnl_unlock();
	return 0;
}

static int keel_rx_dump(struct devlink_health_reporter *reporter,
			struct devlink_fmsg *fmsg, void *priv_ctx,
			struct netlink_ext_ack *extack)
{
	return keel_ring_dump(reporter, fmsg, priv_ctx, false);
}

/* Frame errors on the wire (CRC, symbol, length) cost the frame, not the
 * device: it drops or flags each one and goes on receiving, so there is
 * nothing to repair and a reset would only take the link down. The
 * reporter records them; recovery succeeds at once.
 */
static int keel_rx_recover(struct devlink_health_reporter *reporter,
			   void *priv_ctx, struct netlink_ext_ack *extack)
{
	return 0;
}

static const struct devlink_health_reporter_ops keel_rx_reporter_ops = {
	.name		= "rx",
	.recover	= keel_rx_recover,
	.dump		= keel_rx_dump,
	.diagnose	= keel_rx_diagnose,
};

/**
 * keel_devlink_report_tx_timeout() - report a TX timeout and recover
 * @kd: the device
 * @stop_gen: &keel_dev.stop_gen when the reset work took the request
 *
 * Counts the error in the tx reporter, which takes a dump and, unless
 * auto_recover is off, resets the device through keel_reset().
 *
 * Context: process context; RTNL must not be held (devlink takes its
 * instance lock, which comes before RTNL).
 */
void keel_devlink_report_tx_timeout(struct keel_dev *kd, u32 stop_gen)
{
	struct keel_dl_ctx ctx = {
		.reason = "a TX timeout",
		.stop_gen = stop_gen,
		.timeout = true,
	};

	devlink_health_report(kd->tx_reporter, "TX timeout", &ctx);
}

/**
 * keel_devlink_rx_check() - report RX errors the MAC counted
 * @kd: the device
 * @errors: frame errors the MAC counted since the driver loaded
 *
 * Reports to the rx reporter when @errors grew, at most once per
 * KEEL_RX_REPORT_INTERVAL.
 *
 * Context: process context (the statistics work); no lock held.
 */
void keel_devlink_rx_check(struct keel_dev *kd, u64 errors)
{
	struct keel_dl_ctx ctx = { .reason = "RX errors" };

	if (errors <= kd->rx_errors_seen)
		return;
	if (kd->rx_report_time &&
	    time_before(jiffies, kd->rx_report_time + KEEL_RX_REPORT_INTERVAL))
		return;

	netdev_warn(kd->netdev, "%llu RX frame errors\n",
		    errors - kd->rx_errors_seen);
	kd->rx_errors_seen = errors;
	kd->rx_report_time = jiffies ?: 1;
	devlink_health_report(kd->rx_reporter, "RX errors", &ctx);
}

/**
 * keel_devlink_register() - create and register the devlink instance
 * @kd: the device, reset, before its netdev is registered
 *
 * Registers the instance, the physical port the netdev belongs to and
 * the tx and rx health reporters. Everything that reports to them runs
 * between this and keel_devlink_unregister().
 *
 * Context: process context, probe.
 * Return: 0 or a negative errno.
 */
int keel_devlink_register(struct keel_dev *kd)
{
	struct devlink_port_attrs attrs = {
		.flavour = DEVLINK_PORT_FLAVOUR_PHYSICAL,
		.phys.port_number = kd->lan_id,
	};
	struct devlink *devlink;
	int err;

	devlink = devlink_alloc(&keel_devlink_ops, sizeof(kd),
				&kd->pdev->dev);
	if (!devlink)
		return -ENOMEM;
	*(struct keel_dev **)devlink_priv(devlink) = kd;
	kd->devlink = devlink;

	devl_lock(devlink);
	devlink_port_attrs_set(&kd->dl_port, &attrs);
	err = devl_port_register(devlink, &kd->dl_port, kd->lan_id);
	if (err)
		goto err_unlock;
	SET_NETDEV_DEVLINK_PORT(kd->netdev, &kd->dl_port);

	kd->tx_reporter = devl_health_reporter_create(devlink,
						      &keel_tx_reporter_ops,
						      0, kd);
	if (IS_ERR(kd->tx_reporter)) {
		err = PTR_ERR(kd->tx_reporter);
		goto err_port_unregister;
	}
	kd->rx_reporter = devl_health_reporter_create(devlink,
						      &keel_rx_reporter_ops,
						      0, kd);
	if (IS_ERR(kd->rx_reporter)) {
		err = PTR_ERR(kd->rx_reporter);
		goto err_destroy_tx;
	}
	devl_register(devlink);
	devl_unlock(devlink);
	return 0;

err_destroy_tx:
	devl_health_reporter_destroy(kd->tx_reporter);
err_port_unregister:
	devl_port_unregister(&kd->dl_port);
err_unlock:
	devl_unlock(devlink);
	devlink_free(devlink);
	kd->devlink = NULL;
	return err;
}

/**
 * keel_devlink_unregister() - unregister and free the devlink instance
 * @kd: the device, its netdev unregistered and nothing left to report
 *
 * Context: process context, remove or probe's error path.
 */
void keel_devlink_unregister(struct keel_dev *kd)
{
	struct devlink *devlink = kd->devlink;

	devl_lock(devlink);
	devl_unregister(devlink);
	devl_health_reporter_destroy(kd->rx_reporter);
	devl_health_reporter_destroy(kd->tx_reporter);
	devl_port_unregister(&kd->dl_port);
	devl_unlock(devlink);
	devlink_free(devlink);
	kd->devlink = NULL;
}
