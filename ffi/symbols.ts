/**
 * The symbol tables: every native function this package calls, declared once,
 * with its C prototype beside it. The back ends build their runtime-specific
 * signatures from these entries; nothing else declares a native function.
 *
 * `optional` marks functions a library may lack (introduced after libpcap
 * 1.0, platform-specific, or WinPcap/Npcap/remote extensions): they load as
 * `null` and the method that needs them throws a `PcapError` naming them.
 *
 * @module
 */

import type { NativeType, SymbolDef } from "./types.ts";

type Extra = Partial<Pick<SymbolDef, "optional" | "since" | "symbol" | "nonblocking">>;

function fn<const E extends Extra = Record<never, never>>(
  c: string,
  args: readonly NativeType[],
  returns: NativeType,
  extra?: E,
): SymbolDef & E {
  return { c, args, returns, ...extra } as SymbolDef & E;
}

const opt = <const S extends string>(since: S): { optional: true; since: S } => ({
  optional: true,
  since,
});

/** libpcap 1.10 / Npcap / WinPcap. */
export const pcapSymbols = {
  // --- library ---
  pcap_lib_version: fn("const char *pcap_lib_version(void)", [], "ptr"),
  pcap_init: fn(
    "int pcap_init(unsigned int opts, char *errbuf)",
    ["u32", "buffer"],
    "i32",
    opt("libpcap 1.10"),
  ),
  pcap_statustostr: fn("const char *pcap_statustostr(int error)", ["i32"], "ptr"),
  pcap_strerror: fn("const char *pcap_strerror(int error)", ["i32"], "ptr"),
  pcap_geterr: fn("char *pcap_geterr(pcap_t *p)", ["ptr"], "ptr"),

  // --- devices ---
  pcap_findalldevs: fn("int pcap_findalldevs(pcap_if_t **alldevsp, char *errbuf)", [
    "buffer",
    "buffer",
  ], "i32"),
  pcap_freealldevs: fn("void pcap_freealldevs(pcap_if_t *alldevs)", ["ptr"], "void"),
  pcap_lookupnet: fn(
    "int pcap_lookupnet(const char *device, bpf_u_int32 *netp, bpf_u_int32 *maskp, char *errbuf)",
    ["buffer", "buffer", "buffer", "buffer"],
    "i32",
  ),

  // --- opening ---
  pcap_create: fn(
    "pcap_t *pcap_create(const char *source, char *errbuf)",
    ["buffer", "buffer"],
    "ptr",
  ),
  pcap_activate: fn("int pcap_activate(pcap_t *p)", ["ptr"], "i32"),
  pcap_set_snaplen: fn("int pcap_set_snaplen(pcap_t *p, int snaplen)", ["ptr", "i32"], "i32"),
  pcap_set_promisc: fn("int pcap_set_promisc(pcap_t *p, int promisc)", ["ptr", "i32"], "i32"),
  pcap_set_timeout: fn("int pcap_set_timeout(pcap_t *p, int to_ms)", ["ptr", "i32"], "i32"),
  pcap_set_buffer_size: fn(
    "int pcap_set_buffer_size(pcap_t *p, int buffer_size)",
    ["ptr", "i32"],
    "i32",
  ),
  pcap_set_rfmon: fn("int pcap_set_rfmon(pcap_t *p, int rfmon)", ["ptr", "i32"], "i32"),
  pcap_can_set_rfmon: fn("int pcap_can_set_rfmon(pcap_t *p)", ["ptr"], "i32"),
  pcap_set_immediate_mode: fn(
    "int pcap_set_immediate_mode(pcap_t *p, int immediate_mode)",
    ["ptr", "i32"],
    "i32",
    opt("libpcap 1.5"),
  ),
  pcap_set_tstamp_type: fn(
    "int pcap_set_tstamp_type(pcap_t *p, int tstamp_type)",
    ["ptr", "i32"],
    "i32",
    opt("libpcap 1.2"),
  ),
  pcap_list_tstamp_types: fn(
    "int pcap_list_tstamp_types(pcap_t *p, int **tstamp_typesp)",
    ["ptr", "buffer"],
    "i32",
    opt("libpcap 1.2"),
  ),
  pcap_free_tstamp_types: fn(
    "void pcap_free_tstamp_types(int *tstamp_types)",
    ["ptr"],
    "void",
    opt("libpcap 1.2"),
  ),
  pcap_tstamp_type_val_to_name: fn(
    "const char *pcap_tstamp_type_val_to_name(int tstamp_type)",
    ["i32"],
    "ptr",
    opt("libpcap 1.2"),
  ),
  pcap_tstamp_type_val_to_description: fn(
    "const char *pcap_tstamp_type_val_to_description(int tstamp_type)",
    ["i32"],
    "ptr",
    opt("libpcap 1.2"),
  ),
  pcap_tstamp_type_name_to_val: fn(
    "int pcap_tstamp_type_name_to_val(const char *name)",
    ["buffer"],
    "i32",
    opt("libpcap 1.2"),
  ),
  pcap_set_tstamp_precision: fn(
    "int pcap_set_tstamp_precision(pcap_t *p, int tstamp_precision)",
    ["ptr", "i32"],
    "i32",
    opt("libpcap 1.5"),
  ),
  pcap_get_tstamp_precision: fn(
    "int pcap_get_tstamp_precision(pcap_t *p)",
    ["ptr"],
    "i32",
    opt("libpcap 1.5"),
  ),
  pcap_set_protocol_linux: fn(
    "int pcap_set_protocol_linux(pcap_t *p, int protocol)",
    ["ptr", "i32"],
    "i32",
    opt("libpcap 1.9 on Linux"),
  ),
  pcap_open_live: fn(
    "pcap_t *pcap_open_live(const char *device, int snaplen, int promisc, int to_ms, char *errbuf)",
    ["buffer", "i32", "i32", "i32", "buffer"],
    "ptr",
  ),
  pcap_open_dead: fn(
    "pcap_t *pcap_open_dead(int linktype, int snaplen)",
    ["i32", "i32"],
    "ptr",
    opt("libpcap 0.6"),
  ),
  pcap_open_dead_with_tstamp_precision: fn(
    "pcap_t *pcap_open_dead_with_tstamp_precision(int linktype, int snaplen, u_int precision)",
    ["i32", "i32", "u32"],
    "ptr",
    opt("libpcap 1.5"),
  ),
  pcap_open_offline: fn(
    "pcap_t *pcap_open_offline(const char *fname, char *errbuf)",
    ["buffer", "buffer"],
    "ptr",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_open_offline_with_tstamp_precision: fn(
    "pcap_t *pcap_open_offline_with_tstamp_precision(const char *fname, u_int precision, char *errbuf)",
    ["buffer", "u32", "buffer"],
    "ptr",
    opt("libpcap 1.5"),
  ),
  pcap_fopen_offline_with_tstamp_precision: fn(
    "pcap_t *pcap_fopen_offline_with_tstamp_precision(FILE *fp, u_int precision, char *errbuf)",
    ["ptr", "u32", "buffer"],
    "ptr",
    opt("libpcap 1.5"),
  ),
  pcap_close: fn("void pcap_close(pcap_t *p)", ["ptr"], "void"),

  // --- reading ---
  pcap_next_ex: fn(
    "int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **pkt_header, const u_char **pkt_data)",
    ["ptr", "buffer", "buffer"],
    "i32",
  ),
  pcap_dispatch: fn(
    "int pcap_dispatch(pcap_t *p, int cnt, pcap_handler callback, u_char *user)",
    ["ptr", "i32", "function", "ptr"],
    "i32",
  ),
  pcap_loop: fn(
    "int pcap_loop(pcap_t *p, int cnt, pcap_handler callback, u_char *user)",
    ["ptr", "i32", "function", "ptr"],
    "i32",
  ),
  pcap_breakloop: fn("void pcap_breakloop(pcap_t *p)", ["ptr"], "void"),
  pcap_setnonblock: fn("int pcap_setnonblock(pcap_t *p, int nonblock, char *errbuf)", [
    "ptr",
    "i32",
    "buffer",
  ], "i32"),
  pcap_getnonblock: fn("int pcap_getnonblock(pcap_t *p, char *errbuf)", ["ptr", "buffer"], "i32"),
  pcap_get_selectable_fd: fn(
    "int pcap_get_selectable_fd(pcap_t *p)",
    ["ptr"],
    "i32",
    opt("libpcap on UNIX"),
  ),
  pcap_get_required_select_timeout: fn(
    "const struct timeval *pcap_get_required_select_timeout(pcap_t *p)",
    ["ptr"],
    "ptr",
    opt("libpcap 1.9 on UNIX"),
  ),
  pcap_fileno: fn(
    "int pcap_fileno(pcap_t *p)",
    ["ptr"],
    "i32",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),

  // --- filters ---
  pcap_compile: fn(
    "int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, bpf_u_int32 netmask)",
    ["ptr", "buffer", "buffer", "i32", "u32"],
    "i32",
  ),
  pcap_setfilter: fn(
    "int pcap_setfilter(pcap_t *p, struct bpf_program *fp)",
    ["ptr", "buffer"],
    "i32",
  ),
  pcap_freecode: fn("void pcap_freecode(struct bpf_program *fp)", ["buffer"], "void"),
  bpf_image: fn(
    "char *bpf_image(const struct bpf_insn *p, int n)",
    ["usize", "i32"],
    "ptr",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_offline_filter: fn(
    "int pcap_offline_filter(const struct bpf_program *fp, const struct pcap_pkthdr *h, const u_char *pkt)",
    ["buffer", "buffer", "buffer"],
    "i32",
    opt("libpcap 1.0"),
  ),

  // --- savefiles through libpcap ---
  pcap_dump_open: fn("pcap_dumper_t *pcap_dump_open(pcap_t *p, const char *fname)", [
    "ptr",
    "buffer",
  ], "ptr"),
  pcap_dump_open_append: fn(
    "pcap_dumper_t *pcap_dump_open_append(pcap_t *p, const char *fname)",
    ["ptr", "buffer"],
    "ptr",
    opt("libpcap 1.7"),
  ),
  pcap_dump_fopen: fn(
    "pcap_dumper_t *pcap_dump_fopen(pcap_t *p, FILE *fp)",
    ["ptr", "ptr"],
    "ptr",
    opt("libpcap on UNIX"),
  ),
  pcap_dump: fn("void pcap_dump(u_char *user, const struct pcap_pkthdr *h, const u_char *sp)", [
    "ptr",
    "buffer",
    "buffer",
  ], "void"),
  pcap_dump_flush: fn(
    "int pcap_dump_flush(pcap_dumper_t *p)",
    ["ptr"],
    "i32",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_dump_ftell: fn(
    "long pcap_dump_ftell(pcap_dumper_t *p)",
    ["ptr"],
    "long",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_dump_ftell64: fn(
    "int64_t pcap_dump_ftell64(pcap_dumper_t *p)",
    ["ptr"],
    "i64",
    opt("libpcap 1.9"),
  ),
  pcap_dump_close: fn(
    "void pcap_dump_close(pcap_dumper_t *p)",
    ["ptr"],
    "void",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_dump_file: fn(
    "FILE *pcap_dump_file(pcap_dumper_t *p)",
    ["ptr"],
    "ptr",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_file: fn(
    "FILE *pcap_file(pcap_t *p)",
    ["ptr"],
    "ptr",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),

  // --- sending ---
  pcap_inject: fn(
    "int pcap_inject(pcap_t *p, const void *buf, size_t size)",
    ["ptr", "buffer", "usize"],
    "i32",
    opt("libpcap 0.9"),
  ),
  pcap_sendpacket: fn("int pcap_sendpacket(pcap_t *p, const u_char *buf, int size)", [
    "ptr",
    "buffer",
    "i32",
  ], "i32"),

  // --- handle facts ---
  pcap_stats: fn("int pcap_stats(pcap_t *p, struct pcap_stat *ps)", ["ptr", "buffer"], "i32"),
  pcap_datalink: fn("int pcap_datalink(pcap_t *p)", ["ptr"], "i32"),
  pcap_datalink_ext: fn("int pcap_datalink_ext(pcap_t *p)", ["ptr"], "i32", opt("libpcap 1.0")),
  pcap_list_datalinks: fn(
    "int pcap_list_datalinks(pcap_t *p, int **dlt_buf)",
    ["ptr", "buffer"],
    "i32",
  ),
  pcap_free_datalinks: fn(
    "void pcap_free_datalinks(int *dlt_list)",
    ["ptr"],
    "void",
    opt("libpcap 0.9.8"),
  ),
  pcap_set_datalink: fn("int pcap_set_datalink(pcap_t *p, int dlt)", ["ptr", "i32"], "i32"),
  pcap_datalink_name_to_val: fn(
    "int pcap_datalink_name_to_val(const char *name)",
    ["buffer"],
    "i32",
  ),
  pcap_datalink_val_to_name: fn("const char *pcap_datalink_val_to_name(int dlt)", ["i32"], "ptr"),
  pcap_datalink_val_to_description: fn("const char *pcap_datalink_val_to_description(int dlt)", [
    "i32",
  ], "ptr"),
  pcap_setdirection: fn(
    "int pcap_setdirection(pcap_t *p, pcap_direction_t d)",
    ["ptr", "i32"],
    "i32",
    opt("libpcap 0.9"),
  ),
  pcap_snapshot: fn("int pcap_snapshot(pcap_t *p)", ["ptr"], "i32"),
  pcap_is_swapped: fn(
    "int pcap_is_swapped(pcap_t *p)",
    ["ptr"],
    "i32",
    opt("libpcap (a stub in Wine's built-in wpcap.dll)"),
  ),
  pcap_major_version: fn("int pcap_major_version(pcap_t *p)", ["ptr"], "i32"),
  pcap_minor_version: fn("int pcap_minor_version(pcap_t *p)", ["ptr"], "i32"),

  // --- WinPcap / Npcap / remote-capture extensions ---
  pcap_open: fn(
    "pcap_t *pcap_open(const char *source, int snaplen, int flags, int read_timeout, struct pcap_rmtauth *auth, char *errbuf)",
    ["buffer", "i32", "i32", "i32", "ptr", "buffer"],
    "ptr",
    opt("WinPcap, Npcap or libpcap built with remote capture"),
  ),
  pcap_findalldevs_ex: fn(
    "int pcap_findalldevs_ex(const char *source, struct pcap_rmtauth *auth, pcap_if_t **alldevs, char *errbuf)",
    ["buffer", "ptr", "buffer", "buffer"],
    "i32",
    opt("WinPcap, Npcap or libpcap built with remote capture"),
  ),
  pcap_createsrcstr: fn(
    "int pcap_createsrcstr(char *source, int type, const char *host, const char *port, const char *name, char *errbuf)",
    ["buffer", "i32", "ptr", "ptr", "ptr", "buffer"],
    "i32",
    opt("WinPcap, Npcap or libpcap built with remote capture"),
  ),
  pcap_parsesrcstr: fn(
    "int pcap_parsesrcstr(const char *source, int *type, char *host, char *port, char *name, char *errbuf)",
    ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    "i32",
    opt("WinPcap, Npcap or libpcap built with remote capture"),
  ),
  pcap_setsampling: fn(
    "struct pcap_samp *pcap_setsampling(pcap_t *p)",
    ["ptr"],
    "ptr",
    opt("WinPcap, Npcap or remote-capture libpcap"),
  ),
  pcap_setbuff: fn(
    "int pcap_setbuff(pcap_t *p, int dim)",
    ["ptr", "i32"],
    "i32",
    opt("WinPcap or Npcap"),
  ),
  pcap_setmode: fn(
    "int pcap_setmode(pcap_t *p, int mode)",
    ["ptr", "i32"],
    "i32",
    opt("WinPcap or Npcap"),
  ),
  pcap_setmintocopy: fn(
    "int pcap_setmintocopy(pcap_t *p, int size)",
    ["ptr", "i32"],
    "i32",
    opt("WinPcap or Npcap"),
  ),
  pcap_getevent: fn("HANDLE pcap_getevent(pcap_t *p)", ["ptr"], "ptr", opt("WinPcap or Npcap")),
  pcap_sendqueue_alloc: fn(
    "pcap_send_queue *pcap_sendqueue_alloc(u_int memsize)",
    ["u32"],
    "ptr",
    opt("WinPcap or Npcap"),
  ),
  pcap_sendqueue_destroy: fn(
    "void pcap_sendqueue_destroy(pcap_send_queue *queue)",
    ["ptr"],
    "void",
    opt("WinPcap or Npcap"),
  ),
  pcap_sendqueue_queue: fn(
    "int pcap_sendqueue_queue(pcap_send_queue *queue, const struct pcap_pkthdr *pkt_header, const u_char *pkt_data)",
    ["ptr", "buffer", "buffer"],
    "i32",
    opt("WinPcap or Npcap"),
  ),
  pcap_sendqueue_transmit: fn(
    "u_int pcap_sendqueue_transmit(pcap_t *p, pcap_send_queue *queue, int sync)",
    ["ptr", "ptr", "i32"],
    "u32",
    opt("WinPcap or Npcap"),
  ),
  pcap_stats_ex: fn(
    "struct pcap_stat *pcap_stats_ex(pcap_t *p, int *pcap_stat_size)",
    ["ptr", "buffer"],
    "ptr",
    opt("WinPcap or Npcap"),
  ),
  pcap_live_dump: fn(
    "int pcap_live_dump(pcap_t *p, char *filename, int maxsize, int maxpacks)",
    ["ptr", "buffer", "i32", "i32"],
    "i32",
    opt("WinPcap or Npcap"),
  ),
  pcap_live_dump_ended: fn(
    "int pcap_live_dump_ended(pcap_t *p, int sync)",
    ["ptr", "i32"],
    "i32",
    opt("WinPcap or Npcap"),
  ),
} as const satisfies Record<string, SymbolDef>;

/** The C library functions used to move packets without a pointer object per packet. */
export const libcSymbols = {
  memcpy: fn(
    "void *memcpy(void *dest, const void *src, size_t n)",
    ["buffer", "usize", "usize"],
    "void",
  ),
  strlen: fn("size_t strlen(const char *s)", ["usize"], "usize"),
  poll: fn(
    "int poll(struct pollfd *fds, nfds_t nfds, int timeout)",
    ["buffer", "usize", "i32"],
    "i32",
    { optional: true },
  ),
  poll_nonblocking: fn(
    "int poll(struct pollfd *fds, nfds_t nfds, int timeout)",
    ["buffer", "usize", "i32"],
    "i32",
    {
      symbol: "poll",
      nonblocking: true,
      optional: true,
    },
  ),
  pipe: fn("int pipe(int pipefd[2])", ["buffer"], "i32", { optional: true }),
  write: fn(
    "ssize_t write(int fd, const void *buf, size_t count)",
    ["i32", "buffer", "usize"],
    "isize",
    { optional: true },
  ),
  read: fn("ssize_t read(int fd, void *buf, size_t count)", ["i32", "buffer", "usize"], "isize", {
    optional: true,
  }),
  close: fn("int close(int fd)", ["i32"], "i32", { optional: true }),
  open_memstream: fn(
    "FILE *open_memstream(char **ptr, size_t *sizeloc)",
    ["buffer", "buffer"],
    "ptr",
    { optional: true },
  ),
  fopen: fn("FILE *fopen(const char *pathname, const char *mode)", ["buffer", "buffer"], "ptr", {
    optional: true,
  }),
  __fsetlocking: fn("int __fsetlocking(FILE *stream, int type)", ["ptr", "i32"], "i32", {
    optional: true,
  }),
  fflush: fn("int fflush(FILE *stream)", ["ptr"], "i32"),
  fseek: fn("int fseek(FILE *stream, long offset, int whence)", ["ptr", "long", "i32"], "i32"),
  fclose: fn("int fclose(FILE *stream)", ["ptr"], "i32"),
  free: fn("void free(void *ptr)", ["ptr"], "void"),
  malloc: fn("void *malloc(size_t size)", ["usize"], "ptr", { optional: true }),
  setvbuf: fn(
    "int setvbuf(FILE *stream, char *buf, int mode, size_t size)",
    ["ptr", "ptr", "i32", "usize"],
    "i32",
    { optional: true },
  ),
  sendmmsg: fn(
    "int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags)",
    ["i32", "buffer", "u32", "i32"],
    "i32",
    { optional: true },
  ),
  socket: fn("int socket(int domain, int type, int protocol)", ["i32", "i32", "i32"], "i32", {
    optional: true,
  }),
  setsockopt: fn(
    "int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen)",
    ["i32", "i32", "i32", "buffer", "u32"],
    "i32",
    { optional: true },
  ),
  getsockopt: fn(
    "int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen)",
    ["i32", "i32", "i32", "buffer", "buffer"],
    "i32",
    { optional: true },
  ),
  bind: fn(
    "int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen)",
    ["i32", "buffer", "u32"],
    "i32",
    { optional: true },
  ),
  mmap: fn(
    "void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)",
    ["usize", "usize", "i32", "i32", "i32", "i64"],
    "usize",
    { optional: true },
  ),
  munmap: fn("int munmap(void *addr, size_t length)", ["usize", "usize"], "i32", {
    optional: true,
  }),
  // Called only as syscall(SYS_bpf, int cmd, union bpf_attr *attr, unsigned int size) on
  // 64-bit Linux, where a variadic call passes these integer arguments as a plain one does.
  syscall: fn(
    "long syscall(long number, ...)",
    ["i64", "i64", "buffer", "i64"],
    "i64",
    { optional: true },
  ),
  if_nametoindex: fn("unsigned int if_nametoindex(const char *ifname)", ["buffer"], "u32", {
    optional: true,
  }),
  dlopen: fn("void *dlopen(const char *filename, int flags)", ["buffer", "i32"], "ptr", {
    optional: true,
  }),
  dlsym: fn("void *dlsym(void *handle, const char *symbol)", ["ptr", "buffer"], "usize", {
    optional: true,
  }),
} as const satisfies Record<string, SymbolDef>;

/** The libpcap table's type. */
export type PcapSymbols = typeof pcapSymbols;
/** The C library table's type. */
export type LibcSymbols = typeof libcSymbols;
