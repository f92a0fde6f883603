/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (c) 2026 Keel contributors */

#ifndef _KEEL_TXRX_H_
#define _KEEL_TXRX_H_

#include <linux/dma-mapping.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/u64_stats_sync.h>

struct keel_dev;
struct page_pool;

#define KEEL_MAX_QUEUES		8

#define KEEL_DEFAULT_TXD	256
#define KEEL_DEFAULT_RXD	256
#define KEEL_MIN_DESC		64
#define KEEL_MAX_DESC		4096
/* Ring memory is a multiple of 128 bytes: eight descriptors */
#define KEEL_DESC_ALIGN		8

/* RX buffers are whole pages from page_pool: headroom for the stack, the
 * buffer the device writes, then room for skb_shared_info. The device
 * takes buffer sizes in 1 KiB units.
 */
#define KEEL_RX_HEADROOM	(NET_SKB_PAD + NET_IP_ALIGN)
#define KEEL_RX_BUF_LEN		3072
#define KEEL_RX_TRUESIZE	PAGE_SIZE

/* Worst case descriptors for one packet: a context descriptor, the
 * linear part and every fragment, each possibly split once, plus a gap
 * so that the tail never catches up with the head.
 */
#define KEEL_TX_DESC_NEEDED	(2 * (MAX_SKB_FRAGS + 1) + 2)
#define KEEL_TX_WAKE_THRESH	(KEEL_TX_DESC_NEEDED * 2)
/* The device takes at most 64 data descriptors for one packet; a packet
 * that needs more than KEEL_TX_DESC_NEEDED, well under that, is first
 * made linear.
 */
#define KEEL_TX_MAX_DATA_DESC	64
/* Shortest frame the MAC accepts from the driver, even with TCTL.PSP */
#define KEEL_TX_MIN_LEN		17

/**
 * struct keel_desc - one 16-byte advanced descriptor
 * @qw0: first quadword
 * @qw1: second quadword
 */
struct keel_desc {
	__le64 qw0;
	__le64 qw1;
};

/**
 * struct keel_ring_stats - per-ring software counters
 * @packets: packets completed (TX) or delivered (RX)
 * @bytes: bytes of those packets as seen by the stack
 * @tx: TX counters
 * @tx.needs_csum: packets sent with checksum offload
 * @tx.hw_gso_packets: TSO packets handed to the device
 * @tx.hw_gso_bytes: bytes of those TSO packets
 * @tx.stop: times the queue was stopped for lack of descriptors
 * @tx.wake: times the queue was woken again
 * @tx.dropped: packets dropped before reaching the device
 * @tx.linearized: packets with too many fragments, copied into one buffer
 * @rx: RX counters
 * @rx.alloc_fail: page allocations that failed
 * @rx.csum_unnecessary: packets whose checksums the device verified
 * @rx.csum_none: packets passed up without a checksum verdict
 * @rx.csum_bad: packets the device found a bad checksum in
 * @rx.errors: frames the device flagged as bad and the driver dropped
 * @rx.dropped: frames dropped for lack of memory or fragment slots
 */
struct keel_ring_stats {
	u64 packets;
	u64 bytes;
	struct {
		u64 needs_csum;
		u64 hw_gso_packets;
		u64 hw_gso_bytes;
		u64 stop;
		u64 wake;
		u64 dropped;
		u64 linearized;
	} tx;
	struct {
		u64 alloc_fail;
		u64 csum_unnecessary;
		u64 csum_none;
		u64 csum_bad;
		u64 errors;
		u64 dropped;
	} rx;
};

/**
 * struct keel_tx_buf - software state of one TX descriptor
 * @skb: the packet, on the packet's first descriptor only
 * @dma: DMA address of the buffer mapped at this descriptor, if any
 * @len: length of that mapping, 0 when none starts here
 * @eop: index + 1 of the packet's last descriptor, 0 when not a packet
 * @mapped_page: the mapping came from skb_frag_dma_map()
 * @gso_segs: frames the packet becomes on the wire
 * @bytecount: bytes the packet puts on the wire, for BQL
 */
