/*
 * The host's own page_fault1 (will-it-scale): map 128 MiB, write a byte
 * into every 4 KiB page, unmap, repeat; prints faults per second, the
 * median of the rounds.  `make bench` sets the guest's rate beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "timing.h"

#define SIZE	(128UL << 20)
#define ROUNDS	9

int main(void)
{
	double rate[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t0;

		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		t0 = now();
		for (unsigned long off = 0; off < SIZE; off += 4096)
			p[off] = 1;
		rate[r] = (SIZE / 4096) / (now() - t0);
		munmap(p, SIZE);
	}
	qsort(rate, ROUNDS, sizeof(rate[0]), cmp_double);
	printf("%.0f\n", rate[ROUNDS / 2]);
	return 0;
}
