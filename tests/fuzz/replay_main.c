/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs a libFuzzer target without libFuzzer, so that `make check` (and the
 * sanitizer build) exercises every fuzz target with gcc: each seed of the
 * target's corpus, then deterministic mutations of the seeds (bit flips,
 * truncations, byte insertions, random bytes).
 *
 *   fuzz_X            the seeds in FUZZ_CORPUS_ROOT/X/ + FUZZ_ITERATIONS
 *                     mutations
 *   fuzz_X FILE...    exactly these inputs (crash reproduction)
 *
 * The seed directory follows from the program's name, as Makefile.am lays
 * the targets out, so that one object serves every target and a new
 * target needs no rule of its own.  `./configure CC=clang
 * --enable-fuzzing && make fuzz` links the same targets with libFuzzer
 * for coverage-guided fuzzing instead (docs/testing.md, "Fuzzing").
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

/* fuzz_X (or libtool's lt-fuzz_X) in any directory: FUZZ_CORPUS_ROOT/X */
static int
corpus_dir(const char *argv0, char *dir, size_t cap)
{
	const char *name = strrchr(argv0, '/');
	int n;

	name = name != NULL ? name + 1 : argv0;
	if (strncmp(name, "lt-", 3) == 0)
		name += 3;
	if (strncmp(name, "fuzz_", 5) != 0 || name[5] == '\0')
		return -1;
	n = snprintf(dir, cap, "%s/%s", FUZZ_CORPUS_ROOT, name + 5);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static uint8_t seeds[MAX_SEEDS][FUZZ_MAX_INPUT], buf[FUZZ_MAX_INPUT];
	size_t seed_len[MAX_SEEDS], nseeds = 0, len;
	char corpus[4096], path[4096];
	struct dirent *de;
	DIR *dir;
	int i, n;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			len = read_file(argv[i], buf, sizeof(buf));
			LLVMFuzzerTestOneInput(buf, len);
		}
		printf("replayed %d input(s)\n", argc - 1);
		return 0;
	}
	if (corpus_dir(argv[0], corpus, sizeof(corpus)) != 0) {
		fprintf(stderr, "%s: not named fuzz_X, so no seeds\n", argv[0]);
		return 1;
	}
	/* a target without seeds would quietly fuzz only the empty input */
	if ((dir = opendir(corpus)) == NULL) {
		perror(corpus);
		fprintf(stderr, "every fuzz target needs a seed corpus there\n");
		return 1;
	}
	seed_len[nseeds++] = 0; /* the empty input */
	while ((de = readdir(dir)) != NULL && nseeds < MAX_SEEDS) {
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", corpus, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "%s/%s: path too long\n", corpus,
			    de->d_name);
			closedir(dir);
			return 1;
		}
		seed_len[nseeds] = read_file(path, seeds[nseeds],
		    FUZZ_MAX_INPUT);
		nseeds++;
	}
	closedir(dir);
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
