/* Baseline for bench/decode.ts: libpcap's bare pcap_next_ex() loop over a capture file, no
 * decoding. There is no pcap.h on the bench machine, so the few prototypes are declared here.
 * Prints: packets seconds packets_per_second (best of N runs). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef struct pcap pcap_t;
struct pcap_pkthdr {
  struct timeval ts;
  unsigned int caplen;
  unsigned int len;
};
extern pcap_t *pcap_open_offline(const char *fname, char *errbuf);
extern int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **h, const unsigned char **data);
extern void pcap_close(pcap_t *p);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE [RUNS]\n", argv[0]);
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  double best = 1e30;
  long count = 0;
  unsigned long sink = 0;
  for (int r = 0; r < runs; r++) {
    char err[512];
    double t0 = now();
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
      fprintf(stderr, "pcap_open_offline: %s\n", err);
      return 1;
    }
    struct pcap_pkthdr *h;
    const unsigned char *d;
    long n = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
      n++;
      sink += h->caplen;
    }
    pcap_close(p);
    double dt = now() - t0;
    if (dt < best) best = dt;
    count = n;
  }
  printf("%ld %.6f %.0f %lu\n", count, best, count / best, sink & 1);
  return 0;
}
