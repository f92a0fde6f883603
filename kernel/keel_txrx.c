// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/etherdevice.h>
#include <linux/iopoll.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/sctp.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/netdev_queues.h>
#include <net/netdev_rx_queue.h>
#include <net/page_pool/helpers.h>

#include "keel.h"

/* RX descriptors handed back to the device in one tail write at least */
#define KEEL_RX_REFILL_BATCH	16

/* Rings hold any multiple of eight descriptors, not only powers of two */
static u32 keel_desc_unused(const struct keel_ring *ring)
{
	u32 wrap = ring->head > ring->tail_idx ? 0 : ring->count;

	return wrap + ring->head - ring->tail_idx - 1;
}

static u32 keel_ring_next(const struct keel_ring *ring, u32 i)
{
	return ++i == ring->count ? 0 : i;
}

static u32 keel_ring_prev(const struct keel_ring *ring, u32 i)
{
	return (i ? i : ring->count) - 1;
}

static void __keel_ring_stats_add(struct keel_ring_stats *sum,
				  const struct keel_ring_stats *stats,
				  const struct u64_stats_sync *syncp)
{
	struct keel_ring_stats s;
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(syncp);
		s = *stats;
	} while (u64_stats_fetch_retry(syncp, start));

	sum->packets += s.packets;
	sum->bytes += s.bytes;
	sum->tx.needs_csum += s.tx.needs_csum;
	sum->tx.hw_gso_packets += s.tx.hw_gso_packets;
	sum->tx.hw_gso_bytes += s.tx.hw_gso_bytes;
	sum->tx.stop += s.tx.stop;
	sum->tx.wake += s.tx.wake;
	sum->tx.dropped += s.tx.dropped;
	sum->tx.linearized += s.tx.linearized;
	sum->rx.alloc_fail += s.rx.alloc_fail;
	sum->rx.csum_unnecessary += s.rx.csum_unnecessary;
	sum->rx.csum_none += s.rx.csum_none;
	sum->rx.csum_bad += s.rx.csum_bad;
	sum->rx.errors += s.rx.errors;
	sum->rx.dropped += s.rx.dropped;
}

/**
 * keel_ring_stats_add() - add a ring's counters to a sum
 * @sum: accumulator
 * @ring: the ring
 *
 * Context: any; lockless against the datapath through the ring's syncps.
 */
void keel_ring_stats_add(struct keel_ring_stats *sum, struct keel_ring *ring)
{
	__keel_ring_stats_add(sum, &ring->stats, &ring->syncp);
	__keel_ring_stats_add(sum, &ring->xstats, &ring->xsyncp);
}

/* TX path */

static unsigned int keel_tx_desc_count(unsigned int len)
{
	return DIV_ROUND_UP(len, KEEL_TXD_MAX_DATA);
}

/* Descriptors for @skb: one context descriptor, then the data */
static unsigned int keel_tx_skb_desc_count(const struct sk_buff *skb)
{
	unsigned int f, count = 1 + keel_tx_desc_count(skb_headlen(skb));
	const struct skb_shared_info *shinfo = skb_shinfo(skb);

	for (f = 0; f < shinfo->nr_frags; f++)
		count += keel_tx_desc_count(skb_frag_size(&shinfo->frags[f]));
	return count;
}

static void keel_tx_unmap(struct keel_ring *ring, struct keel_tx_buf *buf)
{
	if (!dma_unmap_len(buf, len))
		return;

	if (buf->mapped_page)
		dma_unmap_page(ring->dev, dma_unmap_addr(buf, dma),
			       dma_unmap_len(buf, len), DMA_TO_DEVICE);
	else
		dma_unmap_single(ring->dev, dma_unmap_addr(buf, dma),
				 dma_unmap_len(buf, len), DMA_TO_DEVICE);
	dma_unmap_len_set(buf, len, 0);
}

static void keel_tx_ctx(struct keel_ring *ring, u64 qw0, u64 qw1)
{
	struct keel_desc *desc = &ring->desc[ring->tail_idx];

	desc->qw0 = cpu_to_le64(qw0);
	desc->qw1 = cpu_to_le64(qw1 | FIELD_PREP(KEEL_TXD_DTYP,
						 KEEL_TXD_DTYP_CTXT) |
				KEEL_TXD_DEXT);
	ring->tail_idx = keel_ring_next(ring, ring->tail_idx);
}

/* Checksum offload: the device sums from IPLEN + MACLEN to the end and
 * stores the result at the L4 type's checksum offset; the stack has
 * already put the pseudo-header sum there.
 */