struct keel_tx_buf {
	struct sk_buff *skb;
	DEFINE_DMA_UNMAP_ADDR(dma);
	DEFINE_DMA_UNMAP_LEN(len);
	u16 eop;
	bool mapped_page;
	u16 gso_segs;
	u32 bytecount;
};

/**
 * struct keel_ring - one descriptor ring, TX or RX
 * @desc: the descriptors
 * @tx_buf: per-descriptor state of a TX ring
 * @rx_page: page behind each descriptor of an RX ring
 * @tail: the ring's tail (doorbell) register
 * @pp: RX page pool
 * @skb: RX frame being assembled across descriptors
 * @txq: the stack's queue of a TX ring
 * @head: next descriptor the driver looks at for completion
 * @tail_idx: next descriptor the driver fills
 * @count: descriptors in the ring, a multiple of eight
 * @wake_thresh: free descriptors at which a stopped TX queue wakes
 * @stats: counters written from NAPI: packets, bytes, tx.wake, rx.*
 * @syncp: protects @stats for 32-bit readers
 * @xstats: counters written from ndo_start_xmit: the other tx.* ones
 * @xsyncp: protects @xstats; xmit and NAPI run concurrently, so each
 *	writer has its own sequence counter
 * @dev: device used for DMA mappings
 * @netdev: owner
 * @dma: DMA address of @desc
 * @size: bytes of descriptor memory
 * @q_idx: queue index, on the device and in the stack
 */
struct keel_ring {
	/* hot path */
	struct keel_desc *desc;
	union {
		struct keel_tx_buf *tx_buf;
		struct page **rx_page;
	};
	u8 __iomem *tail;
	union {
		struct page_pool *pp;
		struct netdev_queue *txq;
	};
	struct sk_buff *skb;
	u32 head;
	u32 tail_idx;
	u32 count;
	u32 wake_thresh;
	struct keel_ring_stats stats;
	struct u64_stats_sync syncp;
	struct keel_ring_stats xstats;
	struct u64_stats_sync xsyncp;

	/* slow path */
	struct device *dev;
	struct net_device *netdev;
	dma_addr_t dma;
	u32 size;
	u16 q_idx;
};

/**
 * struct keel_napi_vector - one MSI-X vector serving one queue pair
 * @napi: NAPI context
 * @kd: the device
 * @tx: TX ring
 * @rx: RX ring
 * @eims: this vector's bit in EIMS/EIMC/EICR
 * @v_idx: MSI-X vector number
 * @name: interrupt name
 */
struct keel_napi_vector {
	struct napi_struct napi;
	struct keel_dev *kd;
	struct keel_ring tx;
	struct keel_ring rx;
	u32 eims;
	u16 v_idx;
	char name[IFNAMSIZ + 16];
};

/**
 * struct keel_qcfg - a queue configuration being built
 * @num_queues: queue pairs, one vector each
 * @tx_count: descriptors per TX ring
 * @rx_count: descriptors per RX ring
 * @nv: the vectors, allocated but not installed
 */
struct keel_qcfg {
	unsigned int num_queues;
	u32 tx_count;
	u32 rx_count;
	struct keel_napi_vector *nv[KEEL_MAX_QUEUES];
};

int keel_alloc_vectors(struct keel_dev *kd, struct keel_qcfg *qcfg);
void keel_discard_vectors(struct keel_qcfg *qcfg);
void keel_install_vectors(struct keel_dev *kd, struct keel_qcfg *qcfg);
void keel_free_vectors(struct keel_dev *kd);
void keel_configure_tx_ring(struct keel_dev *kd, struct keel_ring *ring);
void keel_configure_rx_ring(struct keel_dev *kd, struct keel_ring *ring);
void keel_disable_queues(struct keel_dev *kd);
bool keel_rx_ring_empty(const struct keel_ring *ring);
int keel_poll(struct napi_struct *napi, int budget);
netdev_tx_t keel_xmit(struct sk_buff *skb, struct net_device *netdev);
void keel_ring_stats_add(struct keel_ring_stats *sum, struct keel_ring *ring);

#endif /* _KEEL_TXRX_H_ */
