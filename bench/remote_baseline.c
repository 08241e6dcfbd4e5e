/*
 * Remote-capture benchmark helpers (bench/remote.sh), built against the remote-enabled
 * libpcap (../shared/tools/libpcap-remote/build.sh):
 *
 *   remote_baseline client SOURCE COUNT IDLE_MS
 *       libpcap's rpcap client: pcap_open(SOURCE) (null auth, TCP data channel), filter
 *       "ether proto 0x88b5", pcap_next_ex until COUNT packets or IDLE_MS without one after
 *       the first. Prints "ready" once the capture runs, then
 *       {"received":N,"seconds":S,"pps":P} (S: first to last packet).
 *   remote_baseline send IFACE COUNT RATE
 *       pcap_inject of COUNT 64-byte frames (EtherType 0x88b5) at RATE frames/s (0: top
 *       speed), paced against CLOCK_MONOTONIC (sleeping, not spinning). Prints {"sent":N,"seconds":S,"pps":P}.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int client(const char *source, long count, double idle_ms) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *p = pcap_open(source, 256, 0, 10, NULL, errbuf);
  if (!p) {
    fprintf(stderr, "pcap_open: %s\n", errbuf);
    return 1;
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, "ether proto 0x88b5", 1, PCAP_NETMASK_UNKNOWN) != 0 ||
      pcap_setfilter(p, &prog) != 0) {
    fprintf(stderr, "filter: %s\n", pcap_geterr(p));
    return 1;
  }
  struct pcap_pkthdr *h;
  const u_char *data;
  long got = 0;
  /* The first read starts the capture (RPCAP_MSG_STARTCAP_REQ). */
  int rc = pcap_next_ex(p, &h, &data);
  if (rc < 0) {
    fprintf(stderr, "pcap_next_ex: %s\n", pcap_geterr(p));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  double first = 0, last = 0;
  if (rc == 1) {
    got = 1;
    first = last = now_s();
  }
  double start = now_s();
  while (got < count) {
    rc = pcap_next_ex(p, &h, &data);
    if (rc < 0) break;
    double t = now_s();
    if (rc == 1) {
      if (got == 0) first = t;
      last = t;
      got++;
    } else if (got > 0 ? (t - last) * 1e3 > idle_ms : (t - start) > 30) {
      break;
    }
  }
  double s = last - first;
  printf("{\"received\":%ld,\"seconds\":%.6f,\"pps\":%.0f}\n", got, s, s > 0 ? (got - 1) / s : 0);
  pcap_close(p);
  return 0;
}

static int sender(const char *iface, long count, double rate) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *p = pcap_open_live(iface, 64, 0, 10, errbuf);
  if (!p) {
    fprintf(stderr, "pcap_open_live: %s\n", errbuf);
    return 1;
  }
  unsigned char f[64];
  memset(f, 0, sizeof f);
  memset(f, 0xff, 6);
  f[6] = 0x02;
  f[11] = 0x01;
  f[12] = 0x88;
  f[13] = 0xb5;
  double start = now_s();
  long sent = 0;
  for (long i = 0; i < count; i++) {
    if (rate > 0 && (i & 15) == 0) {
      /* Sleep (no spinning: the box may have few cores) once 0.2 ms ahead of schedule. */
      double ahead = start + (double)i / rate - now_s();
      if (ahead > 0.0002) {
        struct timespec d = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
        nanosleep(&d, NULL);
      }
    }
    f[14] = (unsigned char)(i >> 24);
    f[15] = (unsigned char)(i >> 16);
    f[16] = (unsigned char)(i >> 8);
    f[17] = (unsigned char)i;
    if (pcap_inject(p, f, sizeof f) == (int)sizeof f) sent++;
  }
  double s = now_s() - start;
  printf("{\"sent\":%ld,\"seconds\":%.6f,\"pps\":%.0f}\n", sent, s, sent / s);
  pcap_close(p);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "client") == 0) {
    return client(argv[2], atol(argv[3]), atof(argv[4]));
  }
  if (argc == 5 && strcmp(argv[1], "send") == 0) {
    return sender(argv[2], atol(argv[3]), atof(argv[4]));
  }
  fprintf(stderr, "usage: remote_baseline client SOURCE COUNT IDLE_MS | send IFACE COUNT RATE\n");
  return 64;
}
