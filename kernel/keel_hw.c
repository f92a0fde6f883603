// SPDX-License-Identifier: GPL-2.0
/* Copyright (c) 2026 Keel contributors */

#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/iopoll.h>
#include <linux/mii.h>

#include "keel.h"

/* Writes of SWSM.SWESMBI before giving up on the firmware releasing it */
#define KEEL_SWESMBI_TRIES	200

/**
 * keel_rd32() - read a device register
 * @kd: the device
 * @reg: register offset in BAR0
 *
 * A read of all ones from a device that is gone (surprise removal, a
 * dead link) is confirmed against STATUS, which never reads all ones on
 * a live device; the device is then marked gone and detached so nothing
 * waits on it again.
 *
 * Context: any.
 * Return: the register value, or ~0 once the device is gone.
 */
u32 keel_rd32(struct keel_dev *kd, u32 reg)
{
	u8 __iomem *hw_addr = READ_ONCE(kd->hw_addr);
	u32 val;

	if (unlikely(!hw_addr))
		return ~0U;

	val = readl(hw_addr + reg);
	if (unlikely(val == ~0U) &&
	    (reg == KEEL_STATUS || readl(hw_addr + KEEL_STATUS) == ~0U)) {
		WRITE_ONCE(kd->hw_addr, NULL);
		dev_err(&kd->pdev->dev, "device stopped answering\n");
		if (kd->netdev)
			netif_device_detach(kd->netdev);
	}
	return val;
}

static int keel_hw_disable_master(struct keel_dev *kd)
{
	u32 status;

	keel_rmw32(kd, KEEL_CTRL, 0, KEEL_CTRL_GIO_MASTER_DIS);
	return read_poll_timeout(keel_rd32, status,
				 !(status & KEEL_STATUS_GIO_MASTER_EN),
				 100, 80 * USEC_PER_MSEC, false, kd,
				 KEEL_STATUS);
}

static int __keel_hw_reset(struct keel_dev *kd)
{
	u32 eecd;
	int err;

	if (keel_rd32(kd, KEEL_STATUS) == ~0U)
		return -EIO;

	/* Outstanding DMA must end before the reset; the device completes
	 * the reset anyway if it does not, so only note it.
	 */
	if (keel_hw_disable_master(kd))
		dev_dbg(&kd->pdev->dev, "PCIe master still active\n");

	keel_wr32(kd, KEEL_IMC, ~0U);
	keel_wr32(kd, KEEL_EIMC, ~0U);
	keel_wr32(kd, KEEL_RCTL, 0);
	keel_wr32(kd, KEEL_TCTL, KEEL_TCTL_PSP);
	keel_wrfl(kd);
	usleep_range(10000, 11000);

	keel_rmw32(kd, KEEL_CTRL, 0, KEEL_CTRL_RST);
	usleep_range(2000, 3000);

	err = read_poll_timeout(keel_rd32, eecd, eecd & KEEL_EECD_AUTO_RD,
				500, 20 * USEC_PER_MSEC, false, kd,
				KEEL_EECD);
	if (!keel_present(kd))
		return -EIO;
	if (err)
		dev_dbg(&kd->pdev->dev, "EEPROM auto-read not done\n");

	keel_wr32(kd, KEEL_IMC, ~0U);
	keel_wr32(kd, KEEL_EIMC, ~0U);
	keel_rd32(kd, KEEL_ICR);
	keel_rd32(kd, KEEL_EICR);

	/* Which port of a dual-port device this function drives */
	kd->lan_id = FIELD_GET(KEEL_STATUS_LAN_ID, keel_rd32(kd, KEEL_STATUS));

	return keel_present(kd) ? 0 : -EIO;
}

/**
 * keel_hw_reset() - reset the MAC and leave the device quiet
 * @kd: the device
 *
 * Stops DMA, issues a software reset, waits for the EEPROM auto-read
 * that follows it and masks every interrupt. The statistics registers
 * are added up first, since the reset clears them.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EIO when the device does not answer.
 */
int keel_hw_reset(struct keel_dev *kd)
{
	int err;

	keel_stats_reset_prepare(kd);
	err = __keel_hw_reset(kd);
	keel_stats_reset_done(kd);
	return err;
}

/**
 * keel_hw_read_eeprom() - read one EEPROM word through EERD
 * @kd: the device
 * @offset: word offset
 * @data: the word read
 *
 * Context: process context, may sleep.
 * Return: 0, -ETIMEDOUT or -EIO.
 */
