"""The SIP guard's enforcement: an nftables table of its own with two sets of blocked sources.

Each element carries its own timeout, so a block ends on time even if the guard is not running; the
table is per Asterisk instance and drops only packets to that instance's SIP ports, so the demo
platform and the test runs on one machine never block each other's traffic. Needs CAP_NET_ADMIN
(root) and the `nft` tool (Debian package nftables, installed by bin/install-system).
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections.abc import Iterable


class NftError(RuntimeError):
    pass


def table_name(instance: str) -> str:
    return "istra_" + re.sub(r"[^A-Za-z0-9_]", "_", instance)


class NftBlocklist:
    """The table: trusted sources pass; blocked sources are dropped; every other source's SIP
    datagrams are rate-limited (`rate` a second after a `burst`), which bounds how many attempts a
    brute-forcer gets in before the guard, reading the log, blocks it: on loopback a wrong-password
    REGISTER takes 1 ms, far quicker than any log reader."""

    def __init__(
        self,
        instance: str,
        ports: Iterable[int],
        *,
        trusted: Iterable[str] = (),
        rate: int = 0,
        burst: int = 0,
    ) -> None:
        self.table = table_name(instance)
        self.ports = sorted({int(p) for p in ports if p})
        self.trusted = [ipaddress.ip_network(t, strict=False) for t in trusted]
        self.rate, self.burst = rate, max(burst, rate)
        self.nft = shutil.which("nft") or "/usr/sbin/nft"

    def _run(self, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.nft, *args], input=script, capture_output=True, text=True, timeout=10, check=False
            )
        except FileNotFoundError as exc:
            raise NftError("nft not found: install the Debian package nftables (bin/install-system)") from exc

    def _trusted_set(self, version: int) -> str:
        kind = "ipv4_addr" if version == 4 else "ipv6_addr"
        entries = ", ".join(str(n) for n in self.trusted if n.version == version)
        elements = f" elements = {{ {entries} }};" if entries else ""
        return f"set trusted{version} {{ type {kind}; flags interval;{elements} }}"

    def setup(self) -> None:
        """(Re)create the table empty: the guard adds the blocks in force again from the database."""
        ports = ", ".join(str(p) for p in self.ports)
        limit = ""
        if self.rate > 0:
            limit = "\n".join(
                f"    meta l4proto udp update @rate{v} {{ {family} saddr limit rate over {self.rate}/second "
                f"burst {self.burst} packets }} drop"
                for v, family in ((4, "ip"), (6, "ip6"))
            )
        script = f"""
table inet {self.table} {{}}
delete table inet {self.table}
table inet {self.table} {{
  {self._trusted_set(4)}
  {self._trusted_set(6)}
  set blocked4 {{ type ipv4_addr; flags timeout; }}
  set blocked6 {{ type ipv6_addr; flags timeout; }}
  set rate4 {{ type ipv4_addr; flags dynamic,timeout; timeout 1m; }}
  set rate6 {{ type ipv6_addr; flags dynamic,timeout; timeout 1m; }}
  chain input {{
    type filter hook input priority -10; policy accept;
    meta l4proto {{ tcp, udp }} th dport {{ {ports} }} jump sip
  }}
  chain sip {{
    ip saddr @trusted4 accept
    ip6 saddr @trusted6 accept
    ip saddr @blocked4 drop
    ip6 saddr @blocked6 drop
{limit}
  }}
}}
"""
        result = self._run("-f", "-", script=script)
        if result.returncode != 0:
            raise NftError(f"nft refused the guard's table: {result.stderr.strip()}")

    def teardown(self) -> None:
        self._run("delete", "table", "inet", self.table)

    @staticmethod
    def _set_of(address: str) -> str:
        return "blocked4" if ipaddress.ip_address(address).version == 4 else "blocked6"

    def block(self, address: str, seconds: int) -> None:
        """Drop the source's packets for `seconds` (a block already there gets the new end)."""
        seconds = max(1, int(seconds))
        self.unblock(address)
        result = self._run(
            "add", "element", "inet", self.table, self._set_of(address), f"{{ {address} timeout {seconds}s }}"
        )
        if result.returncode != 0:
            raise NftError(f"nft refused to block {address}: {result.stderr.strip()}")

    def unblock(self, address: str) -> None:
        # Deleting an element that is not there (expired) fails harmlessly.
        self._run("delete", "element", "inet", self.table, self._set_of(address), f"{{ {address} }}")

    def blocked(self) -> set[str]:
        """The addresses the table drops now (for the operator and the tests)."""
        found: set[str] = set()
        for name in ("blocked4", "blocked6"):
            result = self._run("list", "set", "inet", self.table, name)
            match = re.search(r"elements = \{(.*?)\}", result.stdout, re.S)
            if match:
                for item in match.group(1).split(","):
                    address = item.strip().split(" ", 1)[0]
                    if address:
                        found.add(address)
        return found
