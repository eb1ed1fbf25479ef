"""compare() checks dig/host/nslookup/getent output only: a namespace named ``host`` is not the tool."""

from simnet.conformance.compare import compare


def _report(stdout: str, command: str) -> dict:
    return {"probes": [], "outputs": [{"line": 3, "command": command, "stdout": stdout}]}


def test_a_namespace_named_host_is_not_the_host_tool() -> None:
    cmd = "ip netns exec host sysctl -w net.ipv4.ip_forward=1"
    assert compare(_report("net.ipv4.ip_forward = 1\n", cmd), {"probes": [], "outputs": []}) == []


def test_the_host_tool_in_a_namespace_is_still_compared() -> None:
    cmd = "ip netns exec client host web.example 10.0.0.53"
    diffs = compare(_report("web.example has address 10.0.0.2\n", cmd), {"probes": [], "outputs": []})
    assert len(diffs) == 1 and "line 3" in diffs[0] and "kernel '(end)'" in diffs[0]