int keel_hw_read_eeprom(struct keel_dev *kd, u16 offset, u16 *data)
{
	u32 eerd;
	int err;

	keel_wr32(kd, KEEL_EERD, FIELD_PREP(KEEL_EERD_ADDR, offset) |
		  KEEL_EERD_START);
	err = read_poll_timeout(keel_rd32, eerd, eerd & KEEL_EERD_DONE,
				5, 10 * USEC_PER_MSEC, false, kd, KEEL_EERD);
	if (!keel_present(kd))
		return -EIO;
	if (err)
		return err;

	*data = FIELD_GET(KEEL_EERD_DATA, eerd);
	return 0;
}

/**
 * keel_hw_eeprom_checksum() - check the EEPROM checksum
 * @kd: the device
 * @valid: whether words 0 to KEEL_EEPROM_CSUM_WORD add up to
 *	KEEL_EEPROM_CSUM
 *
 * Context: process context, may sleep.
 * Return: 0, or an error reading the EEPROM.
 */
int keel_hw_eeprom_checksum(struct keel_dev *kd, bool *valid)
{
	u16 sum = 0, word, i;
	int err;

	for (i = 0; i <= KEEL_EEPROM_CSUM_WORD; i++) {
		err = keel_hw_read_eeprom(kd, i, &word);
		if (err)
			return err;
		sum += word;
	}
	*valid = sum == KEEL_EEPROM_CSUM;
	return 0;
}

/**
 * keel_hw_read_mac() - read the permanent MAC address from the EEPROM
 * @kd: the device
 * @mac: ETH_ALEN bytes
 *
 * Context: process context, may sleep.
 * Return: 0 when @mac holds the EEPROM's address, -EINVAL when the
 * EEPROM checksum or the address is bad, or an error reading it.
 */
int keel_hw_read_mac(struct keel_dev *kd, u8 *mac)
{
	bool valid;
	u16 word;
	int err, i;

	err = keel_hw_eeprom_checksum(kd, &valid);
	if (err)
		return err;
	if (!valid) {
		dev_warn(&kd->pdev->dev, "EEPROM checksum is invalid\n");
		return -EINVAL;
	}

	for (i = 0; i < ETH_ALEN / 2; i++) {
		err = keel_hw_read_eeprom(kd, KEEL_EEPROM_MAC_WORD + i, &word);
		if (err)
			return err;
		mac[2 * i] = word & 0xff;
		mac[2 * i + 1] = word >> 8;
	}
	return is_valid_ether_addr(mac) ? 0 : -EINVAL;
}

static u32 keel_ral(unsigned int idx)
{
	return idx < KEEL_RAL_LO_ENTRIES ? KEEL_RAL_LO(idx) : KEEL_RAL_HI(idx);
}

/**
 * keel_hw_set_rar() - program a receive address filter
 * @kd: the device
 * @idx: filter index
 * @addr: unicast address
 *
 * Context: any; callers serialize through RTNL or the address list lock.
 */
void keel_hw_set_rar(struct keel_dev *kd, unsigned int idx, const u8 *addr)
{
	u32 ral = get_unaligned_le32(addr);
	u32 rah = get_unaligned_le16(addr + 4);
	u32 reg = keel_ral(idx);

	/* The address goes valid last, in a separate write, so the filter
	 * never matches half an address.
	 */
	keel_wr32(kd, reg + KEEL_RAH_OFF, 0);
	keel_wr32(kd, reg, ral);
	keel_wr32(kd, reg + KEEL_RAH_OFF, FIELD_PREP(KEEL_RAH_ADDR, rah) |
		  FIELD_PREP(KEEL_RAH_POOLSEL, 1) | KEEL_RAH_AV);
}

/**
 * keel_hw_clear_rar() - disable a receive address filter
 * @kd: the device
 * @idx: filter index
 */
void keel_hw_clear_rar(struct keel_dev *kd, unsigned int idx)
{
	u32 reg = keel_ral(idx);

	keel_wr32(kd, reg + KEEL_RAH_OFF, 0);
	keel_wr32(kd, reg, 0);
}

/**
 * keel_hw_mta_hash() - bit in the multicast table for an address
 * @addr: multicast address
 *
 * With RCTL.MO = 0 the device hashes bits 47:36 of the address.
 *
 * Return: bit index, 0 to 4095.
 */
