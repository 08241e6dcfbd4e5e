/*
 * C baselines for bench/capture.sh (libpcap has no headers here: the few
 * prototypes and structs used are declared below; link with the full path of
 * libpcap.so.0.8).
 *
 *   capture_baseline gen FILE COUNT                  write COUNT 64-byte frames (pcap)
 *   capture_baseline read FILE ROUNDS [unlocked]     pcap_next_ex loop, best of ROUNDS;
 *       "unlocked": the file opened as @netcap/pcap opens it on glibc (fopen,
 *       __fsetlocking(FSETLOCKING_BYCALLER), a 1 MiB stdio buffer, pcap_fopen_offline),
 *       for comparison
 *   capture_baseline inject DEV COUNT [ROUNDS]       pcap_inject loop, best of ROUNDS
 *   capture_baseline capture DEV COUNT SNAPLEN BUFSIZE TIMEOUT_MS IDLE_MS
 *       pcap_dispatch loop until COUNT packets (or IDLE_MS without any after the
 *       first); prints "ready" once active, then one JSON line.
 *
 * Every result is one JSON line on stdout.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

typedef struct pcap pcap_t;
struct pcap_pkthdr {
  struct timeval ts;
  uint32_t caplen;
  uint32_t len;
};
struct pcap_stat {
  unsigned ps_recv, ps_drop, ps_ifdrop;
};
struct bpf_program {
  unsigned bf_len;
  void *bf_insns;
};
typedef void (*pcap_handler)(unsigned char *, const struct pcap_pkthdr *, const unsigned char *);

pcap_t *pcap_open_offline(const char *, char *);
pcap_t *pcap_fopen_offline(FILE *, char *);
pcap_t *pcap_create(const char *, char *);
int pcap_set_snaplen(pcap_t *, int);
int pcap_set_timeout(pcap_t *, int);
int pcap_set_buffer_size(pcap_t *, int);
int pcap_set_immediate_mode(pcap_t *, int);
int pcap_activate(pcap_t *);
int pcap_next_ex(pcap_t *, struct pcap_pkthdr **, const unsigned char **);
int pcap_dispatch(pcap_t *, int, pcap_handler, unsigned char *);
int pcap_inject(pcap_t *, const void *, size_t);
int pcap_stats(pcap_t *, struct pcap_stat *);
int pcap_compile(pcap_t *, struct bpf_program *, const char *, int, uint32_t);
int pcap_setfilter(pcap_t *, struct bpf_program *);
void pcap_freecode(struct bpf_program *);
char *pcap_geterr(pcap_t *);
void pcap_close(pcap_t *);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static void frame(unsigned char *f, uint32_t seq) {
  static const unsigned char h[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};
  memcpy(f, h, 14);
  f[14] = seq >> 24, f[15] = seq >> 16, f[16] = seq >> 8, f[17] = seq;
  for (int i = 18; i < 64; i++) f[i] = (unsigned char)(seq * 7 + i);
}

static int gen(const char *file, long count) {
  FILE *fp = fopen(file, "wb");
  if (!fp) return perror(file), 1;
  uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1};
  fwrite(gh, 1, 24, fp);
  unsigned char rec[16 + 64];
  for (long i = 0; i < count; i++) {
    uint32_t h[4] = {1700000000 + (uint32_t)(i / 1000000), (uint32_t)(i % 1000000), 64, 64};
    memcpy(rec, h, 16);
    frame(rec + 16, (uint32_t)i);
    fwrite(rec, 1, sizeof rec, fp);
  }
  return fclose(fp) != 0;
}

static pcap_t *open_file(const char *file, int unlocked, char *err) {
  if (!unlocked) return pcap_open_offline(file, err);
  FILE *fp = fopen(file, "rb");
  if (!fp) return snprintf(err, 256, "%s: cannot open", file), NULL;
  __fsetlocking(fp, FSETLOCKING_BYCALLER);
  static char buffer[1 << 20]; /* one handle at a time */
  setvbuf(fp, buffer, _IOFBF, sizeof buffer);
  pcap_t *p = pcap_fopen_offline(fp, err);
  if (!p) fclose(fp);
  return p;
}

static int readfile(const char *file, int rounds, int unlocked) {
  char err[256];
  double best = 0, bestCpu = 0;
  long n = 0;
  unsigned sum = 0;
  for (int r = 0; r < rounds; r++) {
    pcap_t *p = open_file(file, unlocked, err);
    if (!p) return fprintf(stderr, "%s\n", err), 1;
    struct pcap_pkthdr *h;
    const unsigned char *d;
    n = 0;
    sum = 0;
    double t0 = now(), c0 = cpu_us();
    while (pcap_next_ex(p, &h, &d) == 1) {
      n++;
      if (h->caplen) sum += d[0] + d[h->caplen - 1];
    }
    double pps = n / (now() - t0), ppsCpu = n / ((cpu_us() - c0) / 1e6);
    if (pps > best) best = pps;
    if (ppsCpu > bestCpu) bestCpu = ppsCpu;
    pcap_close(p);
  }
  printf("{\"packets\":%ld,\"pps\":%.0f,\"ppsCpu\":%.0f,\"check\":%u}\n", n, best, bestCpu, sum);
  return 0;
}