static int keel_tx_csum(struct keel_ring *ring, struct sk_buff *skb,
			u64 vlan, u64 *olinfo)
{
	unsigned int maclen = skb_network_offset(skb);
	unsigned int iplen = skb_checksum_start_offset(skb) - maclen;
	bool ipv4 = vlan_get_protocol(skb) == htons(ETH_P_IP);
	u64 l4t;

	switch (skb->csum_offset) {
	case offsetof(struct tcphdr, check):
		l4t = KEEL_TXC_L4T_TCP;
		break;
	case offsetof(struct udphdr, check):
		l4t = KEEL_TXC_L4T_UDP;
		break;
	case offsetof(struct sctphdr, checksum):
		if (skb_csum_is_sctp(skb)) {
			l4t = KEEL_TXC_L4T_SCTP;
			break;
		}
		fallthrough;
	default:
		return skb_checksum_help(skb);
	}

	if (maclen > FIELD_MAX(KEEL_TXC_MACLEN) ||
	    iplen > FIELD_MAX(KEEL_TXC_IPLEN))
		return skb_checksum_help(skb);

	keel_tx_ctx(ring, FIELD_PREP(KEEL_TXC_IPLEN, iplen) |
		    FIELD_PREP(KEEL_TXC_MACLEN, maclen) | vlan,
		    FIELD_PREP(KEEL_TXC_TUCMD_L4T, l4t) |
		    (ipv4 ? KEEL_TXC_TUCMD_IPV4 : 0));
	*olinfo |= KEEL_TXD_TXSM;
	return 0;
}

/* TSO: the device cuts the payload into MSS pieces, copies the headers
 * in front of each and fixes lengths, IDs and checksums. It wants the
 * TCP checksum seeded with a pseudo-header sum that leaves the length
 * out and the IPv4 length and checksum zeroed.
 */
static int keel_tso(struct keel_ring *ring, struct keel_tx_buf *first,
		    struct sk_buff *skb, u64 vlan, u64 *cmd, u64 *olinfo)
{
	unsigned int maclen = skb_network_offset(skb);
	unsigned int l4_offset, hdr_len, paylen;
	bool ipv4 = false;
	int err;

	if (!(skb_shinfo(skb)->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6)))
		return -EPROTONOSUPPORT;

	err = skb_cow_head(skb, 0);
	if (err)
		return err;

	if (ip_hdr(skb)->version == 4) {
		ip_hdr(skb)->tot_len = 0;
		ip_hdr(skb)->check = 0;
		ipv4 = true;
	} else {
		ipv6_hdr(skb)->payload_len = 0;
	}

	l4_offset = skb_transport_offset(skb);
	hdr_len = l4_offset + tcp_hdrlen(skb);
	paylen = skb->len - l4_offset;
	csum_replace_by_diff(&tcp_hdr(skb)->check,
			     (__force __wsum)htonl(paylen));

	if (maclen > FIELD_MAX(KEEL_TXC_MACLEN) ||
	    l4_offset - maclen > FIELD_MAX(KEEL_TXC_IPLEN))
		return -EINVAL;

	first->gso_segs = skb_shinfo(skb)->gso_segs;
	first->bytecount = skb->len + (first->gso_segs - 1) * hdr_len;

	keel_tx_ctx(ring, FIELD_PREP(KEEL_TXC_IPLEN, l4_offset - maclen) |
		    FIELD_PREP(KEEL_TXC_MACLEN, maclen) | vlan,
		    FIELD_PREP(KEEL_TXC_TUCMD_L4T, KEEL_TXC_L4T_TCP) |
		    (ipv4 ? KEEL_TXC_TUCMD_IPV4 : 0) |
		    FIELD_PREP(KEEL_TXC_L4LEN, tcp_hdrlen(skb)) |
		    FIELD_PREP(KEEL_TXC_MSS, skb_shinfo(skb)->gso_size));

	*cmd |= KEEL_TXD_TSE;
	*olinfo = FIELD_PREP(KEEL_TXD_PAYLEN, skb->len - hdr_len) |
		  KEEL_TXD_TXSM | (ipv4 ? KEEL_TXD_IXSM : 0);
	return 0;
}

static int keel_tx_map(struct keel_ring *ring, struct keel_tx_buf *first,
		       struct sk_buff *skb, u64 cmd, u64 olinfo)
{
	int f, nr_frags = skb_shinfo(skb)->nr_frags;
	u32 i = ring->tail_idx, last = i;
	struct keel_desc *desc = NULL;
	unsigned int size;
	dma_addr_t dma;

	/* Piece -1 is the linear part, then the fragments */
	for (f = -1; f < nr_frags; f++) {
		struct keel_tx_buf *buf = &ring->tx_buf[i];
		bool mapped_page = f >= 0;

		if (!mapped_page) {
			size = skb_headlen(skb);
			if (!size)
				continue;
			dma = dma_map_single(ring->dev, skb->data, size,
					     DMA_TO_DEVICE);
		} else {
			const skb_frag_t *frag = &skb_shinfo(skb)->frags[f];

			size = skb_frag_size(frag);
			dma = skb_frag_dma_map(ring->dev, frag, 0, size,
					       DMA_TO_DEVICE);
		}
		if (dma_mapping_error(ring->dev, dma))
			goto err_unmap;

		dma_unmap_addr_set(buf, dma, dma);
		dma_unmap_len_set(buf, len, size);
		buf->mapped_page = mapped_page;

		while (size) {
			unsigned int chunk = min(size, KEEL_TXD_MAX_DATA);

			desc = &ring->desc[i];
			desc->qw0 = cpu_to_le64(dma);
			desc->qw1 = cpu_to_le64(cmd | olinfo |
						FIELD_PREP(KEEL_TXD_DTALEN,
							   chunk));
			dma += chunk;
			size -= chunk;
			last = i;
			i = keel_ring_next(ring, i);
		}
	}