u32 keel_hw_mta_hash(const u8 *addr)
{
	return ((addr[4] >> 4) | ((u16)addr[5] << 4)) & 0xfff;
}

/**
 * keel_hw_set_mta() - load the whole multicast table
 * @kd: the device
 * @mta: KEEL_MTA_ENTRIES words
 */
void keel_hw_set_mta(struct keel_dev *kd, const u32 *mta)
{
	int i;

	for (i = 0; i < KEEL_MTA_ENTRIES; i++)
		keel_wr32(kd, KEEL_MTA(i), mta[i]);
}

/* The PHY is shared with the management firmware: software owns it
 * only while holding its bit in SW_FW_SYNC, itself guarded by the SWSM
 * semaphore.
 */
static void keel_hw_put_semaphore(struct keel_dev *kd);

static int keel_hw_get_semaphore(struct keel_dev *kd)
{
	unsigned int i;
	u32 swsm;
	int err;

	err = read_poll_timeout(keel_rd32, swsm, !(swsm & KEEL_SWSM_SMBI),
				50, 10 * USEC_PER_MSEC, false, kd,
				KEEL_SWSM);
	if (err)
		return err;

	/* The firmware may hold SWESMBI: the bit sticks only once it lets
	 * go, so the write is repeated until it reads back set.
	 */
	for (i = 0; i < KEEL_SWESMBI_TRIES; i++) {
		keel_rmw32(kd, KEEL_SWSM, 0, KEEL_SWSM_SWESMBI);
		if (keel_rd32(kd, KEEL_SWSM) & KEEL_SWSM_SWESMBI)
			return 0;
		usleep_range(50, 100);
	}
	keel_hw_put_semaphore(kd);
	return -EBUSY;
}

static void keel_hw_put_semaphore(struct keel_dev *kd)
{
	keel_rmw32(kd, KEEL_SWSM, KEEL_SWSM_SMBI | KEEL_SWSM_SWESMBI, 0);
}

static int keel_hw_acquire_phy(struct keel_dev *kd)
{
	u32 mask = kd->lan_id ? KEEL_SWFW_PHY1_SM : KEEL_SWFW_PHY0_SM;
	int i;

	for (i = 0; i < 200; i++) {
		u32 sync;

		if (keel_hw_get_semaphore(kd))
			return -EBUSY;
		sync = keel_rd32(kd, KEEL_SW_FW_SYNC);
		if (!(sync & (mask | mask << KEEL_SWFW_FW_SHIFT))) {
			keel_wr32(kd, KEEL_SW_FW_SYNC, sync | mask);
			keel_hw_put_semaphore(kd);
			return 0;
		}
		keel_hw_put_semaphore(kd);
		usleep_range(5000, 6000);
	}
	return -EBUSY;
}

static void keel_hw_release_phy(struct keel_dev *kd)
{
	if (keel_hw_get_semaphore(kd))
		return;
	keel_rmw32(kd, KEEL_SW_FW_SYNC,
		   kd->lan_id ? KEEL_SWFW_PHY1_SM : KEEL_SWFW_PHY0_SM, 0);
	keel_hw_put_semaphore(kd);
}

static int __keel_hw_mdic(struct keel_dev *kd, u32 op, u32 reg, u16 *data)
{
	u32 mdic;
	int err;

	keel_wr32(kd, KEEL_MDIC, FIELD_PREP(KEEL_MDIC_DATA, *data) |
		  FIELD_PREP(KEEL_MDIC_REG, reg) |
		  FIELD_PREP(KEEL_MDIC_PHY, KEEL_PHY_ADDR) |
		  FIELD_PREP(KEEL_MDIC_OP, op));
	err = read_poll_timeout(keel_rd32, mdic, mdic & KEEL_MDIC_READY,
				10, 10 * USEC_PER_MSEC, false, kd, KEEL_MDIC);
	if (!keel_present(kd))
		return -EIO;
	if (err)
		return err;
	if (mdic & KEEL_MDIC_ERROR)
		return -EIO;

	*data = FIELD_GET(KEEL_MDIC_DATA, mdic);
	return 0;
}

