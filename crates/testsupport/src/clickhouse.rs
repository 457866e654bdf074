//! Throwaway ClickHouse 18.16 servers (the only version Debian 12 ships).
//!
//! 18.16 predates much of what newer docs describe: the config root element
//! is `<yandex>` (not `<clickhouse>`), there is no MySQL/PostgreSQL/gRPC/
//! Prometheus port and no `system.server_settings`, and `clickhouse-server`
//! has no `--version`. The server only opens the ports its config names, so
//! the config written here names only `http_port` and `tcp_port`: no
//! `interserver_http_port` (Debian's default config sets 9009), `https_port`
//! or `tcp_port_secure`, any of which would collide between instances.
//!
//! `config.d/*.xml` next to config.xml and `users.d/*.xml` next to users.xml
//! are merged by the server itself; profile changes hot-reload within about a
//! second, `SYSTEM RELOAD CONFIG` forces it, server settings need a restart.

use std::path::{Path, PathBuf};

use crate::daemon::{self, Daemon, Spec};
use crate::error::Result;
use crate::http;
use crate::process::{create_dir, require_executable, trim_newlines, write_file};
use crate::scratch::Scratch;

/// A throwaway ClickHouse server on `127.0.0.1` (HTTP and native TCP
/// ports), stopped and deleted on drop.
pub struct ClickHouseServer {
    daemon: Daemon,
    config_dir: PathBuf,
}

impl ClickHouseServer {
    /// Writes config.xml and users.xml into a temp dir and starts the server
    /// on two free ports.
    pub fn start() -> Result<ClickHouseServer> {
        let server = require_executable("clickhouse-server", &["/usr/sbin".into(), "/usr/bin".into()])?;
        let scratch = Scratch::new("clickhouse", None, "")?;
        let config_dir = scratch.join("etc");
        let data_dir = scratch.join("data");
        let log_dir = scratch.join("log");
        for dir in [&config_dir, &config_dir.join("config.d"), &config_dir.join("users.d"), &data_dir, &log_dir] {
            create_dir(dir)?;
        }
        write_file(&config_dir.join("users.xml"), USERS_XML)?;
        let config_file = config_dir.join("config.xml");
        let log_file = log_dir.join("clickhouse-server.log");
        let err_log_file = log_dir.join("clickhouse-server.err.log");
        let daemon = Daemon::start("clickhouse", scratch, 2, false, |scratch, ports| {
            write_file(
                &config_file,
                &config_xml(ports[0], ports[1], &data_dir, &log_file, &err_log_file, &config_dir),
            )?;
            let pid_file = scratch.join("clickhouse-server.pid");
            Ok(Spec {
                start: vec![
                    server.display().to_string(),
                    format!("--config-file={}", config_file.display()),
                    format!("--pid-file={}", pid_file.display()),
                    "--daemon".into(),
                ],
                // SIGTERM: 18.16 has no shutdown query.
                stop: None,
                restart: None,
                // A graceful stop takes about 1.5 s; the data is thrown away.
                quick_stop: None,
                pid_file,
                logs: vec![err_log_file.clone(), log_file.clone()],
                ready: |ports| {
                    http::request(ports[0], "GET", "/ping", &[], "", std::time::Duration::from_secs(2))
                        .is_ok_and(|r| r.status == 200 && r.body.trim_end() == "Ok.")
                },
            })
        })?;
        Ok(ClickHouseServer { daemon, config_dir })
    }

    /// The HTTP interface's port.
    pub fn http_port(&self) -> u16 {
        self.daemon.port(0)
    }

    /// The native protocol's port (for `clickhouse-client --port`).
    pub fn tcp_port(&self) -> u16 {
        self.daemon.port(1)
    }