	if (unlikely(!desc))
		goto err_unmap;
	desc->qw1 |= cpu_to_le64(KEEL_TXD_EOP | KEEL_TXD_RS);

	/* Buffers and the skb are published before the cleaner can see
	 * the packet's last descriptor.
	 */
	smp_wmb();
	WRITE_ONCE(first->eop, last + 1);
	ring->tail_idx = i;
	return 0;

err_unmap:
	for (;;) {
		keel_tx_unmap(ring, &ring->tx_buf[i]);
		if (i == ring->tail_idx)
			break;
		i = keel_ring_prev(ring, i);
	}
	return -ENOMEM;
}

/* Count what xmit did in one short writer section */
static void keel_tx_account(struct keel_ring *ring, u64 cmd, u64 olinfo,
			    const struct keel_tx_buf *first, bool linearized,
			    bool stopped, bool dropped)
{
	u64_stats_update_begin(&ring->xsyncp);
	if (dropped) {
		ring->xstats.tx.dropped++;
	} else if (cmd & KEEL_TXD_TSE) {
		ring->xstats.tx.hw_gso_packets++;
		ring->xstats.tx.hw_gso_bytes += first->bytecount;
	} else if (olinfo & KEEL_TXD_TXSM) {
		ring->xstats.tx.needs_csum++;
	}
	if (linearized)
		ring->xstats.tx.linearized++;
	if (stopped)
		ring->xstats.tx.stop++;
	u64_stats_update_end(&ring->xsyncp);
}

/**
 * keel_xmit() - ndo_start_xmit
 * @skb: the packet
 * @netdev: the device
 *
 * The stack calls this only for a queue that is awake and below the
 * real queue count, and keel_down() stops every queue with
 * netif_tx_disable() before the rings behind them change, so the
 * queue's vector is always installed here.
 *
 * Context: softirq or process context with BH off, queue lock held.
 * Return: NETDEV_TX_OK; NETDEV_TX_BUSY only if the queue was not stopped
 * in time, which is a bug.
 */
netdev_tx_t keel_xmit(struct sk_buff *skb, struct net_device *netdev)
{
	struct keel_dev *kd = netdev_priv(netdev);
	struct keel_ring *ring = &kd->nv[skb_get_queue_mapping(skb)]->tx;
	u64 cmd = FIELD_PREP(KEEL_TXD_DTYP, KEEL_TXD_DTYP_DATA) |
		  KEEL_TXD_DEXT | KEEL_TXD_IFCS;
	bool linearized = false, stopped;
	unsigned int count, start;
	struct keel_tx_buf *first;
	u64 olinfo = 0, vlan = 0;
	int err;

	/* Frees the skb when it fails */
	if (skb_put_padto(skb, KEEL_TX_MIN_LEN))
		goto out_dropped;

	count = keel_tx_skb_desc_count(skb);
	if (unlikely(count > KEEL_TX_DESC_NEEDED)) {
		if (skb_linearize(skb))
			goto err_free;
		linearized = true;
		count = keel_tx_skb_desc_count(skb);
	}

	if (unlikely(keel_desc_unused(ring) < count) &&
	    !netif_txq_try_stop(ring->txq, keel_desc_unused(ring), count)) {
		netdev_err_once(netdev, "TX ring full while queue awake\n");
		keel_tx_account(ring, 0, 0, NULL, linearized, true, false);
		/* Earlier packets sent with xmit_more wait for a doorbell */
		writel(ring->tail_idx, ring->tail);
		return NETDEV_TX_BUSY;
	}

	start = ring->tail_idx;
	first = &ring->tx_buf[start];
	first->skb = skb;
	first->bytecount = max_t(unsigned int, skb->len, ETH_ZLEN);
	first->gso_segs = 1;

	/* The tag to insert travels in the context descriptor */
	if (skb_vlan_tag_present(skb)) {
		vlan = FIELD_PREP(KEEL_TXC_VLAN, skb_vlan_tag_get(skb));
		cmd |= KEEL_TXD_VLE;
	}

	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		if (skb_is_gso(skb))
			err = keel_tso(ring, first, skb, vlan, &cmd, &olinfo);
		else
			err = keel_tx_csum(ring, skb, vlan, &olinfo);
		if (err)
			goto err_unwind;
	}
	if ((cmd & KEEL_TXD_VLE) && ring->tail_idx == start)
		keel_tx_ctx(ring, FIELD_PREP(KEEL_TXC_MACLEN,
					     skb_network_offset(skb)) | vlan,
			    0);
	if (!(cmd & KEEL_TXD_TSE))
		olinfo |= FIELD_PREP(KEEL_TXD_PAYLEN, skb->len);

	err = keel_tx_map(ring, first, skb, cmd, olinfo);
	if (err)
		goto err_unwind;

	skb_tx_timestamp(skb);

	stopped = netif_txq_maybe_stop(ring->txq, keel_desc_unused(ring),
				       KEEL_TX_DESC_NEEDED,
				       ring->wake_thresh) <= 0;
	keel_tx_account(ring, cmd, olinfo, first, linearized, stopped, false);

	if (__netdev_tx_sent_queue(ring->txq, first->bytecount,
				   netdev_xmit_more()))
		writel(ring->tail_idx, ring->tail);

	return NETDEV_TX_OK;

