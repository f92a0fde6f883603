// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/interrupt.h>
#include <linux/pci.h>

#include "keel.h"

/**
 * keel_irq_alloc_vectors() - allocate MSI-X vectors
 * @kd: the device
 *
 * One vector for link and other causes, then one per queue pair, as many
 * as KEEL_MAX_QUEUES. The vectors decide the largest queue count; the
 * default is one queue pair per online CPU. keel_irq_request() spreads
 * the queue vectors over the CPUs with affinity hints.
 *
 * Context: process context, probe.
 * Return: 0 or a negative errno; MSI-X is required.
 */
int keel_irq_alloc_vectors(struct keel_dev *kd)
{
	unsigned int max = KEEL_MAX_QUEUES + KEEL_NUM_OTHER_VECTORS;
	unsigned int min = 1 + KEEL_NUM_OTHER_VECTORS;
	int n;

	/* Not managed affinity: that would cap the queues at the CPU
	 * count, and a user may want more queues than CPUs
	 */
	n = pci_alloc_irq_vectors(kd->pdev, min, max, PCI_IRQ_MSIX);
	if (n < 0) {
		dev_err(&kd->pdev->dev,
			"MSI-X with at least %u vectors is unavailable: %d\n",
			min, n);
		return n;
	}
	kd->max_queues = n - KEEL_NUM_OTHER_VECTORS;
	kd->num_queues = min_t(unsigned int, kd->max_queues,
			       num_online_cpus());
	return 0;
}

/**
 * keel_link_check() - update carrier from the device's link state
 * @kd: the device
 *
 * The carrier of an interface that is down stays off: the offline
 * self-test runs the datapath of a down interface, with its link up.
 *
 * Context: any.
 */
void keel_link_check(struct keel_dev *kd)
{
	struct net_device *netdev = kd->netdev;
	u8 duplex = DUPLEX_UNKNOWN;
	u32 speed = SPEED_UNKNOWN;
	bool up;

	if (!netif_running(netdev))
		return;
	up = keel_hw_link_up(kd, &speed, &duplex);
	if (up == netif_carrier_ok(netdev))
		return;

	if (up) {
		/* Flow control is resolved by software after every link up,
		 * and keel does not support it (QEMU turns both bits on
		 * itself once autonegotiation completes)
		 */
		keel_rmw32(kd, KEEL_CTRL, KEEL_CTRL_RFCE | KEEL_CTRL_TFCE, 0);
		netif_carrier_on(netdev);
		netif_info(kd, link, netdev, "link up, %u Mbps, %s duplex\n",
			   speed, duplex == DUPLEX_FULL ? "full" : "half");
	} else {
		netif_carrier_off(netdev);
		netif_info(kd, link, netdev, "link down\n");
	}
}

static irqreturn_t keel_msix_other(int irq, void *data)
{
	struct keel_dev *kd = data;
	u32 icr;

	WRITE_ONCE(kd->other_irqs, kd->other_irqs + 1);
	/* ICR clears on read (GPIE.NSICR) */
	icr = keel_rd32(kd, KEEL_ICR);
	if (icr == ~0U)
		return IRQ_HANDLED;

	if (icr & KEEL_INT_LSC)
		keel_link_check(kd);

	if (!test_bit(KEEL_STATE_DOWN, kd->state))
		keel_wr32(kd, KEEL_EIMS, kd->eims_other);
	return IRQ_HANDLED;
}

static irqreturn_t keel_msix_ring(int irq, void *data)
{
	struct keel_qirq *qi = data;
	struct keel_dev *kd = qi->kd;
	struct keel_napi_vector *nv;

	WRITE_ONCE(qi->count, qi->count + 1);
	/* Silicon masks the vector by itself (EIAM); doing it here too
	 * keeps emulations that lack auto-mask from interrupting a poll
	 * that is already scheduled.
	 */
	keel_wr32(kd, KEEL_EIMC, BIT(qi->idx + KEEL_NUM_OTHER_VECTORS));
	/* Rings are replaced only with the vector masked and this handler
	 * synchronized, so the vector seen here stays until it returns.
	 */
	nv = READ_ONCE(kd->nv[qi->idx]);
	if (likely(nv))
		napi_schedule_irqoff(&nv->napi);
	return IRQ_HANDLED;
}

static void keel_irq_free_queue(struct keel_dev *kd, unsigned int i)
{
	unsigned int irq = pci_irq_vector(kd->pdev,
					  i + KEEL_NUM_OTHER_VECTORS);

	irq_update_affinity_hint(irq, NULL);
	free_irq(irq, &kd->qirq[i]);
	kd->qirq[i].requested = false;
}

/**
 * keel_irq_request() - request the interrupts of the queue vectors
 * @kd: the device
 * @num_queues: queue pairs that need their vector
 *
 * Requests the vectors of queues 0 to @num_queues - 1 that are not yet
 * requested; those already requested stay as they are, so a running
 * configuration keeps its interrupts while a new one is prepared.
 *
 * Context: process context, RTNL held.
 * Return: 0 or a negative errno, with nothing left requested by this
 * call.
 */
int keel_irq_request(struct keel_dev *kd, unsigned int num_queues)
{
	int node = dev_to_node(&kd->pdev->dev);
	unsigned int i, first, irq, cpu;
	struct pci_dev *pdev = kd->pdev;
	int err;

	for (first = 0; first < num_queues; first++)
		if (!kd->qirq[first].requested)
			break;

	for (i = first; i < num_queues; i++) {
		struct keel_qirq *qi = &kd->qirq[i];

		qi->kd = kd;
		qi->idx = i;
		snprintf(qi->name, sizeof(qi->name), "%s-TxRx-%u",
			 kd->netdev->name, i);
		irq = pci_irq_vector(pdev, i + KEEL_NUM_OTHER_VECTORS);
		err = request_irq(irq, keel_msix_ring, 0, qi->name, qi);
		if (err)
			goto err_free_queue_irqs;
		qi->requested = true;
		cpu = cpumask_local_spread(i, node);
		irq_update_affinity_hint(irq, cpumask_of(cpu));
	}
	return 0;

err_free_queue_irqs:
	while (i-- > first)
		keel_irq_free_queue(kd, i);
	return err;
}

