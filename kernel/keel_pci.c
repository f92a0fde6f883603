// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>

#include "keel.h"

#define PCI_DEVICE_ID_INTEL_82576	0x10C9

static const struct pci_device_id keel_pci_tbl[] = {
	{ PCI_VDEVICE(INTEL, PCI_DEVICE_ID_INTEL_82576) },
	{ }
};
MODULE_DEVICE_TABLE(pci, keel_pci_tbl);

static void keel_init_filters(struct keel_dev *kd)
{
	unsigned int i;

	keel_hw_set_rar(kd, 0, kd->netdev->dev_addr);
	for (i = 1; i < KEEL_RAR_ENTRIES; i++)
		keel_hw_clear_rar(kd, i);
	for (i = 0; i < KEEL_MTA_ENTRIES; i++) {
		keel_wr32(kd, KEEL_MTA(i), 0);
		keel_wr32(kd, KEEL_VFTA(i), 0);
	}
}

static int keel_set_mac(struct keel_dev *kd)
{
	struct net_device *netdev = kd->netdev;
	u8 mac[ETH_ALEN];
	int err;

	err = keel_hw_read_mac(kd, mac);
	if (err == -EIO)
		return err;
	if (err) {
		eth_hw_addr_random(netdev);
		dev_warn(&kd->pdev->dev,
			 "no valid MAC address in the EEPROM, using random %pM\n",
			 netdev->dev_addr);
		return 0;
	}
	eth_hw_addr_set(netdev, mac);
	ether_addr_copy(netdev->perm_addr, mac);
	return 0;
}

static int keel_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct net_device *netdev;
	struct keel_dev *kd;
	void __iomem *regs;
	int err;

	err = pcim_enable_device(pdev);
	if (err) {
		dev_err(&pdev->dev, "cannot enable PCI device: %d\n", err);
		return err;
	}

	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err) {
		dev_err(&pdev->dev, "no usable 64-bit DMA: %d\n", err);
		return err;
	}

	regs = pcim_iomap_region(pdev, 0, KEEL_DRV_NAME);
	if (IS_ERR(regs)) {
		dev_err(&pdev->dev, "cannot map BAR0: %pe\n", regs);
		return PTR_ERR(regs);
	}
	pci_set_master(pdev);

	netdev = keel_netdev_alloc(pdev);
	if (!netdev)
		return -ENOMEM;
	kd = netdev_priv(netdev);
	kd->hw_addr = regs;
	kd->bar0 = regs;
	pci_set_drvdata(pdev, kd);

	err = keel_hw_reset(kd);
	if (err) {
		dev_err(&pdev->dev, "device does not answer\n");
		return err;
	}

	/* Before anything that reports to it: the statistics work */
	err = keel_devlink_register(kd);
	if (err) {
		dev_err(&pdev->dev, "cannot register with devlink: %d\n", err);
		return err;
	}
	keel_stats_init(kd);
	keel_hw_driver_loaded(kd, true);

	err = keel_irq_alloc_vectors(kd);
	if (err)
		goto err_driver_unloaded;
	keel_rss_default_indir(kd);

	err = keel_set_mac(kd);
	if (err) {
		dev_err(&pdev->dev, "cannot read the EEPROM: %d\n", err);
		goto err_free_irq_vectors;
	}
	keel_init_filters(kd);

	err = keel_hw_setup_link(kd);
	if (err)
		dev_warn(&pdev->dev, "PHY setup failed: %d\n", err);

	err = netif_set_real_num_queues(netdev, kd->num_queues,
					kd->num_queues);
	if (err)
		goto err_free_irq_vectors;

	netif_carrier_off(netdev);
	err = register_netdev(netdev);
	if (err) {
		dev_err(&pdev->dev, "cannot register netdev: %d\n", err);
		goto err_free_irq_vectors;
	}

	/* What slot_reset restores after a PCIe error */
	pci_save_state(pdev);
	netif_info(kd, probe, netdev, "82576 at %s, MAC %pM\n",
		   pci_name(pdev), netdev->dev_addr);
	return 0;

err_free_irq_vectors:
	pci_free_irq_vectors(pdev);
err_driver_unloaded:
	keel_hw_driver_loaded(kd, false);
	keel_stats_stop(kd);
	keel_devlink_unregister(kd);
	return err;
}

static void keel_remove(struct pci_dev *pdev)
{
	struct keel_dev *kd = pci_get_drvdata(pdev);

	unregister_netdev(kd->netdev);
	cancel_work_sync(&kd->reset_task);
	keel_stats_stop(kd);

	if (keel_present(kd)) {
		keel_hw_reset(kd);
		keel_hw_driver_loaded(kd, false);
	}
	pci_free_irq_vectors(pdev);
	keel_devlink_unregister(kd);
}

