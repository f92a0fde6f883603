// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/rtnetlink.h>
#include <linux/seq_file.h>

#include "keel.h"

/* debugfs, for tests and debugging only:
 *   keel/<pci name>/tx_ring<n>   every descriptor of TX ring n, raw:
 *                                "index qw0 qw1", hex, as the device sees
 *                                them (context descriptors included)
 *   keel/<pci name>/tx_hang      write a queue number: disable that TX
 *                                queue in the device so that it stops
 *                                completing, as a hung queue would
 */

static struct dentry *keel_dbg_root;

struct keel_dbg_ring {
	struct keel_dev *kd;
	unsigned int q;
};

static int keel_dbg_tx_ring_show(struct seq_file *m, void *unused)
{
	struct keel_dbg_ring *dr = m->private;
	struct keel_dev *kd = dr->kd;
	struct keel_ring *ring;
	u32 i;

	rtnl_lock();
	if (!test_bit(KEEL_STATE_UP, kd->state) || dr->q >= kd->num_queues) {
		rtnl_unlock();
		return 0;
	}
	ring = &kd->nv[dr->q]->tx;
	for (i = 0; i < ring->count; i++)
		seq_printf(m, "%4u %016llx %016llx\n", i,
			   le64_to_cpu(READ_ONCE(ring->desc[i].qw0)),
			   le64_to_cpu(READ_ONCE(ring->desc[i].qw1)));
	rtnl_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(keel_dbg_tx_ring);

static ssize_t keel_dbg_tx_hang_write(struct file *file,
				      const char __user *buf, size_t len,
				      loff_t *ppos)
{
	struct keel_dev *kd = file->private_data;
	unsigned int q;
	int err;

	err = kstrtouint_from_user(buf, len, 0, &q);
	if (err)
		return err;

	rtnl_lock();
	if (!test_bit(KEEL_STATE_UP, kd->state) || q >= kd->num_queues) {
		rtnl_unlock();
		return -EINVAL;
	}
	netdev_warn(kd->netdev, "debugfs: forcing TX queue %u to hang\n", q);
	keel_wr32(kd, KEEL_TXDCTL(q), 0);
	rtnl_unlock();
	return len;
}

static const struct file_operations keel_dbg_tx_hang_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= keel_dbg_tx_hang_write,
	.llseek	= noop_llseek,
};

/**
 * keel_debugfs_add() - create the device's debugfs directory
 * @kd: the device
 *
 * Context: process context, probe.
 */
void keel_debugfs_add(struct keel_dev *kd)
{
	struct keel_dbg_ring *dr;
	char name[16];
	unsigned int q;

	kd->dbg_dir = debugfs_create_dir(pci_name(kd->pdev), keel_dbg_root);
	debugfs_create_file("tx_hang", 0200, kd->dbg_dir, kd,
			    &keel_dbg_tx_hang_fops);

	dr = devm_kcalloc(&kd->pdev->dev, KEEL_MAX_QUEUES, sizeof(*dr),
			  GFP_KERNEL);
	if (!dr)
		return;
	for (q = 0; q < KEEL_MAX_QUEUES; q++) {
		dr[q].kd = kd;
		dr[q].q = q;
		snprintf(name, sizeof(name), "tx_ring%u", q);
		debugfs_create_file(name, 0400, kd->dbg_dir, &dr[q],
				    &keel_dbg_tx_ring_fops);
	}
}

/**
 * keel_debugfs_remove() - remove the device's debugfs directory
 * @kd: the device
 */
void keel_debugfs_remove(struct keel_dev *kd)
{
	debugfs_remove(kd->dbg_dir);
	kd->dbg_dir = NULL;
}

/**
 * keel_debugfs_init() - create the driver's debugfs directory
 */
void keel_debugfs_init(void)
{
	keel_dbg_root = debugfs_create_dir(KEEL_DRV_NAME, NULL);
}

/**
 * keel_debugfs_exit() - remove the driver's debugfs directory
 */
void keel_debugfs_exit(void)
{
	debugfs_remove(keel_dbg_root);
	keel_dbg_root = NULL;
}
