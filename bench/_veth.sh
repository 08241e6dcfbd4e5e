# Sourced by the bench sections that need two hosts: make_veth_pair TAG creates the network
# namespaces ${TAG}a and ${TAG}b joined by a veth pair (vA in the first, vB in the second), IPv6
# off, links up. The caller removes them (ip netns del) when done.
make_veth_pair() {
  local tag=$1
  ip netns add "${tag}a"
  ip netns add "${tag}b"
  ip link add "${tag}A" type veth peer name "${tag}B"
  ip link set "${tag}A" netns "${tag}a"
  ip link set "${tag}B" netns "${tag}b"
  ip -n "${tag}a" link set "${tag}A" name vA
  ip -n "${tag}b" link set "${tag}B" name vB
  for ns in "${tag}a" "${tag}b"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n "${tag}a" link set vA up
  ip -n "${tag}b" link set vB up
}