err_unwind:
	ring->tail_idx = start;
	first->skb = NULL;
err_free:
	dev_kfree_skb_any(skb);
out_dropped:
	keel_tx_account(ring, 0, 0, NULL, linearized, false, true);
	/* Earlier packets sent with xmit_more wait for a doorbell */
	if (!netdev_xmit_more())
		writel(ring->tail_idx, ring->tail);
	return NETDEV_TX_OK;
}

static void keel_clean_tx(struct keel_napi_vector *nv, int napi_budget)
{
	unsigned int pkts = 0, segs = 0, bytes = 0;
	struct keel_ring *ring = &nv->tx;
	struct keel_dev *kd = nv->kd;
	u32 i = ring->head;
	int wake;

	while (i != ring->tail_idx) {
		struct keel_tx_buf *first = &ring->tx_buf[i];
		u16 eop = READ_ONCE(first->eop);
		struct keel_desc *desc;

		if (!eop)
			break;
		/* Pairs with smp_wmb() in keel_tx_map() */
		smp_rmb();
		desc = &ring->desc[eop - 1];
		if (!(le64_to_cpu(READ_ONCE(desc->qw1)) & KEEL_TXD_STA_DD))
			break;

		first->eop = 0;
		pkts++;
		segs += first->gso_segs;
		bytes += first->bytecount;
		napi_consume_skb(first->skb, napi_budget);
		first->skb = NULL;

		for (;;) {
			keel_tx_unmap(ring, &ring->tx_buf[i]);
			if (i == eop - 1U)
				break;
			i = keel_ring_next(ring, i);
		}
		i = keel_ring_next(ring, i);
	}

	if (!pkts)
		return;

	ring->head = i;
	/* Nothing wakes a queue that keel_down() is stopping */
	wake = __netif_txq_completed_wake(ring->txq, pkts, bytes,
					  keel_desc_unused(ring),
					  ring->wake_thresh,
					  test_bit(KEEL_STATE_DOWN, kd->state));

	u64_stats_update_begin(&ring->syncp);
	ring->stats.packets += segs;
	ring->stats.bytes += bytes;
	if (!wake)
		ring->stats.tx.wake++;
	u64_stats_update_end(&ring->syncp);
}

/* RX path */

/* Returns true when the device has no buffer left to receive into */
static bool keel_rx_refill(struct keel_ring *ring)
{
	unsigned int n = keel_desc_unused(ring);
	u32 i = ring->tail_idx;

	while (n--) {
		struct page *page = ring->rx_page[i];
		struct keel_desc *desc = &ring->desc[i];

		if (!page) {
			page = page_pool_dev_alloc_pages(ring->pp);
			if (unlikely(!page)) {
				u64_stats_update_begin(&ring->syncp);
				ring->stats.rx.alloc_fail++;
				u64_stats_update_end(&ring->syncp);
				break;
			}
			ring->rx_page[i] = page;
		}

		desc->qw0 = cpu_to_le64(page_pool_get_dma_addr(page) +
					KEEL_RX_HEADROOM);
		/* The header address doubles as the DD bit: keep it 0 */
		desc->qw1 = 0;
		i = keel_ring_next(ring, i);
	}

	if (i != ring->tail_idx) {
		ring->tail_idx = i;
		/* writel() orders the descriptor writes before the doorbell */
		writel(i, ring->tail);
	}
	return ring->tail_idx == ring->head;
}

/**
 * struct keel_rx_tally - what one NAPI poll counts on an RX ring
 * @packets: packets delivered
 * @bytes: their bytes
 * @csum_unnecessary: packets whose checksums the device verified
 * @csum_none: packets without a checksum verdict
 * @csum_bad: packets with a bad checksum
 * @errors: frames the device flagged as bad
 * @dropped: frames dropped for lack of memory or fragment slots
 *
 * Added to the ring's counters in one short writer section at the end
 * of the poll, not around the stack's receive path.
 */
struct keel_rx_tally {
	unsigned int packets;
	unsigned int bytes;
	unsigned int csum_unnecessary;
	unsigned int csum_none;
	unsigned int csum_bad;
	unsigned int errors;
	unsigned int dropped;
};

/**
 * keel_rx_ring_empty() - whether an RX ring has no buffer posted
 * @ring: the ring, with its NAPI poll not running
 *
 * Return: true when the device has nothing to receive into.
 */
bool keel_rx_ring_empty(const struct keel_ring *ring)
{
	return ring->tail_idx == ring->head;
}

static void keel_rx_csum(struct keel_ring *ring, struct sk_buff *skb,
			 u64 qw1, struct keel_rx_tally *t)
{
	skb_checksum_none_assert(skb);

	if (!(ring->netdev->features & NETIF_F_RXCSUM)) {
		t->csum_none++;
		return;
	}
	if (qw1 & (KEEL_RXD_ERR_IPE | KEEL_RXD_ERR_L4E)) {
		t->csum_bad++;
		return;
	}
	if (!(qw1 & (KEEL_RXD_STAT_L4I | KEEL_RXD_STAT_UDPCS))) {
		t->csum_none++;
		return;
	}
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	t->csum_unnecessary++;
}