/**
 * keel_irq_release() - free the interrupts of queue vectors not needed
 * @kd: the device
 * @num_queues: queue pairs that keep their vector
 *
 * Context: process context, RTNL held, the vectors masked.
 */
void keel_irq_release(struct keel_dev *kd, unsigned int num_queues)
{
	unsigned int i;

	for (i = num_queues; i < KEEL_MAX_QUEUES; i++)
		if (kd->qirq[i].requested)
			keel_irq_free_queue(kd, i);
}

/**
 * keel_irq_request_other() - request the link and other causes interrupt
 * @kd: the device
 *
 * Context: process context, RTNL held.
 * Return: 0 or a negative errno.
 */
int keel_irq_request_other(struct keel_dev *kd)
{
	snprintf(kd->misc_name, sizeof(kd->misc_name), "%s-other",
		 kd->netdev->name);
	return request_irq(pci_irq_vector(kd->pdev, KEEL_OTHER_VECTOR),
			   keel_msix_other, 0, kd->misc_name, kd);
}

/**
 * keel_irq_free() - release every interrupt the device requested
 * @kd: the device
 *
 * Context: process context, RTNL held, interrupts disabled on the device.
 */
void keel_irq_free(struct keel_dev *kd)
{
	keel_irq_release(kd, 0);
	free_irq(pci_irq_vector(kd->pdev, KEEL_OTHER_VECTOR), kd);
}

/**
 * keel_irq_configure() - route causes to vectors and set moderation
 * @kd: the device
 *
 * Context: process context, RTNL held.
 */
void keel_irq_configure(struct keel_dev *kd)
{
	u32 ivar[KEEL_MAX_QUEUES] = {};
	unsigned int i;

	keel_wr32(kd, KEEL_GPIE, KEEL_GPIE_NSICR | KEEL_GPIE_MULTIPLE_MSIX |
		  KEEL_GPIE_EIAME | KEEL_GPIE_PBA);

	kd->eims_other = BIT(KEEL_OTHER_VECTOR);
	kd->eims_queues = 0;
	for (i = 0; i < kd->num_queues; i++) {
		struct keel_napi_vector *nv = kd->nv[i];
		u32 vec = nv->v_idx | KEEL_IVAR_VALID;

		/* Queue n below 8 sits in the low half of IVAR(n) */
		ivar[i] |= FIELD_PREP(KEEL_IVAR_RX_LO, vec) |
			   FIELD_PREP(KEEL_IVAR_TX_LO, vec);
		kd->eims_queues |= nv->eims;
	}
	keel_irq_set_itr(kd);
	for (i = 0; i < KEEL_MAX_QUEUES; i++)
		keel_wr32(kd, KEEL_IVAR(i), ivar[i]);
	keel_wr32(kd, KEEL_IVAR_MISC,
		  FIELD_PREP(KEEL_IVAR_MISC_OTHER,
			     KEEL_OTHER_VECTOR | KEEL_IVAR_VALID));
}

/**
 * keel_irq_set_itr() - program the interrupt interval of the queue vectors
 * @kd: the device
 *
 * A vector serves one RX and one TX queue, so one interval (rx-usecs)
 * covers both; 0 means an interrupt for every event.
 * Takes effect at once on a running device.
 *
 * Context: process context, RTNL held.
 */
void keel_irq_set_itr(struct keel_dev *kd)
{
	unsigned int i;

	for (i = 0; i < kd->num_queues; i++)
		keel_wr32(kd, KEEL_EITR(i + KEEL_NUM_OTHER_VECTORS),
			  FIELD_PREP(KEEL_EITR_INTERVAL, kd->rx_usecs) |
			  KEEL_EITR_CNT_IGNR);
}

/**
 * keel_irq_enable() - unmask every vector and the link interrupt
 * @kd: the device
 */
void keel_irq_enable(struct keel_dev *kd)
{
	u32 all = kd->eims_other | kd->eims_queues;

	keel_wr32(kd, KEEL_EIAC, all);
	keel_wr32(kd, KEEL_EIAM, all);
	keel_wr32(kd, KEEL_IMS, KEEL_INT_LSC);
	keel_wr32(kd, KEEL_EIMS, all);
	keel_wrfl(kd);
}

/**
 * keel_irq_disable() - mask every interrupt and wait for handlers
 * @kd: the device
 *
 * Context: process context.
 */
void keel_irq_disable(struct keel_dev *kd)
{
	unsigned int i, irq;

	keel_wr32(kd, KEEL_EIAM, 0);
	keel_wr32(kd, KEEL_EIMC, ~0U);
	keel_wr32(kd, KEEL_EIAC, 0);
	keel_wr32(kd, KEEL_IMC, ~0U);
	keel_wrfl(kd);

	synchronize_irq(pci_irq_vector(kd->pdev, KEEL_OTHER_VECTOR));
	for (i = 0; i < KEEL_MAX_QUEUES; i++) {
		if (!kd->qirq[i].requested)
			continue;
		irq = pci_irq_vector(kd->pdev, i + KEEL_NUM_OTHER_VECTORS);
		synchronize_irq(irq);
	}
}
