/* C baseline for bench/savefile.ts: read a savefile with libpcap's pcap_open_offline +
 * pcap_next_ex, touching each packet's data; prints "packets seconds".
 * No pcap.h is needed: the few prototypes are declared here. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <sys/time.h>

typedef struct pcap pcap_t;
struct pcap_pkthdr {
  struct timeval ts;
  uint32_t caplen;
  uint32_t len;
};
pcap_t *pcap_open_offline(const char *fname, char *errbuf);
int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **hdr, const unsigned char **data);
void pcap_close(pcap_t *p);

int main(int argc, char **argv) {
  char errbuf[256];
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE [REPEAT]\n", argv[0]);
    return 2;
  }
  int repeat = argc > 2 ? atoi(argv[2]) : 1;
  double best = 1e30;
  long packets = 0;
  unsigned sum = 0;
  for (int r = 0; r < repeat; r++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (!p) {
      fprintf(stderr, "%s\n", errbuf);
      return 1;
    }
    struct pcap_pkthdr *h;
    const unsigned char *d;
    packets = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
      sum += d[0] + h->caplen;
      packets++;
    }
    pcap_close(p);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (s < best) best = s;
  }
  printf("%ld %.6f %u\n", packets, best, sum & 1);
  return 0;
}