    /// `http://127.0.0.1:HTTP_PORT`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port())
    }

    /// The directory holding config.xml, users.xml, config.d/ and users.d/.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// `config.d/`: `*.xml` files here are merged into config.xml.
    pub fn config_d(&self) -> PathBuf {
        self.config_dir.join("config.d")
    }

    /// `users.d/`: `*.xml` files here are merged into users.xml.
    pub fn users_d(&self) -> PathBuf {
        self.config_dir.join("users.d")
    }

    /// The server config (`<yandex>` root).
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.xml")
    }

    /// Users, profiles and quotas.
    pub fn users_file(&self) -> PathBuf {
        self.config_dir.join("users.xml")
    }

    /// Runs `sql` as the `default` user over HTTP and returns the result
    /// (TabSeparated unless the query says `FORMAT …`) without the final
    /// newline. A failing query is [`crate::Error::Http`] with ClickHouse's
    /// message.
    pub fn query(&self, sql: &str) -> Result<String> {
        self.daemon.require_running()?;
        let response = http::request_ok(self.http_port(), "POST", "/", &[], sql)?;
        Ok(trim_newlines(response.body))
    }

    /// Runs `sql` over HTTP as `user` with `password` (given in the URL,
    /// which every version reads), as [`query`](Self::query) does for the
    /// default user.
    pub fn query_as(&self, user: &str, password: &str, sql: &str) -> Result<String> {
        self.daemon.require_running()?;
        let path = format!("/?user={}&password={}", percent_encode(user), percent_encode(password));
        let response = http::request_ok(self.http_port(), "POST", &path, &[], sql)?;
        Ok(trim_newlines(response.body))
    }

    daemon::lifecycle_methods! {
        /// SIGTERM, wait for exit, start again with the same config and ports.
        restart;
        /// SIGTERM and wait for exit (SIGKILL after 30 s).
        stop;
        /// SIGKILLs the server, as a crash would.
        kill;
        /// True while the server process runs.
        is_running;
        /// Starts the server again after [`stop`](Self::stop) or
        /// [`kill`](Self::kill), on the same ports.
        start_again;
        /// An argv (`sh -c '…'`) that stops the server, waits for it to exit and
        /// starts it again with `--daemon`.
        restart_command;
    }
}

impl std::fmt::Debug for ClickHouseServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseServer")
            .field("http_port", &self.http_port())
            .field("tcp_port", &self.tcp_port())
            .field("config_dir", &self.config_dir)
            .finish()
    }
}

fn config_xml(
    http_port: u16,
    tcp_port: u16,
    data_dir: &Path,
    log_file: &Path,
    err_log_file: &Path,
    config_dir: &Path,
) -> String {
    let p = |path: &Path| xml_escape(&path.display().to_string());
    let data = p(data_dir);
    format!(
        r#"<?xml version="1.0"?>
<!-- Written by dbfleet-testsupport. Only the ports named here are opened. -->
<yandex>
    <logger>
        <level>information</level>
        <log>{log}</log>
        <errorlog>{err_log}</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{http_port}</http_port>
    <tcp_port>{tcp_port}</tcp_port>
    <path>{data}/</path>
    <tmp_path>{data}/tmp/</tmp_path>
    <user_files_path>{data}/user_files/</user_files_path>
    <format_schema_path>{data}/format_schemas/</format_schema_path>
    <users_config>{users}</users_config>
    <!-- 18.16 refuses to start without it ("Not found: mark_cache_size"). -->
    <mark_cache_size>1073741824</mark_cache_size>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
</yandex>
"#,
        log = p(log_file),
        err_log = p(err_log_file),
        users = p(&config_dir.join("users.xml")),
    )
}

/// Debian's default users.xml, trimmed: `default` (no password, loopback
/// only) and `readonly` users, `default` and `readonly` profiles, and an
/// unlimited `default` quota.
const USERS_XML: &str = r#"<?xml version="1.0"?>
<!-- Written by dbfleet-testsupport. users.d/*.xml is merged into this. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <readonly>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>readonly</profile>
            <quota>default</quota>
        </readonly>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
"#;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `text` for a URL's query string: unreserved characters as they are,
/// every other byte as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
