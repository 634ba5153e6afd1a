/*
 * The C baseline: the work of each benchmark case through raw syscalls, timed
 * with clock_gettime around the same span the JavaScript contenders time.
 *
 *   baseline <case> <variant> <path|-> <size> <count>
 *
 * prints one JSON object: {"ok":true,"seconds":...,"checksum":...} or
 * {"ok":false,"reason":"..."}. Offsets and checksums follow bench/lib/work.js
 * bit for bit, so every contender can be checked against this one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(const char *what) {
  printf("{\"ok\":false,\"reason\":\"%s: %s\"}\n", what, strerror(errno));
  return 0;
}

static int done(double seconds, uint64_t checksum) {
  printf("{\"ok\":true,\"seconds\":%.9f,\"checksum\":%llu}\n", seconds,
         (unsigned long long)checksum);
  return 0;
}

/* xorshift32, as work.js: the same sequence of 8-byte slots in every contender. */
static uint32_t *random_slots(size_t count, uint32_t slot_mask) {
  uint32_t *slots = malloc(count * sizeof *slots);
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    slots[i] = x & slot_mask;
  }
  return slots;
}

static void *map_file(const char *path, size_t size, int prot, int flags) {
  int fd = open(path, prot & PROT_WRITE ? O_RDWR : O_RDONLY);
  if (fd < 0) return MAP_FAILED;
  void *p = mmap(NULL, size, prot, flags, fd, 0);
  close(fd);
  return p;
}

static long resident_bytes(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL || fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  if (f != NULL) fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

static int lifecycle(size_t count) {
  double start = now();
  for (size_t i = 0; i < count; i++) {
    volatile uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return fail("mmap");
    p[0] = 1;
    munmap((void *)p, 4096);
  }
  return done(now() - start, count);
}

static int random_reads(const char *variant, const char *path, size_t size, size_t count) {
  uint32_t *slots = random_slots(count, (uint32_t)(size / 8 - 1));
  uint32_t acc = 0;
  double seconds;
  if (strcmp(variant, "pread") == 0) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail("open");
    uint32_t word[2];
    double start = now();
    for (size_t i = 0; i < count; i++) {
      if (pread(fd, word, 8, (off_t)slots[i] * 8) != 8) return fail("pread");
      acc ^= word[0] ^ word[1];
    }
    seconds = now() - start;
    close(fd);
  } else {
    const uint32_t *words = map_file(path, size, PROT_READ, MAP_PRIVATE);
    if (words == MAP_FAILED) return fail("mmap");
    double start = now();
    for (size_t i = 0; i < count; i++) acc ^= words[2 * slots[i]] ^ words[2 * slots[i] + 1];
    seconds = now() - start;
    munmap((void *)words, size);
  }
  free(slots);
  return done(seconds, acc);
}

static int scan(const char *path, size_t size) {
  const uint32_t *words = map_file(path, size, PROT_READ, MAP_PRIVATE);
  if (words == MAP_FAILED) return fail("mmap");
  uint32_t sum = 0;
  double start = now();
  for (size_t i = 0; i < size / 4; i++) sum += words[i];
  double seconds = now() - start;
  munmap((void *)words, size);
  return done(seconds, sum);
}

static int first_byte(const char *path, size_t size) {
  double start = now();
  const volatile uint8_t *bytes = map_file(path, size, PROT_READ, MAP_PRIVATE);
  if (bytes == MAP_FAILED) return fail("mmap");
  uint8_t last = bytes[size - 1];
  munmap((void *)bytes, size);
  return done(now() - start, last);
}

static int faults(const char *variant, size_t size) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (strcmp(variant, "populate") == 0) flags |= MAP_POPULATE;
  if (strcmp(variant, "huge2m") == 0) flags |= MAP_HUGETLB | (21 << MAP_HUGE_SHIFT);
  double start = now();
  volatile uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) return fail("mmap");
  if (strcmp(variant, "thp") == 0 && madvise((void *)p, size, MADV_HUGEPAGE) != 0) return fail("madvise");
  for (size_t offset = 0; offset < size; offset += 4096) p[offset] = 1;
  munmap((void *)p, size);
  return done(now() - start, size / 4096);
}

static int write_flush(const char *path, size_t size, size_t round) {
  uint8_t *bytes = map_file(path, size, PROT_READ | PROT_WRITE, MAP_SHARED);
  if (bytes == MAP_FAILED) return fail("mmap");
  double start = now();
  memset(bytes, (int)(round & 0xff), size);
  if (msync(bytes, size, MS_SYNC) != 0) return fail("msync");
  double seconds = now() - start;
  munmap(bytes, size);
  return done(seconds, round & 0xff);
}

/* The machine code every contender of the call case runs: add two 64-bit integers. */
#if defined(__x86_64__)
static const uint8_t kAdd[] = {0x48, 0x8d, 0x04, 0x37, 0xc3}; /* lea rax, [rdi+rsi]; ret */
#elif defined(__aarch64__)
static const uint8_t kAdd[] = {0x00, 0x00, 0x01, 0x8b, 0xc0, 0x03, 0x5f, 0xd6}; /* add x0, x0, x1; ret */
#endif

static int calls(size_t count) {
  uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) return fail("mmap");
  memcpy(code, kAdd, sizeof kAdd);
  if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) return fail("mprotect");
  __builtin___clear_cache((char *)code, (char *)code + sizeof kAdd);
  int64_t (*volatile add)(int64_t, int64_t) = (int64_t (*)(int64_t, int64_t))(void *)code;
  int64_t sum = 0;
  double start = now();
  for (size_t i = 0; i < count; i++) sum = add(sum, 1);
  double seconds = now() - start;
  munmap(code, 4096);
  return done(seconds, (uint64_t)sum);
}

/* Resident memory after mapping a sparse file and touching every 100th page. */
static int memory(const char *path, size_t size) {
  long before = resident_bytes();
  const volatile uint8_t *bytes = map_file(path, size, PROT_READ, MAP_PRIVATE);
  if (bytes == MAP_FAILED) return fail("mmap");
  uint32_t sum = 0;
  for (size_t offset = 0; offset < size; offset += 100 * 4096) sum += bytes[offset];
  long after = resident_bytes();
  printf("{\"ok\":true,\"rss\":%ld,\"rssDelta\":%ld,\"checksum\":%u}\n", after, after - before, sum);
  munmap((void *)bytes, size);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <case> <variant> <path|-> <size> <count>\n", argv[0]);
    return 2;
  }
  const char *name = argv[1], *variant = argv[2], *path = argv[3];
  size_t size = strtoull(argv[4], NULL, 10), count = strtoull(argv[5], NULL, 10);
  if (strcmp(name, "lifecycle") == 0) return lifecycle(count);
  if (strcmp(name, "random") == 0) return random_reads(variant, path, size, count);
  if (strcmp(name, "scan") == 0) return scan(path, size);
  if (strcmp(name, "firstByte") == 0) return first_byte(path, size);
  if (strcmp(name, "faults") == 0) return faults(variant, size);
  if (strcmp(name, "flush") == 0) return write_flush(path, size, count);
  if (strcmp(name, "calls") == 0) return calls(count);
  if (strcmp(name, "memory") == 0) return memory(path, size);
  fprintf(stderr, "unknown case %s\n", name);
  return 2;
}