static pcap_t *open_dev(const char *dev, int snaplen, int bufsize, int timeout) {
  char err[256];
  pcap_t *p = pcap_create(dev, err);
  if (!p) return fprintf(stderr, "%s\n", err), NULL;
  pcap_set_snaplen(p, snaplen);
  pcap_set_timeout(p, timeout);
  if (bufsize > 0) pcap_set_buffer_size(p, bufsize);
  int rc = pcap_activate(p);
  if (rc < 0) return fprintf(stderr, "activate %s: %d %s\n", dev, rc, pcap_geterr(p)), NULL;
  return p;
}

static int inject(const char *dev, long count, int rounds) {
  pcap_t *p = open_dev(dev, 128, 0, 10);
  if (!p) return 1;
  unsigned char f[64];
  frame(f, 0);
  double best = 0, bestCpu = 0;
  for (int r = 0; r < rounds; r++) {
    double t0 = now(), c0 = cpu_us();
    for (long i = 0; i < count; i++) {
      if (pcap_inject(p, f, sizeof f) != (int)sizeof f) {
        return fprintf(stderr, "pcap_inject: %s\n", pcap_geterr(p)), 1;
      }
    }
    double pps = count / (now() - t0), ppsCpu = count / ((cpu_us() - c0) / 1e6);
    if (pps > best) best = pps;
    if (ppsCpu > bestCpu) bestCpu = ppsCpu;
  }
  printf("{\"packets\":%ld,\"pps\":%.0f,\"ppsCpu\":%.0f}\n", count, best, bestCpu);
  pcap_close(p);
  return 0;
}

static long got;
static unsigned sum;
static void handler(unsigned char *u, const struct pcap_pkthdr *h, const unsigned char *d) {
  (void)u;
  got++;
  if (h->caplen) sum += d[0] + d[h->caplen - 1];
}

static int capture(const char *dev, long count, int snaplen, int bufsize, int timeout, int idle_ms) {
  pcap_t *p = open_dev(dev, snaplen, bufsize, timeout);
  if (!p) return 1;
  struct bpf_program prog;
  if (pcap_compile(p, &prog, "ether proto 0x88b5", 1, 0xffffffff) < 0 || pcap_setfilter(p, &prog) < 0) {
    return fprintf(stderr, "filter: %s\n", pcap_geterr(p)), 1;
  }
  pcap_freecode(&prog);
  printf("ready\n");
  fflush(stdout);
  double c0 = cpu_us(), t0 = 0, last = now(), deadline = now() + 60;
  /* Steady state: the CPU from the first quarter of the packets on (start-up left out). */
  double cq = -1;
  long gq = 0;
  while (got < count) {
    int rc = pcap_dispatch(p, -1, handler, NULL);
    if (rc < 0) return fprintf(stderr, "pcap_dispatch: %s\n", pcap_geterr(p)), 1;
    if (cq < 0 && got >= count / 4) cq = cpu_us(), gq = got;
    double t = now();
    if (rc > 0) {
      if (t0 == 0) t0 = t;
      last = t;
    } else if ((got > 0 && (t - last) * 1000 > idle_ms) || t > deadline) {
      break;
    }
  }
  double c1 = cpu_us(), t1 = now();
  struct pcap_stat st;
  pcap_stats(p, &st);
  printf("{\"received\":%ld,\"psRecv\":%u,\"psDrop\":%u,\"psIfdrop\":%u,\"cpuUs\":%.0f,"
         "\"steadyCpuUs\":%.0f,\"steadyPackets\":%ld,\"wallS\":%.3f,\"check\":%u}\n",
         got, st.ps_recv, st.ps_drop, st.ps_ifdrop, c1 - c0, cq < 0 ? 0 : c1 - cq, got - gq,
         t0 ? last - t0 : 0.0, sum);
  (void)t1;
  pcap_close(p);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "gen")) return gen(argv[2], atol(argv[3]));
  if (argc >= 4 && !strcmp(argv[1], "read")) {
    return readfile(argv[2], atoi(argv[3]), argc > 4 && !strcmp(argv[4], "unlocked"));
  }
  if (argc >= 4 && !strcmp(argv[1], "inject")) return inject(argv[2], atol(argv[3]), argc > 4 ? atoi(argv[4]) : 1);
  if (argc >= 8 && !strcmp(argv[1], "capture")) {
    return capture(argv[2], atol(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]));
  }
  fprintf(stderr, "usage: see the comment at the top of capture_baseline.c\n");
  return 2;
}
