/**
 * Every C struct this package reads or writes, declared once with the layout
 * engine, per ABI. The C spelling of each is in the comment above it.
 *
 * @module
 */

import { type Abi, type AbiName, defineStruct, hostAbi, resolveAbi } from "./layout.ts";

// The exact layout types are inferred from the declarations below (internal module, not
// part of the published API surface).
// deno-lint-ignore explicit-function-return-type
function declare(abi: Abi) {
  const linux = abi.os === "linux";
  const darwin = abi.os === "darwin";
  const o = { abi } as const;

  // struct timeval { time_t tv_sec; suseconds_t tv_usec; }
  // (Windows: long, long; macOS: __darwin_time_t, __darwin_suseconds_t = int32)
  const timeval = defineStruct(
    [["tv_sec", "long"], ["tv_usec", darwin ? "i32" : "long"]] as const,
    { ...o, name: "timeval" },
  );

  // struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }
  const pcap_pkthdr = defineStruct(
    [["ts", timeval], ["caplen", "u32"], ["len", "u32"]] as const,
    { ...o, name: "pcap_pkthdr" },
  );

  // struct pcap_if { struct pcap_if *next; char *name; char *description;
  //                  struct pcap_addr *addresses; bpf_u_int32 flags; }
  const pcap_if = defineStruct(
    [["next", "ptr"], ["name", "ptr"], ["description", "ptr"], ["addresses", "ptr"], [
      "flags",
      "u32",
    ]] as const,
    { ...o, name: "pcap_if" },
  );

  // struct pcap_addr { struct pcap_addr *next; struct sockaddr *addr, *netmask,
  //                    *broadaddr, *dstaddr; }
  const pcap_addr = defineStruct(
    [["next", "ptr"], ["addr", "ptr"], ["netmask", "ptr"], ["broadaddr", "ptr"], [
      "dstaddr",
      "ptr",
    ]] as const,
    { ...o, name: "pcap_addr" },
  );

  // BSD: struct sockaddr { uint8_t sa_len; sa_family_t sa_family; char sa_data[14]; }
  // else: struct sockaddr { sa_family_t sa_family (u16); char sa_data[14]; }
  const fam = <P extends string>(p: P) =>
    abi.sockaddrHasLen
      ? ([[`${p}_len`, "u8"], [`${p}_family`, "u8"]] as const)
      : ([[`${p}_family`, "u16"]] as const);
  const sockaddr = defineStruct(
    [...fam("sa"), ["sa_data", { of: "u8", count: 14 }]] as const,
    { ...o, name: "sockaddr" },
  );

  // struct sockaddr_in { [sin_len;] sa_family_t sin_family; in_port_t sin_port;
  //                      struct in_addr sin_addr; char sin_zero[8]; }
  const sockaddr_in = defineStruct(
    [...fam("sin"), ["sin_port", "u16"], ["sin_addr", "u32"], [
      "sin_zero",
      { of: "u8", count: 8 },
    ]] as const,
    { ...o, name: "sockaddr_in" },
  );

  // struct sockaddr_in6 { [sin6_len;] sa_family_t sin6_family; in_port_t sin6_port;
  //   uint32_t sin6_flowinfo; struct in6_addr sin6_addr; uint32_t sin6_scope_id; }
  const sockaddr_in6 = defineStruct(
    [
      ...fam("sin6"),
      ["sin6_port", "u16"],
      ["sin6_flowinfo", "u32"],
      ["sin6_addr", { of: "u8", count: 16 }],
      ["sin6_scope_id", "u32"],
    ] as const,
    { ...o, name: "sockaddr_in6" },
  );

  // Linux: struct sockaddr_ll { unsigned short sll_family; __be16 sll_protocol;
  //   int sll_ifindex; unsigned short sll_hatype; unsigned char sll_pkttype;
  //   unsigned char sll_halen; unsigned char sll_addr[8]; }
  const sockaddr_ll = defineStruct(
    [
      ["sll_family", "u16"],
      ["sll_protocol", "u16"],
      ["sll_ifindex", "i32"],
      ["sll_hatype", "u16"],
      ["sll_pkttype", "u8"],
      ["sll_halen", "u8"],
      ["sll_addr", { of: "u8", count: 8 }],
    ] as const,
    { ...o, name: "sockaddr_ll" },
  );

  // BSD: struct sockaddr_dl { u_char sdl_len; u_char sdl_family; u_short sdl_index;
  //   u_char sdl_type; u_char sdl_nlen; u_char sdl_alen; u_char sdl_slen; char sdl_data[12]; }
  const sockaddr_dl = defineStruct(
    [
      ["sdl_len", "u8"],
      ["sdl_family", "u8"],
      ["sdl_index", "u16"],
      ["sdl_type", "u8"],
      ["sdl_nlen", "u8"],
      ["sdl_alen", "u8"],
      ["sdl_slen", "u8"],
      ["sdl_data", { of: "u8", count: 12 }],
    ] as const,
    { ...o, name: "sockaddr_dl" },
  );

  // struct bpf_insn { u_short code; u_char jt; u_char jf; bpf_u_int32 k; }
  const bpf_insn = defineStruct(
    [["code", "u16"], ["jt", "u8"], ["jf", "u8"], ["k", "u32"]] as const,
    { ...o, name: "bpf_insn" },
  );

  // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
  const bpf_program = defineStruct(
    [["bf_len", "u32"], ["bf_insns", "ptr"]] as const,
    { ...o, name: "bpf_program" },
  );

  // struct pcap_stat { u_int ps_recv; u_int ps_drop; u_int ps_ifdrop;
  //   #ifdef _WIN32  u_int ps_capt; u_int ps_sent; u_int ps_netdrop; #endif }
  const pcap_stat = defineStruct(
    abi.os === "windows"
      ? ([
        ["ps_recv", "u32"],
        ["ps_drop", "u32"],
        ["ps_ifdrop", "u32"],
        ["ps_capt", "u32"],
        ["ps_sent", "u32"],
        ["ps_netdrop", "u32"],
      ] as const)
      : ([["ps_recv", "u32"], ["ps_drop", "u32"], ["ps_ifdrop", "u32"]] as const),
    { ...o, name: "pcap_stat" },
  );

  // struct pcap_rmtauth { int type; char *username; char *password; }
  const pcap_rmtauth = defineStruct(
    [["type", "i32"], ["username", "ptr"], ["password", "ptr"]] as const,
    { ...o, name: "pcap_rmtauth" },
  );

  // struct pcap_send_queue { u_int maxlen; u_int len; char *buffer; }
  const pcap_send_queue = defineStruct(
    [["maxlen", "u32"], ["len", "u32"], ["buffer", "ptr"]] as const,
    { ...o, name: "pcap_send_queue" },
  );

  // The record header pcap_dump() writes (libpcap's struct pcap_sf_pkthdr, host order):
  // struct pcap_sf_pkthdr { struct pcap_timeval { bpf_int32 tv_sec; bpf_int32 tv_usec; } ts;
  //                         bpf_u_int32 caplen; bpf_u_int32 len; }
  const pcap_sf_pkthdr = defineStruct(
    [["tv_sec", "i32"], ["tv_usec", "i32"], ["caplen", "u32"], ["len", "u32"]] as const,
    { ...o, name: "pcap_sf_pkthdr" },
  );

  // struct iovec { void *iov_base; size_t iov_len; }
  const iovec = defineStruct(
    [["iov_base", "ptr"], ["iov_len", "size_t"]] as const,
    { ...o, name: "iovec" },
  );

  // Linux (glibc): struct msghdr { void *msg_name; socklen_t msg_namelen; struct iovec *msg_iov;
  //   size_t msg_iovlen; void *msg_control; size_t msg_controllen; int msg_flags; }
  const msghdr = defineStruct(
    [
      ["msg_name", "ptr"],
      ["msg_namelen", "u32"],
      ["msg_iov", "ptr"],
      ["msg_iovlen", "size_t"],
      ["msg_control", "ptr"],
      ["msg_controllen", "size_t"],
      ["msg_flags", "i32"],
    ] as const,
    { ...o, name: "msghdr" },
  );

  // Linux: struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; }
  const mmsghdr = defineStruct(
    [["msg_hdr", msghdr], ["msg_len", "u32"]] as const,
    { ...o, name: "mmsghdr" },
  );

  // Linux (linux/filter.h): struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  // (struct sock_filter is laid out as struct bpf_insn).
  const sock_fprog = defineStruct(
    [["len", "u16"], ["filter", "ptr"]] as const,
    { ...o, name: "sock_fprog" },
  );

  // Linux (linux/if_packet.h): struct packet_mreq { int mr_ifindex; unsigned short mr_type;
  //   unsigned short mr_alen; unsigned char mr_address[8]; }
  const packet_mreq = defineStruct(
    [
      ["mr_ifindex", "i32"],
      ["mr_type", "u16"],
      ["mr_alen", "u16"],
      ["mr_address", { of: "u8", count: 8 }],
    ] as const,
    { ...o, name: "packet_mreq" },
  );

  // Linux: struct tpacket_req3 { unsigned int tp_block_size, tp_block_nr, tp_frame_size,
  //   tp_frame_nr, tp_retire_blk_tov, tp_sizeof_priv, tp_feature_req_word; }
  const tpacket_req3 = defineStruct(
    [
      ["tp_block_size", "u32"],
      ["tp_block_nr", "u32"],
      ["tp_frame_size", "u32"],
      ["tp_frame_nr", "u32"],
      ["tp_retire_blk_tov", "u32"],
      ["tp_sizeof_priv", "u32"],
      ["tp_feature_req_word", "u32"],
    ] as const,
    { ...o, name: "tpacket_req3" },
  );

  // Linux: struct tpacket_bd_ts { unsigned int ts_sec; unsigned int ts_usec (or ts_nsec); }
  const tpacket_bd_ts = defineStruct(
    [["ts_sec", "u32"], ["ts_nsec", "u32"]] as const,
    { ...o, name: "tpacket_bd_ts" },
  );

  // Linux: struct tpacket_hdr_v1 { __u32 block_status; __u32 num_pkts;
  //   __u32 offset_to_first_pkt; __u32 blk_len; __aligned_u64 seq_num;
  //   struct tpacket_bd_ts ts_first_pkt, ts_last_pkt; }
  // (__aligned_u64 is 8-aligned on every ABI; declared as u64, only its alignment on
  // linux-ia32 differs, not an offset or the size.)
  const tpacket_hdr_v1 = defineStruct(
    [
      ["block_status", "u32"],
      ["num_pkts", "u32"],
      ["offset_to_first_pkt", "u32"],
      ["blk_len", "u32"],
      ["seq_num", "u64"],
      ["ts_first_pkt", tpacket_bd_ts],
      ["ts_last_pkt", tpacket_bd_ts],
    ] as const,
    { ...o, name: "tpacket_hdr_v1" },
  );

  // Linux: struct tpacket_block_desc { __u32 version; __u32 offset_to_priv;
  //   union tpacket_bd_header_u { struct tpacket_hdr_v1 bh1; } hdr; } (the union as its member)
  const tpacket_block_desc = defineStruct(
    [["version", "u32"], ["offset_to_priv", "u32"], ["hdr", tpacket_hdr_v1]] as const,
    { ...o, name: "tpacket_block_desc" },
  );

  // Linux: struct tpacket_hdr_variant1 { __u32 tp_rxhash; __u32 tp_vlan_tci;
  //   __u16 tp_vlan_tpid; __u16 tp_padding; }
  const tpacket_hdr_variant1 = defineStruct(
    [["tp_rxhash", "u32"], ["tp_vlan_tci", "u32"], ["tp_vlan_tpid", "u16"], [
      "tp_padding",
      "u16",
    ]] as const,
    { ...o, name: "tpacket_hdr_variant1" },
  );

  // Linux: struct tpacket3_hdr { __u32 tp_next_offset; __u32 tp_sec; __u32 tp_nsec;
  //   __u32 tp_snaplen; __u32 tp_len; __u32 tp_status; __u16 tp_mac; __u16 tp_net;
  //   union { struct tpacket_hdr_variant1 hv1; }; __u8 tp_padding[8]; }
  const tpacket3_hdr = defineStruct(
    [
      ["tp_next_offset", "u32"],
      ["tp_sec", "u32"],
      ["tp_nsec", "u32"],
      ["tp_snaplen", "u32"],
      ["tp_len", "u32"],
      ["tp_status", "u32"],
      ["tp_mac", "u16"],
      ["tp_net", "u16"],
      ["hv1", tpacket_hdr_variant1],
      ["tp_padding", { of: "u8", count: 8 }],
    ] as const,
    { ...o, name: "tpacket3_hdr" },
  );

  // POSIX (poll.h): struct pollfd { int fd; short events; short revents; }
  const pollfd = defineStruct(
    [["fd", "i32"], ["events", "i16"], ["revents", "i16"]] as const,
    { ...o, name: "pollfd" },
  );

  // Linux (linux/bpf.h): struct bpf_insn { __u8 code; __u8 dst_reg:4; __u8 src_reg:4;
  //   __s16 off; __s32 imm; } (an eBPF instruction; the two register numbers share a byte,
  //   dst_reg in its low bits on little-endian machines)
  const ebpf_insn = defineStruct(
    [["code", "u8"], ["regs", "u8"], ["off", "i16"], ["imm", "i32"]] as const,
    { ...o, name: "ebpf_insn" },
  );

  // Linux (linux/bpf.h): the leading fields of struct __sk_buff { __u32 len, pkt_type, mark,
  //   queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto, priority, ingress_ifindex,
  //   ifindex, tc_index, cb[5], hash; … }: the socket buffer as an eBPF socket filter reads it
  const __sk_buff = defineStruct(
    [
      ["len", "u32"],
      ["pkt_type", "u32"],
      ["mark", "u32"],
      ["queue_mapping", "u32"],
      ["protocol", "u32"],
      ["vlan_present", "u32"],
      ["vlan_tci", "u32"],
      ["vlan_proto", "u32"],
      ["priority", "u32"],
      ["ingress_ifindex", "u32"],
      ["ifindex", "u32"],
      ["tc_index", "u32"],
      ["cb", { of: "u32", count: 5 }],
      ["hash", "u32"],
    ] as const,
    { ...o, name: "__sk_buff" },
  );

  // The value of the statistics engine's BPF map (this package's own): { __u64 packets, bytes; },
  // added to by its eBPF program, read by user space.
  const bpf_counters = defineStruct(
    [["packets", "u64"], ["bytes", "u64"]] as const,
    { ...o, name: "bpf_counters" },
  );

  // Linux (linux/bpf.h): the members of union bpf_attr that the commands used here read.
  // Each __aligned_u64 is declared as u64 after explicit padding, so that the offsets hold on
  // every ABI. BPF_MAP_CREATE: { __u32 map_type, key_size, value_size, max_entries, map_flags; }
  const bpf_attr_map_create = defineStruct(
    [
      ["map_type", "u32"],
      ["key_size", "u32"],
      ["value_size", "u32"],
      ["max_entries", "u32"],
      ["map_flags", "u32"],
    ] as const,
    { ...o, name: "bpf_attr_map_create" },
  );

  // BPF_MAP_*_ELEM: { __u32 map_fd; __aligned_u64 key; __aligned_u64 value; __u64 flags; }
  const bpf_attr_map_elem = defineStruct(
    [["map_fd", "u32"], ["pad0", "u32"], ["key", "u64"], ["value", "u64"], [
      "flags",
      "u64",
    ]] as const,
    { ...o, name: "bpf_attr_map_elem" },
  );

  // BPF_PROG_LOAD: { __u32 prog_type, insn_cnt; __aligned_u64 insns, license;
  //   __u32 log_level, log_size; __aligned_u64 log_buf; __u32 kern_version, prog_flags; … }
  const bpf_attr_prog_load = defineStruct(
    [
      ["prog_type", "u32"],
      ["insn_cnt", "u32"],
      ["insns", "u64"],
      ["license", "u64"],
      ["log_level", "u32"],
      ["log_size", "u32"],
      ["log_buf", "u64"],
      ["kern_version", "u32"],
      ["prog_flags", "u32"],
    ] as const,
    { ...o, name: "bpf_attr_prog_load" },
  );

  // BPF_PROG_TEST_RUN: { __u32 prog_fd, retval, data_size_in, data_size_out;
  //   __aligned_u64 data_in, data_out; __u32 repeat, duration; … }
  const bpf_attr_test_run = defineStruct(
    [
      ["prog_fd", "u32"],
      ["retval", "u32"],
      ["data_size_in", "u32"],
      ["data_size_out", "u32"],
      ["data_in", "u64"],
      ["data_out", "u64"],
      ["repeat", "u32"],
      ["duration", "u32"],
    ] as const,
    { ...o, name: "bpf_attr_test_run" },
  );

  return {
    timeval,
    pcap_pkthdr,
    pcap_if,
    pcap_addr,
    sockaddr,
    sockaddr_in,
    sockaddr_in6,
    // Only meaningful where the OS has them; declared everywhere so that they can be checked.
    sockaddr_ll,
    sockaddr_dl,
    bpf_insn,
    bpf_program,
    pcap_stat,
    pcap_rmtauth,
    pcap_send_queue,
    pcap_sf_pkthdr,
    iovec,
    msghdr,
    mmsghdr,
    sock_fprog,
    packet_mreq,
    tpacket_req3,
    tpacket_bd_ts,
    tpacket_hdr_v1,
    tpacket_block_desc,
    tpacket_hdr_variant1,
    tpacket3_hdr,
    pollfd,
    ebpf_insn,
    __sk_buff,
    bpf_counters,
    bpf_attr_map_create,
    bpf_attr_map_elem,
    bpf_attr_prog_load,
    bpf_attr_test_run,
    /** True when `sockaddr_ll` is the link-layer address struct of this OS. */
    hasSockaddrLl: linux,
    /** True when `sockaddr_dl` is the link-layer address struct of this OS. */
    hasSockaddrDl: darwin,
  };
}

