//! Free loopback ports for parallel tests, and a check that a port is really
//! served by our own server.
//!
//! A port is picked by binding `127.0.0.1:0` and closing the socket again
//! before the server binds it. Within one process a registry makes sure no
//! two live servers are handed the same port. Across processes (nextest runs
//! every test in its own) nothing can reserve a port, so another process may
//! take it in between: the server then fails with "Address already in use"
//! and [`crate::daemon`] retries on new ports, and [`listened_by`] makes sure
//! a readiness probe that got an answer got it from *our* server and not
//! from whoever won the race.

use std::collections::BTreeSet;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use nix::unistd::Pid;

use crate::error::{Error, Result};

/// Ports handed to servers of this process that are still alive.
static IN_USE: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Ports reserved for one server, released when dropped.
#[derive(Debug)]
pub(crate) struct Ports(Vec<u16>);

impl Ports {
    /// Reserves `count` free ports; `consecutive` ones when the server
    /// derives ports from the first (OpenBao listens on port + 1 for its
    /// cluster traffic).
    pub(crate) fn reserve(count: usize, consecutive: bool) -> Result<Ports> {
        // Held while probing: a poisoned lock only means another thread
        // panicked in between, and the set itself is always consistent.
        let mut in_use = IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..200 {
            let Some(ports) = probe(count, consecutive) else {
                continue;
            };
            if ports.iter().all(|p| !in_use.contains(p)) {
                in_use.extend(ports.iter().copied());
                return Ok(Ports(ports));
            }
        }
        Err(Error::Io {
            context: format!("finding {count} free loopback port(s)"),
            source: std::io::Error::from(std::io::ErrorKind::AddrNotAvailable),
        })
    }

    pub(crate) fn get(&self, i: usize) -> u16 {
        self.0[i]
    }

    pub(crate) fn as_slice(&self) -> &[u16] {
        &self.0
    }
}

impl Drop for Ports {
    fn drop(&mut self) {
        let mut in_use = IN_USE.lock().unwrap_or_else(PoisonError::into_inner);
        for port in &self.0 {
            in_use.remove(port);
        }
    }
}

/// Asks the kernel for ports: all listeners are held open at once so that it
/// hands out distinct ones.
fn probe(count: usize, consecutive: bool) -> Option<Vec<u16>> {
    let bind = |port: u16| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    let first = bind(0).ok()?;
    let base = first.local_addr().ok()?.port();
    let mut held = vec![first];
    let mut ports = vec![base];
    for i in 1..count {
        let listener =
            if consecutive { bind(base.checked_add(u16::try_from(i).ok()?)?).ok()? } else { bind(0).ok()? };
        ports.push(listener.local_addr().ok()?.port());
        held.push(listener);
    }
    Some(ports)
}

/// True if something accepts TCP connections on `127.0.0.1:port`.
pub(crate) fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// True when every one of `ports` is listened on (on loopback or any
/// address) by one of `pids`.
pub(crate) fn listened_by(ports: &[u16], pids: &[Pid]) -> bool {
    let Ok(table) = fs::read_to_string("/proc/net/tcp") else {
        // No procfs: trust the probe.
        return true;
    };
    let inodes = listening_inodes(&table);
    let ours: BTreeSet<u64> = pids.iter().flat_map(|pid| socket_inodes(*pid)).collect();
    ports.iter().all(|port| inodes.iter().any(|(p, inode)| p == port && ours.contains(inode)))
}

/// (port, socket inode) of every listening IPv4 TCP socket. Lines look like
/// `0: 0100007F:1F90 00000000:0000 0A ... uid timeout inode ...`, `0A`
/// being LISTEN.
fn listening_inodes(table: &str) -> Vec<(u16, u64)> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) != Some(&"0A") {
                return None;
            }
            let port = u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()?;
            let inode = fields.get(9)?.parse().ok()?;
            Some((port, inode))
        })
        .collect()
}

/// Inodes of the sockets a process has open (`/proc/PID/fd/N -> socket:[INODE]`).
fn socket_inodes(pid: Pid) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let target = fs::read_link(entry.path()).ok()?;
            let target = target.to_str()?;
            target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_are_distinct_and_released() {
        let a = Ports::reserve(2, false).unwrap();
        let b = Ports::reserve(2, true).unwrap();
        assert_eq!(b.get(1), b.get(0) + 1);
        let all: BTreeSet<u16> = a.as_slice().iter().chain(b.as_slice()).copied().collect();
        assert_eq!(all.len(), 4);
        let kept = a.get(0);
        drop(a);
        assert!(!IN_USE.lock().unwrap().contains(&kept));
    }

    #[test]
    fn listening_sockets_are_attributed_to_their_process() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = Pid::this();
        assert!(listened_by(&[port], &[me]));
        assert!(!listened_by(&[port], &[Pid::from_raw(1)]));
        drop(listener);
        assert!(!listened_by(&[port], &[me]));
    }

    #[test]
    fn parses_proc_net_tcp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1F91 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(listening_inodes(table), vec![(8080, 12345)]);
    }
}