static void keel_shutdown(struct pci_dev *pdev)
{
	struct keel_dev *kd = pci_get_drvdata(pdev);

	rtnl_lock();
	netif_device_detach(kd->netdev);
	if (netif_running(kd->netdev))
		dev_close(kd->netdev);
	rtnl_unlock();
	cancel_work_sync(&kd->reset_task);
	keel_stats_stop(kd);

	if (keel_present(kd)) {
		keel_hw_reset(kd);
		keel_hw_driver_loaded(kd, false);
	}
	pci_disable_device(pdev);
}

/**
 * keel_io_error_detected() - a PCIe error was reported for the device
 * @pdev: the PCI function
 * @state: whether its link still works (normal), is frozen or is gone
 *
 * The datapath stops in the usual teardown order, so no DMA or
 * interrupt reaches a device that may be in a bad state, and the stack
 * sees the device detached until keel_io_resume().
 *
 * Context: process context, the AER recovery thread.
 * Return: PCI_ERS_RESULT_NEED_RESET, or PCI_ERS_RESULT_DISCONNECT when
 * the device is gone for good.
 */
static pci_ers_result_t keel_io_error_detected(struct pci_dev *pdev,
					       pci_channel_state_t state)
{
	struct keel_dev *kd = pci_get_drvdata(pdev);
	struct net_device *netdev = kd->netdev;

	netdev_warn(netdev, "PCIe error (channel state %d), recovering\n",
		    state);
	rtnl_lock();
	netif_device_detach(netdev);
	if (netif_running(netdev))
		keel_close_datapath(kd);
	rtnl_unlock();

	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	return PCI_ERS_RESULT_NEED_RESET;
}

/**
 * keel_io_slot_reset() - bring the device back after the link reset
 * @pdev: the PCI function
 *
 * Restores the configuration space saved at probe, lets the device
 * answer again and resets the MAC, as after probe.
 *
 * Context: process context, the AER recovery thread.
 * Return: PCI_ERS_RESULT_RECOVERED, or PCI_ERS_RESULT_DISCONNECT when the
 * device does not come back.
 */
static pci_ers_result_t keel_io_slot_reset(struct pci_dev *pdev)
{
	struct keel_dev *kd = pci_get_drvdata(pdev);

	pci_restore_state(pdev);
	pci_save_state(pdev);
	pci_set_master(pdev);

	if (readl(kd->bar0 + KEEL_STATUS) == ~0U) {
		dev_err(&pdev->dev, "no answer after the PCIe error\n");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	/* A read of all ones during the error may have marked it gone */
	WRITE_ONCE(kd->hw_addr, kd->bar0);
	if (keel_hw_reset(kd)) {
		dev_err(&pdev->dev, "reset after the PCIe error failed\n");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	keel_hw_driver_loaded(kd, true);
	keel_hw_set_rar(kd, 0, kd->netdev->dev_addr);
	if (keel_hw_setup_link(kd))
		dev_warn(&pdev->dev, "PHY setup failed\n");
	return PCI_ERS_RESULT_RECOVERED;
}

/**
 * keel_io_resume() - restart traffic after a recovered PCIe error
 * @pdev: the PCI function
 *
 * Context: process context, the AER recovery thread.
 */
static void keel_io_resume(struct pci_dev *pdev)
{
	struct keel_dev *kd = pci_get_drvdata(pdev);
	struct net_device *netdev = kd->netdev;
	int err;

	rtnl_lock();
	if (netif_running(netdev)) {
		err = keel_open_datapath(kd);
		if (err) {
			netdev_err(netdev,
				   "cannot restart after the PCIe error: %d\n",
				   err);
			dev_close(netdev);
		}
	}
	netif_device_attach(netdev);
	rtnl_unlock();
	netdev_info(netdev, "recovered from the PCIe error\n");
}

static const struct pci_error_handlers keel_err_handler = {
	.error_detected	= keel_io_error_detected,
	.slot_reset	= keel_io_slot_reset,
	.resume		= keel_io_resume,
};

static struct pci_driver keel_driver = {
	.name		= KEEL_DRV_NAME,
	.id_table	= keel_pci_tbl,
	.probe		= keel_probe,
	.remove		= keel_remove,
	.shutdown	= keel_shutdown,
	.err_handler	= &keel_err_handler,
};

module_pci_driver(keel_driver);

MODULE_DESCRIPTION("Keel: Intel 82576 Gigabit Ethernet driver");
MODULE_LICENSE("GPL");