static void keel_rx_hash(struct keel_ring *ring, struct sk_buff *skb,
			 u64 qw0)
{
	enum pkt_hash_types type;

	if (!(ring->netdev->features & NETIF_F_RXHASH))
		return;

	switch (FIELD_GET(KEEL_RXD_RSSTYPE, qw0)) {
	case KEEL_RSSTYPE_TCP4:
	case KEEL_RSSTYPE_TCP6:
	case KEEL_RSSTYPE_TCP6EX:
	case KEEL_RSSTYPE_UDP4:
	case KEEL_RSSTYPE_UDP6:
	case KEEL_RSSTYPE_UDP6EX:
		type = PKT_HASH_TYPE_L4;
		break;
	case KEEL_RSSTYPE_IPV4:
	case KEEL_RSSTYPE_IPV6:
	case KEEL_RSSTYPE_IPV6EX:
		type = PKT_HASH_TYPE_L3;
		break;
	default:
		return;
	}
	skb_set_hash(skb, FIELD_GET(KEEL_RXD_RSSHASH, qw0), type);
}

static int keel_clean_rx(struct keel_napi_vector *nv, int budget,
			 bool *starved)
{
	struct keel_ring *ring = &nv->rx;
	struct sk_buff *skb = ring->skb;
	struct keel_rx_tally t = {};
	u32 i = ring->head;

	while (t.packets < budget) {
		struct keel_desc *desc = &ring->desc[i];
		unsigned int len;
		struct page *page;
		u64 qw1;

		qw1 = le64_to_cpu(READ_ONCE(desc->qw1));
		if (!(qw1 & KEEL_RXD_STAT_DD))
			break;
		/* Read the rest of the descriptor only after DD */
		dma_rmb();

		len = FIELD_GET(KEEL_RXD_PKT_LEN, qw1);
		page = ring->rx_page[i];
		ring->rx_page[i] = NULL;
		i = keel_ring_next(ring, i);
		ring->head = i;

		/* The pool adds its offset, the headroom, itself */
		page_pool_dma_sync_for_cpu(ring->pp, page, 0, len);

		if (!skb) {
			void *va = page_address(page);

			net_prefetch(va + KEEL_RX_HEADROOM);
			skb = napi_build_skb(va, KEEL_RX_TRUESIZE);
			if (unlikely(!skb)) {
				page_pool_put_full_page(ring->pp, page, true);
				/* Drop the rest of the frame as it comes */
				ring->skb = ERR_PTR(-ENOMEM);
				skb = ring->skb;
				goto next;
			}
			skb_mark_for_recycle(skb);
			skb_reserve(skb, KEEL_RX_HEADROOM);
			__skb_put(skb, len);
		} else if (IS_ERR(skb) ||
			   skb_shinfo(skb)->nr_frags == MAX_SKB_FRAGS) {
			page_pool_put_full_page(ring->pp, page, true);
			if (!IS_ERR(skb)) {
				napi_consume_skb(skb, budget);
				skb = ERR_PTR(-E2BIG);
			}
		} else {
			skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page,
					KEEL_RX_HEADROOM, len,
					KEEL_RX_TRUESIZE);
		}
next:
		if (!(qw1 & KEEL_RXD_STAT_EOP))
			continue;

		if (IS_ERR(skb)) {
			t.dropped++;
			skb = NULL;
			continue;
		}
		if (unlikely(qw1 & KEEL_RXD_ERR_RXE)) {
			napi_consume_skb(skb, budget);
			t.errors++;
			skb = NULL;
			continue;
		}

		keel_rx_csum(ring, skb, qw1, &t);
		keel_rx_hash(ring, skb, le64_to_cpu(desc->qw0));
		/* VP marks any 802.1Q frame; the tag is out of the data
		 * only when stripping (CTRL.VME) is on
		 */
		if ((qw1 & KEEL_RXD_STAT_VP) &&
		    (ring->netdev->features & NETIF_F_HW_VLAN_CTAG_RX))
			__vlan_hwaccel_put_tag(skb, htons(ETH_P_8021Q),
					       FIELD_GET(KEEL_RXD_VLAN, qw1));
		t.bytes += skb->len;
		t.packets++;
		skb->protocol = eth_type_trans(skb, ring->netdev);
		skb_record_rx_queue(skb, ring->q_idx);
		napi_gro_receive(&nv->napi, skb);
		skb = NULL;

		if (keel_desc_unused(ring) >= KEEL_RX_REFILL_BATCH)
			keel_rx_refill(ring);
	}
	ring->skb = skb;

	u64_stats_update_begin(&ring->syncp);
	ring->stats.packets += t.packets;
	ring->stats.bytes += t.bytes;
	ring->stats.rx.csum_unnecessary += t.csum_unnecessary;
	ring->stats.rx.csum_none += t.csum_none;
	ring->stats.rx.csum_bad += t.csum_bad;
	ring->stats.rx.errors += t.errors;
	ring->stats.rx.dropped += t.dropped;
	u64_stats_update_end(&ring->syncp);

	*starved = keel_rx_refill(ring);
	return t.packets;
}

