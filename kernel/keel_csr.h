/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (c) 2026 Keel contributors */

#ifndef _KEEL_CSR_H_
#define _KEEL_CSR_H_

#include <linux/bitfield.h>
#include <linux/bits.h>

/* Intel 82576 registers: byte offsets into BAR0, fields indented below
 * their register. Descriptor layouts follow at the end of the file.
 */

#define KEEL_CTRL			0x00000
#define  KEEL_CTRL_FD			BIT(0)
#define  KEEL_CTRL_GIO_MASTER_DIS	BIT(2)
#define  KEEL_CTRL_LRST			BIT(3)
#define  KEEL_CTRL_SLU			BIT(6)
#define  KEEL_CTRL_SPEED		GENMASK(9, 8)
#define   KEEL_CTRL_SPEED_1000		2
#define  KEEL_CTRL_FRCSPD		BIT(11)
#define  KEEL_CTRL_FRCDPX		BIT(12)
#define  KEEL_CTRL_RST			BIT(26)
#define  KEEL_CTRL_RFCE			BIT(27)
#define  KEEL_CTRL_TFCE			BIT(28)
#define  KEEL_CTRL_VME			BIT(30)
#define  KEEL_CTRL_PHY_RST		BIT(31)

#define KEEL_STATUS			0x00008
#define  KEEL_STATUS_FD			BIT(0)
#define  KEEL_STATUS_LU			BIT(1)
#define  KEEL_STATUS_LAN_ID		GENMASK(3, 2)
#define  KEEL_STATUS_SPEED		GENMASK(7, 6)
#define   KEEL_STATUS_SPEED_10		0
#define   KEEL_STATUS_SPEED_100		1
#define  KEEL_STATUS_GIO_MASTER_EN	BIT(19)

#define KEEL_EECD			0x00010
#define  KEEL_EECD_AUTO_RD		BIT(9)
/* EEPROM size: 2^(SIZE + 6) words */
#define  KEEL_EECD_SIZE			GENMASK(14, 11)

#define KEEL_EERD			0x00014
#define  KEEL_EERD_START		BIT(0)
#define  KEEL_EERD_DONE			BIT(1)
#define  KEEL_EERD_ADDR			GENMASK(15, 2)
#define  KEEL_EERD_DATA			GENMASK(31, 16)

#define KEEL_CTRL_EXT			0x00018
#define  KEEL_CTRL_EXT_PFRSTD		BIT(14)
#define  KEEL_CTRL_EXT_DRV_LOAD		BIT(28)

#define KEEL_MDIC			0x00020
#define  KEEL_MDIC_DATA			GENMASK(15, 0)
#define  KEEL_MDIC_REG			GENMASK(20, 16)
#define  KEEL_MDIC_PHY			GENMASK(25, 21)
#define  KEEL_MDIC_OP			GENMASK(27, 26)
#define   KEEL_MDIC_OP_WRITE		1
#define   KEEL_MDIC_OP_READ		2
#define  KEEL_MDIC_READY		BIT(28)
#define  KEEL_MDIC_ERROR		BIT(30)

/* Flow control frame address and type, VLAN ether type */
#define KEEL_FCAL			0x00028
#define KEEL_FCAH			0x0002C
#define KEEL_FCT			0x00030
#define KEEL_VET			0x00038

/* Legacy interrupt cause registers; in MSI-X mode they carry the
 * "other" causes routed through IVAR_MISC.
 */
#define KEEL_ICR			0x000C0
#define KEEL_ICS			0x000C8
#define KEEL_IMS			0x000D0
#define KEEL_IMC			0x000D8
#define  KEEL_INT_LSC			BIT(2)

#define KEEL_RCTL			0x00100
#define  KEEL_RCTL_EN			BIT(1)
#define  KEEL_RCTL_SBP			BIT(2)
#define  KEEL_RCTL_UPE			BIT(3)
#define  KEEL_RCTL_MPE			BIT(4)
#define  KEEL_RCTL_LPE			BIT(5)
#define  KEEL_RCTL_LBM			GENMASK(7, 6)
#define   KEEL_RCTL_LBM_MAC		1
#define  KEEL_RCTL_MO			GENMASK(13, 12)
#define  KEEL_RCTL_BAM			BIT(15)
#define  KEEL_RCTL_VFE			BIT(18)
#define  KEEL_RCTL_SECRC		BIT(26)

#define KEEL_FCTTV			0x00170