/**
 * keel_hw_phy_read() - read a PHY register
 * @kd: the device
 * @reg: MII register number
 * @data: receives the value
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int keel_hw_phy_read(struct keel_dev *kd, u32 reg, u16 *data)
{
	int err;

	err = keel_hw_acquire_phy(kd);
	if (err)
		return err;
	*data = 0;
	err = __keel_hw_mdic(kd, KEEL_MDIC_OP_READ, reg, data);
	keel_hw_release_phy(kd);
	return err;
}

static int keel_hw_phy_write(struct keel_dev *kd, u32 reg, u16 data)
{
	int err;

	err = keel_hw_acquire_phy(kd);
	if (err)
		return err;
	err = __keel_hw_mdic(kd, KEEL_MDIC_OP_WRITE, reg, &data);
	keel_hw_release_phy(kd);
	return err;
}

/**
 * keel_hw_setup_link() - bring up the copper link with autonegotiation
 * @kd: the device
 *
 * The MAC takes speed and duplex from the PHY; the PHY advertises every
 * mode it has and restarts autonegotiation. Link-up arrives later as an
 * LSC interrupt. Flow control is not supported: it is switched off in
 * the MAC and not advertised, so that what ethtool -a reports is what
 * the link does.
 *
 * Context: process context, may sleep.
 * Return: 0 or an error from the PHY access.
 */
int keel_hw_setup_link(struct keel_dev *kd)
{
	u16 bmcr, adv;
	int err;

	keel_rmw32(kd, KEEL_CTRL, KEEL_CTRL_FRCSPD | KEEL_CTRL_FRCDPX |
		   KEEL_CTRL_LRST | KEEL_CTRL_RFCE | KEEL_CTRL_TFCE,
		   KEEL_CTRL_SLU);
	keel_wr32(kd, KEEL_FCRTL, 0);
	keel_wr32(kd, KEEL_FCRTH, 0);

	err = keel_hw_phy_read(kd, MII_ADVERTISE, &adv);
	if (err)
		return err;
	if (adv & (ADVERTISE_PAUSE_CAP | ADVERTISE_PAUSE_ASYM)) {
		adv &= ~(ADVERTISE_PAUSE_CAP | ADVERTISE_PAUSE_ASYM);
		err = keel_hw_phy_write(kd, MII_ADVERTISE, adv);
		if (err)
			return err;
	}

	err = keel_hw_phy_read(kd, MII_BMCR, &bmcr);
	if (err)
		return err;
	bmcr &= ~(BMCR_PDOWN | BMCR_ISOLATE | BMCR_LOOPBACK);
	bmcr |= BMCR_ANENABLE | BMCR_ANRESTART;
	return keel_hw_phy_write(kd, MII_BMCR, bmcr);
}

/**
 * keel_hw_link_up() - link state from STATUS
 * @kd: the device
 * @speed: SPEED_* when the link is up
 * @duplex: DUPLEX_* when the link is up
 *
 * Context: any.
 * Return: whether the link is up.
 */
bool keel_hw_link_up(struct keel_dev *kd, u32 *speed, u8 *duplex)
{
	u32 status = keel_rd32(kd, KEEL_STATUS);

	if (status == ~0U || !(status & KEEL_STATUS_LU))
		return false;

	switch (FIELD_GET(KEEL_STATUS_SPEED, status)) {
	case KEEL_STATUS_SPEED_10:
		*speed = SPEED_10;
		break;
	case KEEL_STATUS_SPEED_100:
		*speed = SPEED_100;
		break;
	default:
		*speed = SPEED_1000;
		break;
	}
	*duplex = status & KEEL_STATUS_FD ? DUPLEX_FULL : DUPLEX_HALF;
	return true;
}

/**
 * keel_hw_set_max_frame() - accept frames up to an MTU
 * @kd: the device
 * @mtu: the MTU
 *
 * RCTL.LPE stays on; RLPML sets the limit, so a smaller MTU drops long
 * frames in hardware.
 */
void keel_hw_set_max_frame(struct keel_dev *kd, unsigned int mtu)
{
	keel_wr32(kd, KEEL_RLPML, mtu + KEEL_FRAME_OVERHEAD);
}

/**
 * keel_hw_driver_loaded() - tell the firmware whether a driver runs
 * @kd: the device
 * @loaded: driver state
 */
void keel_hw_driver_loaded(struct keel_dev *kd, bool loaded)
{
	keel_rmw32(kd, KEEL_CTRL_EXT, KEEL_CTRL_EXT_DRV_LOAD,
		   loaded ? KEEL_CTRL_EXT_DRV_LOAD : 0);
}
