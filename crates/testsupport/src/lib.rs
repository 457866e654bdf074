//! Real, throwaway database servers for dbfleet's tests: PostgreSQL 15,
//! Redis, ClickHouse 18.16 and OpenBao, each on free loopback ports in its
//! own temp dir.
//!
//! ```no_run
//! use dbfleet_testsupport::PgServer;
//!
//! let pg = PgServer::start()?;
//! assert_eq!(pg.psql("SELECT 1")?, "1");
//! pg.restart()?;
//! # Ok::<(), dbfleet_testsupport::Error>(())
//! ```
//!
//! The API is blocking (`std::process`, `std::net`); call it from async
//! tests with `spawn_blocking` or before the runtime starts.
//!
//! # Missing servers fail, they do not skip
//!
//! If a binary a server needs is not installed, `start` returns
//! [`Error::Missing`] whose hint says to run `scripts/install-deps.sh`. Tests
//! should `.unwrap()`/`?` it and fail: a suite that silently passes without
//! its servers tests nothing.
//!
//! # Parallel tests
//!
//! Servers can be started from many threads and many processes at once
//! (nextest runs each test in its own process). Ports are picked by binding
//! `127.0.0.1:0`; a process-wide registry keeps one process from handing the
//! same port out twice, and when another process takes a port between the
//! pick and the server's bind, the start is retried on new ports. Readiness
//! is only declared once the listening sockets belong to the server's own
//! processes, so a test never talks to another test's server.
//!
//! # Cleanup guarantees
//!
//! - Dropping a server stops it and deletes its temp dir, and returns only
//!   when its processes are gone. This also happens when a test panics,
//!   since drops run while the panic unwinds. No drop here panics (a panic
//!   during unwinding would abort the test binary and skip every other
//!   cleanup), and nothing in this crate aborts. Keep `panic = "unwind"`
//!   (the default) in the test profile.
//! - When the test process dies without unwinding (SIGKILL, abort, a
//!   nextest timeout, `std::process::exit`, or a server kept in a `static`,
//!   which is never dropped), a guard process started with each server
//!   notices, SIGKILLs every process that still runs in the server's dir and
//!   removes the dir. The guard runs in its own process group, so signals
//!   aimed at the test's group do not stop it.
//! - A server's processes are recognized by their working directory, which
//!   lies inside its temp dir, so cleanup never signals anyone else's
//!   process, even through a stale pid file.
//! - Not covered: a SIGKILL of the guard itself together with the test
//!   process (e.g. `kill -9` of every process on the machine), or a reboot.
//!   What is left then lives under `$TMPDIR/dbfleet-*`.

mod bao;
mod clickhouse;
mod daemon;
mod error;
mod http;
mod pg;
mod ports;
mod process;
mod redis;
mod scratch;

pub use bao::BaoServer;
pub use clickhouse::ClickHouseServer;
pub use error::{Error, INSTALL_HINT, Result};
pub use http::HttpResponse;
pub use pg::{PG_BIN_DIR, PgOptions, PgServer};
pub use redis::RedisServer;