#define KEEL_TCTL			0x00400
#define  KEEL_TCTL_EN			BIT(1)
#define  KEEL_TCTL_PSP			BIT(3)
#define  KEEL_TCTL_CT			GENMASK(11, 4)
#define  KEEL_TCTL_COLD			GENMASK(21, 12)
#define  KEEL_TCTL_RTLC			BIT(24)
#define KEEL_TIPG			0x00410

#define KEEL_GPIE			0x01514
#define  KEEL_GPIE_NSICR		BIT(0)
#define  KEEL_GPIE_MULTIPLE_MSIX	BIT(4)
#define  KEEL_GPIE_EIAME		BIT(30)
#define  KEEL_GPIE_PBA			BIT(31)

/* Extended interrupt registers: one bit per MSI-X vector */
#define KEEL_EICS			0x01520
#define KEEL_EIMS			0x01524
#define KEEL_EIMC			0x01528
#define KEEL_EIAC			0x0152C
#define KEEL_EIAM			0x01530
#define KEEL_EICR			0x01580

#define KEEL_EITR(v)			(0x01680 + 4 * (v))
#define  KEEL_EITR_INTERVAL		GENMASK(14, 2)
#define  KEEL_EITR_CNT_IGNR		BIT(31)

/* IVAR(n) maps RX/TX queues n and n + 8 to vectors, one byte each */
#define KEEL_IVAR(n)			(0x01700 + 4 * (n))
#define  KEEL_IVAR_RX_LO		GENMASK(7, 0)
#define  KEEL_IVAR_TX_LO		GENMASK(15, 8)
#define  KEEL_IVAR_RX_HI		GENMASK(23, 16)
#define  KEEL_IVAR_TX_HI		GENMASK(31, 24)
#define  KEEL_IVAR_VALID		BIT(7)
#define KEEL_IVAR_MISC			0x01740
#define  KEEL_IVAR_MISC_OTHER		GENMASK(15, 8)

/* Receive flow control thresholds */
#define KEEL_FCRTL			0x02160
#define KEEL_FCRTH			0x02168

/* Statistics: 32-bit counters, cleared when read. The 64-bit octet
 * counters are register pairs, low word first; reading the high word
 * clears both.
 */
#define KEEL_CRCERRS			0x04000
#define KEEL_ALGNERRC			0x04004
#define KEEL_SYMERRS			0x04008
#define KEEL_RXERRC			0x0400C
#define KEEL_MPC			0x04010
#define KEEL_SCC			0x04014
#define KEEL_ECOL			0x04018
#define KEEL_MCC			0x0401C
#define KEEL_LATECOL			0x04020
#define KEEL_COLC			0x04028
#define KEEL_DC				0x04030
#define KEEL_RLEC			0x04040
#define KEEL_XONRXC			0x04048
#define KEEL_XONTXC			0x0404C
#define KEEL_XOFFRXC			0x04050
#define KEEL_XOFFTXC			0x04054
#define KEEL_FCRUC			0x04058
/* Six size buckets each: 64, 65-127, 128-255, 256-511, 512-1023 and
 * 1024 bytes to the largest frame accepted, FCS included
 */
#define KEEL_PRC(n)			(0x0405C + 4 * (n))
#define KEEL_GPRC			0x04074
#define KEEL_BPRC			0x04078
#define KEEL_MPRC			0x0407C
#define KEEL_GPTC			0x04080
#define KEEL_GORCL			0x04088
#define KEEL_GOTCL			0x04090
#define KEEL_RNBC			0x040A0
#define KEEL_RUC			0x040A4
#define KEEL_RFC			0x040A8
#define KEEL_ROC			0x040AC
#define KEEL_RJC			0x040B0
#define KEEL_MGTPRC			0x040B4
#define KEEL_MGTPDC			0x040B8
#define KEEL_MGTPTC			0x040BC
#define KEEL_PTC(n)			(0x040D8 + 4 * (n))
#define KEEL_MPTC			0x040F0
#define KEEL_BPTC			0x040F4
#define KEEL_TSCTFC			0x040FC
#define KEEL_SIZE_BUCKETS		6

