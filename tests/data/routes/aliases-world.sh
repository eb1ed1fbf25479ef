ip netns add r
ip -n r link add va type veth peer name vb
ip -n r link add vz type veth peer name vy
ip -n r addr add 10.9.0.1/24 dev va
ip -n r addr add 10.9.0.2/24 dev vz
ip -n r link set vz up
ip -n r link set vy up
ip -n r link set va up
ip -n r link set vb up
ip -n r link set lo up
ip -n r route add 10.8.0.0/24 dev va
ip -n r route prepend 10.9.0.0/24 via 10.9.0.3 metric 0
ip -n r route append 10.9.0.0/24 dev va metric 0 proto static
ip -n r route append 10.8.0.0/24 dev vz
ip -n r route prepend 10.8.0.0/24 via 10.9.0.7 dev va
ip -n r route append default via 10.9.0.9
ip -n r route append default via 10.9.0.8
ip -n r route get 10.9.0.5
ip -n r route get 10.8.0.5
ip -n r route get 1.1.1.1