/**
 * keel_poll() - NAPI poll of one queue pair
 * @napi: the vector's NAPI context
 * @budget: RX packets allowed; 0 from netpoll
 *
 * Context: softirq.
 * Return: RX packets processed; @budget to be polled again.
 */
int keel_poll(struct napi_struct *napi, int budget)
{
	struct keel_napi_vector *nv =
		container_of(napi, struct keel_napi_vector, napi);
	bool starved = false;
	int work = 0;

	keel_clean_tx(nv, budget);
	if (budget)
		work = keel_clean_rx(nv, budget, &starved);
	if (work >= budget)
		return budget;

	if (likely(napi_complete_done(napi, work)) &&
	    !test_bit(KEEL_STATE_DOWN, nv->kd->state)) {
		/* With no RX buffer posted no RX interrupt comes to refill
		 * the ring: retry from a timer rather than spin here.
		 */
		if (unlikely(starved))
			keel_rx_kick(nv->kd, nv->rx.q_idx);
		keel_wr32(nv->kd, KEEL_EIMS, nv->eims);
	}
	return work;
}

/* Ring memory */

static int keel_ring_alloc(struct keel_dev *kd, struct keel_ring *ring,
			   u16 q_idx, u32 count, size_t buf_size)
{
	ring->dev = &kd->pdev->dev;
	ring->netdev = kd->netdev;
	ring->q_idx = q_idx;
	ring->count = count;
	/* A stopped queue must be able to wake even in the smallest ring */
	BUILD_BUG_ON(KEEL_TX_DESC_NEEDED >= KEEL_MIN_DESC);
	BUILD_BUG_ON(KEEL_TX_DESC_NEEDED > KEEL_TX_MAX_DATA_DESC);
	ring->wake_thresh = min_t(u32, KEEL_TX_WAKE_THRESH, count - 1);
	ring->size = count * sizeof(struct keel_desc);
	u64_stats_init(&ring->syncp);
	u64_stats_init(&ring->xsyncp);

	ring->desc = dma_alloc_coherent(ring->dev, ring->size, &ring->dma,
					GFP_KERNEL);
	if (!ring->desc)
		return -ENOMEM;

	ring->tx_buf = kvcalloc(count, buf_size, GFP_KERNEL);
	if (!ring->tx_buf) {
		dma_free_coherent(ring->dev, ring->size, ring->desc, ring->dma);
		ring->desc = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void keel_ring_free(struct keel_ring *ring)
{
	if (!ring->desc)
		return;
	kvfree(ring->tx_buf);
	ring->tx_buf = NULL;
	dma_free_coherent(ring->dev, ring->size, ring->desc, ring->dma);
	ring->desc = NULL;
}

static void keel_tx_ring_clean(struct keel_ring *ring)
{
	u32 i;

	for (i = 0; i < ring->count; i++) {
		struct keel_tx_buf *buf = &ring->tx_buf[i];

		keel_tx_unmap(ring, buf);
		if (buf->skb) {
			dev_kfree_skb_any(buf->skb);
			buf->skb = NULL;
		}
		buf->eop = 0;
	}
	ring->head = 0;
	ring->tail_idx = 0;
}

static void keel_rx_ring_clean(struct keel_ring *ring)
{
	u32 i;

	if (!IS_ERR_OR_NULL(ring->skb))
		dev_kfree_skb_any(ring->skb);
	ring->skb = NULL;

	for (i = 0; i < ring->count; i++) {
		if (!ring->rx_page[i])
			continue;
		page_pool_put_full_page(ring->pp, ring->rx_page[i], false);
		ring->rx_page[i] = NULL;
	}
	ring->head = 0;
	ring->tail_idx = 0;
}

static int keel_rx_ring_alloc(struct keel_dev *kd,
			      struct keel_napi_vector *nv, u16 q_idx,
			      u32 count)
{
	struct page_pool_params pp = {
		.flags = PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.order = 0,
		.pool_size = count,
		.nid = dev_to_node(&kd->pdev->dev),
		.dev = &kd->pdev->dev,
		.napi = &nv->napi,
		.netdev = kd->netdev,
		.queue_idx = q_idx,
		.dma_dir = DMA_FROM_DEVICE,
		.offset = KEEL_RX_HEADROOM,
		.max_len = KEEL_RX_BUF_LEN,
	};
	struct keel_ring *ring = &nv->rx;
	int err;

	err = keel_ring_alloc(kd, ring, q_idx, count, sizeof(*ring->rx_page));
	if (err)
		return err;

	ring->pp = page_pool_create(&pp);
	if (IS_ERR(ring->pp)) {
		err = PTR_ERR(ring->pp);
		ring->pp = NULL;
		keel_ring_free(ring);
		return err;
	}
	return 0;
}

static void keel_rx_ring_free(struct keel_ring *ring)
{
	if (!ring->desc)
		return;
	keel_rx_ring_clean(ring);
	page_pool_destroy(ring->pp);
	ring->pp = NULL;
	keel_ring_free(ring);
}

static void keel_tx_ring_free(struct keel_ring *ring)
{
	if (!ring->desc)
		return;
	keel_tx_ring_clean(ring);
	keel_ring_free(ring);
}

static void keel_vector_free(struct keel_napi_vector *nv)
{
	keel_rx_ring_free(&nv->rx);
	keel_tx_ring_free(&nv->tx);
	netif_napi_del(&nv->napi);
	kfree(nv);
}

static struct keel_napi_vector *
keel_vector_alloc(struct keel_dev *kd, unsigned int idx,
		  const struct keel_qcfg *qcfg)
{
	struct keel_napi_vector *nv;
	int err;

	nv = kzalloc_node(sizeof(*nv), GFP_KERNEL,
			  dev_to_node(&kd->pdev->dev));
	if (!nv)
		return NULL;

	nv->kd = kd;
	nv->v_idx = idx + KEEL_NUM_OTHER_VECTORS;
	nv->eims = BIT(nv->v_idx);
	netif_napi_add(kd->netdev, &nv->napi, keel_poll);
	netif_napi_set_irq(&nv->napi, pci_irq_vector(kd->pdev, nv->v_idx));

	err = keel_ring_alloc(kd, &nv->tx, idx, qcfg->tx_count,
			      sizeof(*nv->tx.tx_buf));
	if (err)
		goto err_napi_del;
	nv->tx.tail = kd->hw_addr + KEEL_TDT(idx);
	nv->tx.txq = netdev_get_tx_queue(kd->netdev, idx);

	err = keel_rx_ring_alloc(kd, nv, idx, qcfg->rx_count);
	if (err)
		goto err_free_tx;
	nv->rx.tail = kd->hw_addr + KEEL_RDT(idx);
	return nv;

err_free_tx:
	keel_ring_free(&nv->tx);
err_napi_del:
	netif_napi_del(&nv->napi);
	kfree(nv);
	return NULL;
}

/**
 * keel_alloc_vectors() - allocate NAPI vectors, rings and page pools
 * @kd: the device
 * @qcfg: queue count and ring sizes; receives the vectors
 *
 * The vectors are not yet used by the device or seen by the stack, so
 * a running configuration is untouched until keel_install_vectors().
 *
 * Context: process context, RTNL held.
 * Return: 0 or -ENOMEM with nothing left allocated.
 */
int keel_alloc_vectors(struct keel_dev *kd, struct keel_qcfg *qcfg)
{
	unsigned int i;

	for (i = 0; i < qcfg->num_queues; i++) {
		qcfg->nv[i] = keel_vector_alloc(kd, i, qcfg);
		if (!qcfg->nv[i])
			goto err_free_vectors;
	}
	return 0;

err_free_vectors:
	keel_discard_vectors(qcfg);
	return -ENOMEM;
}

/**
 * keel_discard_vectors() - free vectors that were never installed
 * @qcfg: what keel_alloc_vectors() filled
 *
 * Context: process context, RTNL held.
 */
void keel_discard_vectors(struct keel_qcfg *qcfg)
{
	unsigned int i;

	for (i = 0; i < qcfg->num_queues; i++) {
		if (qcfg->nv[i])
			keel_vector_free(qcfg->nv[i]);
		qcfg->nv[i] = NULL;
	}
}

/**
 * keel_install_vectors() - make allocated vectors the device's own
 * @kd: the device, with no vectors installed
 * @qcfg: what keel_alloc_vectors() filled; emptied
 *
 * Context: process context, RTNL held.
 */
void keel_install_vectors(struct keel_dev *kd, struct keel_qcfg *qcfg)
{
	struct net_device *netdev = kd->netdev;
	unsigned int i;

	spin_lock_bh(&kd->stats_lock);
	for (i = 0; i < qcfg->num_queues; i++) {
		kd->nv[i] = qcfg->nv[i];
		qcfg->nv[i] = NULL;
	}
	kd->num_queues = qcfg->num_queues;
	kd->tx_ring_count = qcfg->tx_count;
	kd->rx_ring_count = qcfg->rx_count;
	spin_unlock_bh(&kd->stats_lock);

	for (i = 0; i < kd->num_queues; i++) {
		struct napi_struct *napi = &kd->nv[i]->napi;

		netif_queue_set_napi(netdev, i, NETDEV_QUEUE_TYPE_TX, napi);
		netif_queue_set_napi(netdev, i, NETDEV_QUEUE_TYPE_RX, napi);
	}
}

/**
 * keel_free_vectors() - free the installed vectors
 * @kd: the device, with queues disabled and NAPI stopped
 *
 * The rings' counters are folded into the device's base counters in the
 * same step that unpublishes them, so a reader sees each packet once.
 *
 * Context: process context, RTNL held.
 */
void keel_free_vectors(struct keel_dev *kd)
{
	struct keel_napi_vector *nv[KEEL_MAX_QUEUES] = {};
	unsigned int i, n = kd->num_queues;

	for (i = 0; i < n; i++) {
		netif_queue_set_napi(kd->netdev, i, NETDEV_QUEUE_TYPE_RX, NULL);
		netif_queue_set_napi(kd->netdev, i, NETDEV_QUEUE_TYPE_TX, NULL);
	}

	spin_lock_bh(&kd->stats_lock);
	for (i = 0; i < n; i++) {
		nv[i] = kd->nv[i];
		kd->nv[i] = NULL;
		if (!nv[i])
			continue;
		keel_ring_stats_add(&kd->tx_base, &nv[i]->tx);
		keel_ring_stats_add(&kd->rx_base, &nv[i]->rx);
	}
	spin_unlock_bh(&kd->stats_lock);

	for (i = 0; i < n; i++) {
		if (!nv[i])
			continue;
		keel_vector_free(nv[i]);
		/* Only installed rings touch the stack's queue: vectors
		 * discarded before use must leave a running queue's BQL
		 * state alone
		 */
		netdev_tx_reset_queue(netdev_get_tx_queue(kd->netdev, i));
	}
}

/* Ring programming */

/**
 * keel_configure_tx_ring() - program and enable one TX queue
 * @kd: the device
 * @ring: the ring, empty
 */
void keel_configure_tx_ring(struct keel_dev *kd, struct keel_ring *ring)
{
	u16 q = ring->q_idx;

	keel_wr32(kd, KEEL_TXDCTL(q), 0);
	keel_wrfl(kd);

	keel_wr32(kd, KEEL_TDBAL(q), lower_32_bits(ring->dma));
	keel_wr32(kd, KEEL_TDBAH(q), upper_32_bits(ring->dma));
	keel_wr32(kd, KEEL_TDLEN(q), ring->size);
	keel_wr32(kd, KEEL_TDH(q), 0);
	keel_wr32(kd, KEEL_TDT(q), 0);
	ring->head = 0;
	ring->tail_idx = 0;

	keel_wr32(kd, KEEL_TXDCTL(q), FIELD_PREP(KEEL_TXDCTL_PTHRESH, 8) |
		  FIELD_PREP(KEEL_TXDCTL_HTHRESH, 1) |
		  FIELD_PREP(KEEL_TXDCTL_WTHRESH, 1) | KEEL_TXDCTL_ENABLE);
}

/**
 * keel_configure_rx_ring() - program, fill and enable one RX queue
 * @kd: the device
 * @ring: the ring, empty
 */
void keel_configure_rx_ring(struct keel_dev *kd, struct keel_ring *ring)
{
	u32 rxdctl, srrctl;
	u16 q = ring->q_idx;

	keel_wr32(kd, KEEL_RXDCTL(q), 0);
	keel_wrfl(kd);

	keel_wr32(kd, KEEL_RDBAL(q), lower_32_bits(ring->dma));
	keel_wr32(kd, KEEL_RDBAH(q), upper_32_bits(ring->dma));
	keel_wr32(kd, KEEL_RDLEN(q), ring->size);
	keel_wr32(kd, KEEL_RDH(q), 0);
	keel_wr32(kd, KEEL_RDT(q), 0);
	ring->head = 0;
	ring->tail_idx = 0;

	srrctl = FIELD_PREP(KEEL_SRRCTL_BSIZEPKT, KEEL_RX_BUF_LEN / SZ_1K) |
		 FIELD_PREP(KEEL_SRRCTL_DESCTYPE, KEEL_SRRCTL_DESCTYPE_ONEBUF);
	/* With several queues a queue out of buffers drops its own frames
	 * rather than stall the shared packet buffer for every queue
	 */
	if (kd->num_queues > 1)
		srrctl |= KEEL_SRRCTL_DROP_EN;
	keel_wr32(kd, KEEL_SRRCTL(q), srrctl);

	keel_wr32(kd, KEEL_RXDCTL(q), FIELD_PREP(KEEL_RXDCTL_PTHRESH, 8) |
		  FIELD_PREP(KEEL_RXDCTL_HTHRESH, 8) |
		  FIELD_PREP(KEEL_RXDCTL_WTHRESH, 1) | KEEL_RXDCTL_ENABLE);
	if (read_poll_timeout(keel_rd32, rxdctl,
			      rxdctl & KEEL_RXDCTL_ENABLE, 10,
			      10 * USEC_PER_MSEC, false, kd, KEEL_RXDCTL(q)))
		netdev_warn(kd->netdev, "RX queue %u did not enable\n", q);

	keel_rx_refill(ring);
}

/**
 * keel_disable_queues() - stop every queue's DMA
 * @kd: the device
 *
 * Context: process context, may sleep.
 */
void keel_disable_queues(struct keel_dev *kd)
{
	unsigned int i;
	u32 val;

	keel_rmw32(kd, KEEL_RCTL, KEEL_RCTL_EN, 0);
	for (i = 0; i < kd->num_queues; i++)
		keel_rmw32(kd, KEEL_RXDCTL(i), KEEL_RXDCTL_ENABLE, 0);
	for (i = 0; i < kd->num_queues; i++)
		if (read_poll_timeout(keel_rd32, val,
				      !(val & KEEL_RXDCTL_ENABLE), 10,
				      10 * USEC_PER_MSEC, false, kd,
				      KEEL_RXDCTL(i)) && keel_present(kd))
			netdev_warn(kd->netdev, "RX queue %u did not stop\n",
				    i);

	keel_rmw32(kd, KEEL_TCTL, KEEL_TCTL_EN, 0);
	for (i = 0; i < kd->num_queues; i++)
		keel_wr32(kd, KEEL_TXDCTL(i), KEEL_TXDCTL_SWFLSH);
	keel_wrfl(kd);
	usleep_range(1000, 2000);
}