/* Per-queue receive registers */
#define KEEL_RDBAL(q)			(0x0C000 + 0x40 * (q))
#define KEEL_RDBAH(q)			(0x0C004 + 0x40 * (q))
#define KEEL_RDLEN(q)			(0x0C008 + 0x40 * (q))
#define KEEL_SRRCTL(q)			(0x0C00C + 0x40 * (q))
#define  KEEL_SRRCTL_BSIZEPKT		GENMASK(6, 0)
#define  KEEL_SRRCTL_BSIZEHDR		GENMASK(11, 8)
#define  KEEL_SRRCTL_DESCTYPE		GENMASK(27, 25)
#define   KEEL_SRRCTL_DESCTYPE_ONEBUF	1
#define  KEEL_SRRCTL_DROP_EN		BIT(31)
#define KEEL_RDH(q)			(0x0C010 + 0x40 * (q))
#define KEEL_RDT(q)			(0x0C018 + 0x40 * (q))
#define KEEL_RXDCTL(q)			(0x0C028 + 0x40 * (q))
#define  KEEL_RXDCTL_PTHRESH		GENMASK(4, 0)
#define  KEEL_RXDCTL_HTHRESH		GENMASK(12, 8)
#define  KEEL_RXDCTL_WTHRESH		GENMASK(20, 16)
#define  KEEL_RXDCTL_ENABLE		BIT(25)
#define  KEEL_RXDCTL_SWFLSH		BIT(26)

/* Per-queue transmit registers */
#define KEEL_TDBAL(q)			(0x0E000 + 0x40 * (q))
#define KEEL_TDBAH(q)			(0x0E004 + 0x40 * (q))
#define KEEL_TDLEN(q)			(0x0E008 + 0x40 * (q))
#define KEEL_TDH(q)			(0x0E010 + 0x40 * (q))
#define KEEL_TDT(q)			(0x0E018 + 0x40 * (q))
#define KEEL_TXDCTL(q)			(0x0E028 + 0x40 * (q))
#define  KEEL_TXDCTL_PTHRESH		GENMASK(4, 0)
#define  KEEL_TXDCTL_HTHRESH		GENMASK(12, 8)
#define  KEEL_TXDCTL_WTHRESH		GENMASK(20, 16)
#define  KEEL_TXDCTL_ENABLE		BIT(25)
#define  KEEL_TXDCTL_SWFLSH		BIT(26)

#define KEEL_RXCSUM			0x05000
#define  KEEL_RXCSUM_IPOFLD		BIT(8)
#define  KEEL_RXCSUM_TUOFLD		BIT(9)
#define  KEEL_RXCSUM_CRCOFL		BIT(11)
#define  KEEL_RXCSUM_PCSD		BIT(13)
#define KEEL_RLPML			0x05004
#define KEEL_RFCTL			0x05008

#define KEEL_MTA(n)			(0x05200 + 4 * (n))
#define  KEEL_MTA_ENTRIES		128

/* Receive address filters: RAL/RAH pairs 0-15 at 0x5400, 16-23 at
 * 0x54E0; RAH follows its RAL.
 */
#define KEEL_RAL_LO(n)			(0x05400 + 8 * (n))
#define KEEL_RAL_HI(n)			(0x054E0 + 8 * ((n) - 16))
#define KEEL_RAL_LO_ENTRIES		16
#define KEEL_RAH_OFF			4
#define  KEEL_RAH_ADDR			GENMASK(15, 0)
#define  KEEL_RAH_POOLSEL		GENMASK(25, 18)
#define  KEEL_RAH_AV			BIT(31)
#define  KEEL_RAR_ENTRIES		24

#define KEEL_VFTA(n)			(0x05600 + 4 * (n))
#define KEEL_VFTA_ENTRIES		128

#define KEEL_MRQC			0x05818
#define  KEEL_MRQC_MRQE			GENMASK(2, 0)
#define  KEEL_MRQC_MRQE_RSS		2
#define  KEEL_MRQC_TCP4			BIT(16)
#define  KEEL_MRQC_IPV4			BIT(17)
#define  KEEL_MRQC_TCP6EX		BIT(18)
#define  KEEL_MRQC_IPV6EX		BIT(19)
#define  KEEL_MRQC_IPV6			BIT(20)
#define  KEEL_MRQC_TCP6			BIT(21)
#define  KEEL_MRQC_UDP4			BIT(22)
#define  KEEL_MRQC_UDP6			BIT(23)
#define  KEEL_MRQC_UDP6EX		BIT(24)
#define KEEL_RETA(n)			(0x05C00 + 4 * (n))
#define KEEL_RETA_ENTRIES		128
#define KEEL_RSSRK(n)			(0x05C80 + 4 * (n))
#define KEEL_RSS_KEY_SIZE		40

