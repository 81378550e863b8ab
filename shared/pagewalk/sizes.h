/* SPDX-License-Identifier: MIT */
/* Sizes by name, as Linux's include/linux/sizes.h spells them. */
#ifndef PAGEWALK_SIZES_H
#define PAGEWALK_SIZES_H

#define SZ_4K	0x00001000ULL
#define SZ_1M	0x00100000ULL
#define SZ_2M	0x00200000ULL
#define SZ_1G	0x40000000ULL

#endif