/** The struct layouts of one ABI. */
export type PcapStructs = ReturnType<typeof declare>;

const cache = new Map<string, PcapStructs>();

/** Every struct this package uses, laid out for `abi` (default: the host's). */
export function pcapStructs(abi: Abi | AbiName = hostAbi): PcapStructs {
  const a = resolveAbi(abi);
  let s = cache.get(a.name);
  if (!s) {
    s = declare(a);
    cache.set(a.name, s);
  }
  return s;
}

/** The names of the structs in {@link PcapStructs} that are layouts. */
export const structNames = [
  "timeval",
  "pcap_pkthdr",
  "pcap_if",
  "pcap_addr",
  "sockaddr",
  "sockaddr_in",
  "sockaddr_in6",
  "sockaddr_ll",
  "sockaddr_dl",
  "bpf_insn",
  "bpf_program",
  "pcap_stat",
  "pcap_rmtauth",
  "pcap_send_queue",
  "pcap_sf_pkthdr",
  "iovec",
  "msghdr",
  "mmsghdr",
  "sock_fprog",
  "packet_mreq",
  "tpacket_req3",
  "tpacket_bd_ts",
  "tpacket_hdr_v1",
  "tpacket_block_desc",
  "tpacket_hdr_variant1",
  "tpacket3_hdr",
  "pollfd",
  "ebpf_insn",
  "__sk_buff",
  "bpf_counters",
  "bpf_attr_map_create",
  "bpf_attr_map_elem",
  "bpf_attr_prog_load",
  "bpf_attr_test_run",
] as const;