#define KEEL_SWSM			0x05B50
#define  KEEL_SWSM_SMBI			BIT(0)
#define  KEEL_SWSM_SWESMBI		BIT(1)
#define KEEL_SW_FW_SYNC			0x05B5C
#define  KEEL_SWFW_PHY0_SM		BIT(1)
#define  KEEL_SWFW_PHY1_SM		BIT(2)
#define  KEEL_SWFW_FW_SHIFT		16

/* 82576 internal copper PHY, reached through MDIC */
#define KEEL_PHY_ADDR			1

/* Advanced transmit descriptors (16 bytes, little endian). Data
 * descriptor, read format, second quadword:
 */
#define KEEL_TXD_DTALEN			GENMASK_ULL(15, 0)
#define KEEL_TXD_DTYP			GENMASK_ULL(23, 20)
#define  KEEL_TXD_DTYP_CTXT		2
#define  KEEL_TXD_DTYP_DATA		3
#define KEEL_TXD_EOP			BIT_ULL(24)
#define KEEL_TXD_IFCS			BIT_ULL(25)
#define KEEL_TXD_RS			BIT_ULL(27)
#define KEEL_TXD_DEXT			BIT_ULL(29)
#define KEEL_TXD_VLE			BIT_ULL(30)
#define KEEL_TXD_TSE			BIT_ULL(31)
#define KEEL_TXD_STA_DD			BIT_ULL(32)
#define KEEL_TXD_IDX			GENMASK_ULL(38, 36)
#define KEEL_TXD_IXSM			BIT_ULL(40)
#define KEEL_TXD_TXSM			BIT_ULL(41)
#define KEEL_TXD_PAYLEN			GENMASK_ULL(63, 46)

/* Transmit context descriptor, first quadword */
#define KEEL_TXC_IPLEN			GENMASK_ULL(8, 0)
#define KEEL_TXC_MACLEN			GENMASK_ULL(15, 9)
#define KEEL_TXC_VLAN			GENMASK_ULL(31, 16)
/* ... and second quadword (DTYP, DEXT and IDX as for data) */
#define KEEL_TXC_TUCMD_IPV4		BIT_ULL(10)
#define KEEL_TXC_TUCMD_L4T		GENMASK_ULL(12, 11)
#define  KEEL_TXC_L4T_UDP		0
#define  KEEL_TXC_L4T_TCP		1
#define  KEEL_TXC_L4T_SCTP		2
#define KEEL_TXC_L4LEN			GENMASK_ULL(47, 40)
#define KEEL_TXC_MSS			GENMASK_ULL(63, 48)

/* Largest buffer one data descriptor may carry; larger buffers are split */
#define KEEL_TXD_MAX_DATA		SZ_32K

/* Advanced receive descriptor, write-back format */
#define KEEL_RXD_RSSTYPE		GENMASK_ULL(3, 0)
#define  KEEL_RSSTYPE_NONE		0
#define  KEEL_RSSTYPE_TCP4		1
#define  KEEL_RSSTYPE_IPV4		2
#define  KEEL_RSSTYPE_TCP6		3
#define  KEEL_RSSTYPE_IPV6EX		4
#define  KEEL_RSSTYPE_IPV6		5
#define  KEEL_RSSTYPE_TCP6EX		6
#define  KEEL_RSSTYPE_UDP4		7
#define  KEEL_RSSTYPE_UDP6		8
#define  KEEL_RSSTYPE_UDP6EX		9
#define KEEL_RXD_RSSHASH		GENMASK_ULL(63, 32)
#define KEEL_RXD_STAT_DD		BIT_ULL(0)
#define KEEL_RXD_STAT_EOP		BIT_ULL(1)
#define KEEL_RXD_STAT_VP		BIT_ULL(3)
#define KEEL_RXD_STAT_UDPCS		BIT_ULL(4)
#define KEEL_RXD_STAT_L4I		BIT_ULL(5)
#define KEEL_RXD_STAT_IPCS		BIT_ULL(6)
#define KEEL_RXD_ERR_L4E		BIT_ULL(29)
#define KEEL_RXD_ERR_IPE		BIT_ULL(30)
#define KEEL_RXD_ERR_RXE		BIT_ULL(31)
#define KEEL_RXD_PKT_LEN		GENMASK_ULL(47, 32)
#define KEEL_RXD_VLAN			GENMASK_ULL(63, 48)

/* EEPROM layout */
#define KEEL_EEPROM_MAC_WORD		0
#define KEEL_EEPROM_CSUM_WORD		0x3F
#define KEEL_EEPROM_CSUM		0xBABA

#endif /* _KEEL_CSR_H_ */
