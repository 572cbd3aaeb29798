/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a libFuzzer target without libFuzzer, so that `make check` (and the
 * sanitizer build) exercises every fuzz target with gcc: each seed of the
 * target's corpus, then deterministic mutations of the seeds (bit flips,
 * truncations, byte insertions, random bytes).
 *
 *   fuzz_X            seeds from FUZZ_CORPUS_DIR + FUZZ_ITERATIONS mutations
 *   fuzz_X FILE...    exactly these inputs (crash reproduction)
 *
 * `make fuzz` (tests/fuzz/build-libfuzzer.sh) builds the same targets with
 * clang -fsanitize=fuzzer for real coverage-guided fuzzing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 16384
#define MAX_SEEDS 64

#ifndef FUZZ_ITERATIONS
#define FUZZ_ITERATIONS 3000
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static size_t
read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static size_t
mutate(uint8_t *buf, size_t len, size_t cap)
{
	size_t i, n = 1 + rnd() % 8;

	for (i = 0; i < n; i++) {
		switch (rnd() % 5) {
		case 0: /* flip a bit */
			if (len > 0)
				buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* truncate */
			if (len > 0)
				len = rnd() % len;
			break;
		case 2: /* insert a byte */
			if (len < cap) {
				size_t at = len > 0 ? rnd() % len : 0;
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = (uint8_t)rnd();
				len++;
			}
			break;
		case 3: /* interesting value */
			if (len > 0) {
				static const uint8_t v[] = { 0x00, 0xff, 0x7f,
				    0x80, 0x01, 0x3b, 0x3f, 0x70, 0x06 };
				buf[rnd() % len] = v[rnd() % sizeof(v)];
			}
			break;
		default: /* append random bytes */
			while (len < cap && rnd() % 4 != 0)
				buf[len++] = (uint8_t)rnd();
			break;
		}
	}
	return len;
}

int
main(int argc, char **argv)
{
	static uint8_t seeds[MAX_SEEDS][FUZZ_MAX_INPUT], buf[FUZZ_MAX_INPUT];
	size_t seed_len[MAX_SEEDS], nseeds = 0, len;
	char path[4096];
	struct dirent *de;
	DIR *dir;
	int i;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			len = read_file(argv[i], buf, sizeof(buf));
			LLVMFuzzerTestOneInput(buf, len);
		}
		printf("replayed %d input(s)\n", argc - 1);
		return 0;
	}
	seed_len[nseeds++] = 0; /* the empty input */
	if ((dir = opendir(FUZZ_CORPUS_DIR)) != NULL) {
		while ((de = readdir(dir)) != NULL && nseeds < MAX_SEEDS) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", FUZZ_CORPUS_DIR,
			    de->d_name);
			seed_len[nseeds] = read_file(path, seeds[nseeds],
			    FUZZ_MAX_INPUT);
			nseeds++;
		}
		closedir(dir);
	}
	for (i = 0; i < (int)nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i], seed_len[i]);
	for (i = 0; i < FUZZ_ITERATIONS; i++) {
		size_t s = rnd() % nseeds;

		memcpy(buf, seeds[s], seed_len[s]);
		len = mutate(buf, seed_len[s], sizeof(buf));
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%zu seeds and %d mutations: no crash\n", nseeds,
	    FUZZ_ITERATIONS);
	return 0;
}
