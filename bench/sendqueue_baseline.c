/*
 * C baselines for bench/sendqueue.sh (linked against the full path of libpcap; no headers
 * needed, the prototypes are declared here).
 *
 *   gen FILE N SIZE               N frames of SIZE bytes, time stamps 1 us apart
 *   gengaps FILE N SEED           N 64-byte frames, gaps log-uniform in [10 us, 1 ms]
 *   genmix FILE N                 N 64-byte frames, every second one EtherType 0x88b5,
 *                                 the others 0x88b6
 *   send DEV FILE ROUNDS          the file's frames from memory, a pcap_sendpacket loop;
 *                                 best of ROUNDS: {"packets","pps","ms"}
 *   count DEV FILTER SNAPLEN IDLE_MS [TIMEOUT_MS]
 *                                 counts packets and bytes (h->len) that pass FILTER until
 *                                 IDLE_MS pass without one after the first; prints "ready"
 *                                 first, then {"packets","bytes","cpuNs","drops"} (CPU from
 *                                 the open). Without TIMEOUT_MS: immediate mode, 64 MiB
 *                                 buffer, nonblocking reads polled every 200 us. With it:
 *                                 libpcap's batching (read timeout TIMEOUT_MS, 16 MiB buffer,
 *                                 nonblocking reads, poll(2) on the selectable descriptor when
 *                                 none is ready), as the statistics engine reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>
#include <time.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/resource.h>

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;
struct pcap_pkthdr { struct timeval ts; uint32_t caplen; uint32_t len; };
struct bpf_program { unsigned int bf_len; void *bf_insns; };
struct pcap_stat { unsigned int ps_recv, ps_drop, ps_ifdrop; };
typedef void (*pcap_handler)(unsigned char *, const struct pcap_pkthdr *, const unsigned char *);

pcap_t *pcap_open_dead(int, int);
pcap_t *pcap_open_offline(const char *, char *);
pcap_t *pcap_create(const char *, char *);
int pcap_set_snaplen(pcap_t *, int);
int pcap_set_immediate_mode(pcap_t *, int);
int pcap_set_buffer_size(pcap_t *, int);
int pcap_set_timeout(pcap_t *, int);
int pcap_get_selectable_fd(pcap_t *);
int pcap_activate(pcap_t *);
int pcap_setnonblock(pcap_t *, int, char *);
int pcap_compile(pcap_t *, struct bpf_program *, const char *, int, uint32_t);
int pcap_setfilter(pcap_t *, struct bpf_program *);
int pcap_dispatch(pcap_t *, int, pcap_handler, unsigned char *);
int pcap_next_ex(pcap_t *, struct pcap_pkthdr **, const unsigned char **);
int pcap_sendpacket(pcap_t *, const unsigned char *, int);
int pcap_stats(pcap_t *, struct pcap_stat *);
char *pcap_geterr(pcap_t *);
void pcap_close(pcap_t *);
pcap_dumper_t *pcap_dump_open(pcap_t *, const char *);
void pcap_dump(unsigned char *, const struct pcap_pkthdr *, const unsigned char *);
void pcap_dump_close(pcap_dumper_t *);

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void fill(unsigned char *f, int size, uint32_t seq, int type) {
  memset(f, 0xff, 6);
  memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f[14] = seq >> 24; f[15] = seq >> 16; f[16] = seq >> 8; f[17] = seq;
  for (int i = 18; i < size; i++) f[i] = (unsigned char)(seq * 7 + i);
}

static int gen(const char *file, long n, int size, int mode, unsigned seed) {
  pcap_t *dead = pcap_open_dead(1, 65535);
  pcap_dumper_t *d = pcap_dump_open(dead, file);
  if (!d) { fprintf(stderr, "%s\n", pcap_geterr(dead)); return 1; }
  unsigned char f[2048];
  struct pcap_pkthdr h;
  uint64_t us = 1700000000ULL * 1000000ULL;
  srand(seed);
  for (long i = 0; i < n; i++) {
    fill(f, size, (uint32_t)i, mode == 2 && (i & 1) ? 0x88b6 : 0x88b5);
    h.ts.tv_sec = us / 1000000; h.ts.tv_usec = us % 1000000;
    h.caplen = h.len = size;
    pcap_dump((unsigned char *)d, &h, f);
    if (mode == 1) us += (uint64_t)llround(10.0 * pow(100.0, rand() / (double)RAND_MAX));
    else us += 1;
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return 0;
}

static pcap_t *open_live(const char *dev, int snaplen, int immediate) {
  char err[256];
  pcap_t *p = pcap_create(dev, err);
  if (!p) { fprintf(stderr, "%s\n", err); exit(1); }
  pcap_set_snaplen(p, snaplen);
  pcap_set_timeout(p, 100);
  if (immediate) { pcap_set_immediate_mode(p, 1); pcap_set_buffer_size(p, 64 << 20); }
  if (pcap_activate(p) < 0) { fprintf(stderr, "activate: %s\n", pcap_geterr(p)); exit(1); }
  return p;
}

static int send_file(const char *dev, const char *file, int rounds) {
  char err[256];
  pcap_t *in = pcap_open_offline(file, err);
  if (!in) { fprintf(stderr, "%s\n", err); return 1; }
  size_t cap = 1 << 20, used = 0, count = 0;
  unsigned char *buf = malloc(cap);
  uint32_t *lens = malloc(sizeof(uint32_t) * 4 * 1024 * 1024);
  struct pcap_pkthdr *h;
  const unsigned char *data;
  while (pcap_next_ex(in, &h, &data) == 1) {
    if (used + h->caplen > cap) { cap *= 2; buf = realloc(buf, cap); }
    memcpy(buf + used, data, h->caplen);
    used += h->caplen;
    lens[count++] = h->caplen;
  }
  pcap_close(in);
  pcap_t *p = open_live(dev, 65535, 0);
  double best = 1e300;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ms();
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
      if (pcap_sendpacket(p, buf + at, lens[i]) != 0) {
        fprintf(stderr, "pcap_sendpacket: %s\n", pcap_geterr(p));
        return 1;
      }
      at += lens[i];
    }
    double ms = now_ms() - t0;
    if (ms < best) best = ms;
  }
  printf("{\"packets\":%zu,\"pps\":%.0f,\"ms\":%.3f}\n", count, count / best * 1000, best);
  pcap_close(p);
  return 0;
}

struct counts { uint64_t packets, bytes; };
static void on_packet(unsigned char *u, const struct pcap_pkthdr *h, const unsigned char *d) {
  (void)d;
  struct counts *c = (struct counts *)u;
  c->packets++;
  c->bytes += h->len;
}

static double cpu_ns(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e9 +
    (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e3;
}

static int count(const char *dev, const char *filter, int snaplen, int idle_ms, int timeout_ms) {
  double cpu0 = cpu_ns();
  pcap_t *p;
  char err[256];
  if (timeout_ms > 0) {
    p = pcap_create(dev, err);
    if (!p) { fprintf(stderr, "%s\n", err); return 1; }
    pcap_set_snaplen(p, snaplen);
    pcap_set_timeout(p, timeout_ms);
    pcap_set_buffer_size(p, 16 << 20);
    if (pcap_activate(p) < 0) { fprintf(stderr, "activate: %s\n", pcap_geterr(p)); return 1; }
  } else {
    p = open_live(dev, snaplen, 1);
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, 0xffffffff) != 0 || pcap_setfilter(p, &prog) != 0) {
    fprintf(stderr, "filter: %s\n", pcap_geterr(p));
    return 1;
  }
  pcap_setnonblock(p, 1, err);
  struct pollfd pfd = {pcap_get_selectable_fd(p), POLLIN, 0};
  printf("ready\n");
  fflush(stdout);
  struct counts c = {0, 0};
  double last = 0;
  for (;;) {
    int n = pcap_dispatch(p, -1, on_packet, (unsigned char *)&c);
    if (n < 0) { fprintf(stderr, "dispatch: %s\n", pcap_geterr(p)); return 1; }
    if (n > 0) last = now_ms();
    else {
      if (c.packets > 0 && now_ms() - last > idle_ms) break;
      if (timeout_ms > 0) { poll(&pfd, 1, timeout_ms); continue; }
      struct timespec t = {0, 200000};
      nanosleep(&t, NULL);
    }
  }
  struct pcap_stat st;
  pcap_stats(p, &st);
  printf("{\"packets\":%llu,\"bytes\":%llu,\"cpuNs\":%.0f,\"drops\":%u}\n",
         (unsigned long long)c.packets, (unsigned long long)c.bytes, cpu_ns() - cpu0, st.ps_drop);
  pcap_close(p);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && !strcmp(argv[1], "gen")) return gen(argv[2], atol(argv[3]), atoi(argv[4]), 0, 0);
  if (argc >= 5 && !strcmp(argv[1], "gengaps")) return gen(argv[2], atol(argv[3]), 64, 1, atoi(argv[4]));
  if (argc >= 4 && !strcmp(argv[1], "genmix")) return gen(argv[2], atol(argv[3]), 64, 2, 0);
  if (argc >= 5 && !strcmp(argv[1], "send")) return send_file(argv[2], argv[3], atoi(argv[4]));
  if (argc >= 6 && !strcmp(argv[1], "count")) return count(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), argc >= 7 ? atoi(argv[6]) : 0);
  fprintf(stderr, "usage: see the comment at the top of sendqueue_baseline.c\n");
  return 2;
}
