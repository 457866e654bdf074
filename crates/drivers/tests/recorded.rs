//! The MongoDB, Elasticsearch, Neo4j and Cassandra drivers against
//! RECORDED protocol exchanges, not against real servers: none of these
//! servers can run on this machine. What these tests prove is that each
//! driver sends the requests the engine documents and reads the documented
//! responses; they do not prove that a real server answers that way.
//!
//! Each recording under `tests/recordings/` names, in its header, the
//! official documentation its exchanges were written from. The replays are
//! small local servers on 127.0.0.1 that speak just enough of each wire
//! protocol (HTTP for Elasticsearch, OP_MSG for MongoDB, Bolt 4.4 for
//! Neo4j) to serve the recorded answers to the real client libraries, and
//! that record what the driver sent so the tests can check it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbfleet_catalog::{Typed, catalog};
use dbfleet_drivers::{Connection, Driver, DriverError, Tls};
use dbfleet_model::{ApplyMethod, EngineKind, Scope, Value, Version};
use dbfleet_plan::{Action, Change, Desired, DesiredSetting, Observed, Plan};

fn recording(path: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/recordings").join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        text.lines().take_while(|l| l.starts_with('#')).any(|l| l.contains("Source:")),
        "{path} must name its source in its header"
    );
    text
}

/// A connection to a replay (or to nothing) on 127.0.0.1.
fn conn(engine: EngineKind, version: &str, address: &str) -> Connection {
    Connection {
        engine,
        version: version.parse::<Version>().unwrap(),
        address: address.to_string(),
        user: None,
        password: None,
        tls: Tls::default(),
        restart_command: None,
        reload_command: None,
        config_dir: None,
        ready_timeout: Duration::from_secs(5),
    }
}

/// The plan that takes `observed` to these settings, as the CLI makes it.
fn plan_to(engine: EngineKind, pairs: &[(&str, &str)], observed: &Observed) -> Plan {
    let settings = pairs
        .iter()
        .map(|(name, value)| {
            let parameter = catalog(engine).get(name).unwrap_or_else(|| panic!("{engine} has no {name}"));
            let typed = parameter.normalize(engine, &Value::String(value.to_string())).unwrap();
            let native = parameter.format_native(engine, &typed);
            let want = DesiredSetting {
                value: Some(typed),
                native,
                apply: parameter.apply,
                sensitive: parameter.sensitive,
                origin: None,
            };
            (name.to_string(), want)
        })
        .collect();
    let desired = Desired { settings, tenants: Default::default() };
    dbfleet_plan::plan("db-1", engine, &desired, observed, |n| {
        catalog(engine).get(n).map_or(ApplyMethod::Restart, |p| p.apply)
    })
}

/// The engine's rendered files for these settings.
fn render(engine: EngineKind, version: &str, pairs: &[(&str, &str)]) -> Vec<dbfleet_render::RenderedFile> {
    let version: Version = version.parse().unwrap();
    let settings = pairs
        .iter()
        .map(|(name, value)| {
            let parameter = catalog(engine).get(name).unwrap();
            let typed = parameter.normalize(engine, &Value::String(value.to_string())).unwrap();
            dbfleet_render::Setting {
                name: &parameter.name,
                parameter,
                value: dbfleet_render::RenderValue::Typed(typed),
                origin: None,
            }
        })
        .collect();
    let input = dbfleet_render::RenderInput {
        engine,
        version: &version,
        instance: "db-1",
        fleet: "acme",
        revision: "test",
        annotate: false,
        settings,
        tenants: Vec::new(),
    };
    dbfleet_render::render(&input).unwrap()
}

/// A one-change plan, for changes no observation leads to.
fn one_change(engine: EngineKind, name: &str, action: Action, native: Option<&str>) -> Plan {
    let parameter = catalog(engine).get(name).unwrap();
    let change = Change {
        scope: Scope::Instance,
        tenant: None,
        name: name.to_string(),
        action,
        from: None,
        to: native.map(str::to_string),
        native: native.map(str::to_string),
        apply: parameter.apply,
        sensitive: parameter.sensitive,
        origin: None,
    };
    Plan { instance: "db-1".into(), engine, changes: vec![change] }
}

// --------------------------------------------------------------- HTTP

/// Replays recorded HTTP exchanges in order, one connection after another
/// or kept alive, and records what was asked.
mod http {
    use super::*;
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

    struct Exchange {
        method: String,
        path: String,
        /// The body the driver must send, compared as JSON.
        body: Option<serde_json::Value>,
        status: u16,
        reply: String,
    }

    /// One request as the replay received it.
    #[derive(Debug, Clone)]
    pub(crate) struct Seen {
        pub(crate) request: String,
        pub(crate) authorization: Option<String>,
    }

    #[derive(Default)]
    struct State {
        next: usize,
        seen: Vec<Seen>,
        problems: Vec<String>,
    }

    pub(crate) struct Replay {
        pub(crate) address: String,
        exchanges: usize,
        state: Arc<Mutex<State>>,
    }

    /// Reads `>>> METHOD PATH` / body / `<<< STATUS` / body blocks.
    fn parse(text: &str) -> Vec<Exchange> {
        let mut exchanges = Vec::new();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let mut i = 0;
        while i < lines.len() {
            let Some(request) = lines[i].strip_prefix(">>> ") else {
                panic!("expected `>>> METHOD PATH`, found {:?}", lines[i])
            };
            let (method, path) = request.split_once(' ').unwrap();
            i += 1;
            let start = i;
            while !lines[i].starts_with("<<< ") {
                i += 1;
            }
            let body = lines[start..i].join("\n");
            let status = lines[i].strip_prefix("<<< ").unwrap().trim().parse().unwrap();
            i += 1;
            let start = i;
            while i < lines.len() && !lines[i].starts_with(">>> ") {
                i += 1;
            }
            exchanges.push(Exchange {
                method: method.into(),
                path: path.into(),
                body: (!body.trim().is_empty()).then(|| serde_json::from_str(&body).unwrap()),
                status,
                reply: lines[start..i].join("\n"),
            });
        }
        exchanges
    }

    pub(crate) async fn replay(path: &str) -> Replay {
        let exchanges = Arc::new(parse(&recording(path)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let (shared, count) = (state.clone(), exchanges.len());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, exchanges) = (shared.clone(), exchanges.clone());
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    while let Some((seen, body)) = read_request(&mut stream).await {
                        let (status, reply) = answer(&state, &exchanges, seen, body);
                        let head = format!(
                            "HTTP/1.1 {status} Replayed\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            reply.len()
                        );
                        if stream.get_mut().write_all(format!("{head}{reply}").as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Replay { address, exchanges: count, state }
    }

    fn answer(state: &Mutex<State>, exchanges: &[Exchange], seen: Seen, body: Vec<u8>) -> (u16, String) {
        let mut state = state.lock().unwrap();
        state.seen.push(seen.clone());
        let Some(want) = exchanges.get(state.next) else {
            state.problems.push(format!("unexpected request after the recording ended: {}", seen.request));
            return (500, "{}".into());
        };
        state.next += 1;
        let request = format!("{} {}", want.method, want.path);
        if seen.request != request {
            state.problems.push(format!("expected `{request}`, got `{}`", seen.request));
            return (500, "{}".into());
        }
        if let Some(expected) = &want.body {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(sent) if &sent == expected => {}
                Ok(sent) => state.problems.push(format!("`{request}`: expected body {expected}, got {sent}")),
                Err(e) => state.problems.push(format!("`{request}`: the body is not JSON: {e}")),
            }
        }
        (want.status, want.reply.clone())
    }

    async fn read_request(stream: &mut BufReader<tokio::net::TcpStream>) -> Option<(Seen, Vec<u8>)> {
        let mut line = String::new();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let mut parts = line.split_whitespace();
        let request = format!("{} {}", parts.next()?, parts.next()?);
        let (mut length, mut authorization) = (0, None);
        loop {
            let mut header = String::new();
            stream.read_line(&mut header).await.ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.ok()?;
        Some((Seen { request, authorization }, body))
    }

    impl Replay {
        /// What was asked, after checking that it was exactly the recording.
        pub(crate) fn finish(&self) -> Vec<Seen> {
            let state = self.state.lock().unwrap();
            assert!(state.problems.is_empty(), "the driver strayed from the recording:\n{}", state.problems.join("\n"));
            assert_eq!(state.next, self.exchanges, "the recording was not played to the end");
            state.seen.clone()
        }
    }
}

// ------------------------------------------------------- Elasticsearch

mod elasticsearch {
    use super::*;
    use dbfleet_drivers::ElasticsearchDriver;

    const ES: EngineKind = EngineKind::Elasticsearch;
    const MAX_BYTES: &str = "indices.recovery.max_bytes_per_sec";

    fn driver(address: &str) -> ElasticsearchDriver {
        ElasticsearchDriver::new(conn(ES, "8.15.0", address), Vec::new())
    }

    #[tokio::test]
    async fn recorded_flat_settings_are_read_as_effective_values() {
        let replay = http::replay("elasticsearch/get-settings.http").await;
        let observed = driver(&replay.address).observe().await.unwrap();
        replay.finish();
        let s = &observed.settings;
        // Persistent beats the default, and is what dbfleet manages.
        assert_eq!((s[MAX_BYTES].raw.as_str(), s[MAX_BYTES].explicit), ("50mb", true));
        assert_eq!(s[MAX_BYTES].value, Some(Typed::Bytes(50 << 20)));
        let enable = &s["cluster.routing.allocation.enable"];
        assert_eq!((enable.value.clone(), enable.explicit), (Some(Typed::Str("all".into())), false));
        assert_eq!(s["search.max_buckets"].value, Some(Typed::Int(65536)));
        assert_eq!(s["cluster.routing.allocation.awareness.attributes"].value, Some(Typed::List(Vec::new())));
        assert_eq!(s["cluster.name"].raw, "elasticsearch");
        assert!(s.values().all(|o| !o.pending_restart));
    }

    #[tokio::test]
    async fn apply_and_restore_send_the_recorded_update_and_reset() {
        let replay = http::replay("elasticsearch/put-settings.http").await;
        let driver = driver(&replay.address);
        let before = driver.observe().await.unwrap();
        let plan = plan_to(ES, &[(MAX_BYTES, "50mb")], &before);
        assert_eq!(plan.changes.len(), 1);
        let applied = driver.apply(&plan, false).await.unwrap();
        assert_eq!(applied.changed, [MAX_BYTES]);
        assert!(!applied.restarted && !applied.reloaded && applied.pending_restart.is_empty());
        // Not persistent before: restoring resets it, with null.
        driver.restore(&before, &plan, false).await.unwrap();
        replay.finish();
    }

    #[tokio::test]
    async fn a_recorded_rejection_names_the_setting() {
        let replay = http::replay("elasticsearch/put-settings-rejected.http").await;
        let plan = one_change(ES, "cluster.routing.allocation.disk.watermark.low", Action::Change, Some("95%"));
        let error = driver(&replay.address).apply(&plan, false).await.unwrap_err();
        replay.finish();
        match error {
            DriverError::Rejected { name, reason } => {
                assert_eq!(name, "cluster.routing.allocation.disk.watermark.low");
                assert!(reason.starts_with("illegal_argument_exception: illegal value can't update"), "{reason}");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_recorded_401_is_denied_and_credentials_were_sent() {
        let replay = http::replay("elasticsearch/unauthenticated.http").await;
        let mut conn = conn(ES, "8.15.0", &replay.address);
        conn.user = Some("dbfleet".into());
        conn.password = Some("s3cret".into());
        let error = ElasticsearchDriver::new(conn, Vec::new()).observe().await.unwrap_err();
        let seen = replay.finish();
        assert!(
            matches!(&error, DriverError::Denied { reason, .. } if reason.contains("security_exception")),
            "{error:?}"
        );
        assert!(error.is_connection());
        assert!(!error.to_string().contains("s3cret"));
        // base64("dbfleet:s3cret")
        assert_eq!(seen[0].authorization.as_deref(), Some("Basic ZGJmbGVldDpzM2NyZXQ="));
    }

    #[tokio::test]
    async fn a_restart_waits_for_recorded_health_to_leave_red() {
        let replay = http::replay("elasticsearch/cluster-health.http").await;
        let dir = tempfile::tempdir().unwrap();
        let mut conn = conn(ES, "8.15.0", &replay.address);
        conn.config_dir = Some(dir.path().to_path_buf());
        conn.restart_command = Some(vec!["true".into()]);
        let files = vec![dbfleet_render::RenderedFile {
            path: "elasticsearch.yml".into(),
            contents: "cluster.name: prod\n".into(),
            sensitive: false,
        }];
        let driver = ElasticsearchDriver::new(conn, files);
        let plan = one_change(ES, "cluster.name", Action::Change, Some("prod"));
        let applied = driver.apply(&plan, true).await.unwrap();
        assert!(applied.restarted, "{applied:?}");
        assert_eq!(std::fs::read_to_string(dir.path().join("elasticsearch.yml")).unwrap(), "cluster.name: prod\n");
        replay.finish();
    }

    #[tokio::test]
    async fn files_written_without_a_restart_show_as_pending_against_recorded_live_values() {
        let replay = http::replay("elasticsearch/get-settings.http").await;
        let dir = tempfile::tempdir().unwrap();
        let wanted = [("cluster.name", "prod"), (MAX_BYTES, "50mb"), ("jvm.heap.max", "2g")];
        // What an apply that was not allowed to restart left behind.
        let files = render(ES, "8.15.0", &wanted);
        for f in &files {
            let path = dir.path().join(&f.path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &f.contents).unwrap();
        }
        let mut conn = conn(ES, "8.15.0", &replay.address);
        conn.config_dir = Some(dir.path().to_path_buf());
        let observed = ElasticsearchDriver::new(conn, files).observe().await.unwrap();
        replay.finish();
        let s = &observed.settings;
        // The node still runs its old name; the file holds the new one.
        let name = &s["cluster.name"];
        assert_eq!((name.raw.as_str(), name.explicit, name.pending_restart), ("elasticsearch", true, true));
        // A dynamic setting in the file and persistent: nothing pending.
        assert!(s[MAX_BYTES].explicit && !s[MAX_BYTES].pending_restart);
        // JVM options are known from the file alone.
        assert_eq!(s["jvm.heap.max"].value, Some(Typed::Bytes(2 << 30)));
        assert!(s["jvm.heap.max"].explicit);
        // The plan keeps the name change until a restart.
        assert_eq!(
            plan_to(ES, &wanted, &observed).changes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["cluster.name"]
        );
    }

    #[tokio::test]
    async fn a_static_setting_without_rendered_files_is_refused_before_anything_changes() {
        // Nothing listens: the refusal comes before any request.
        let plan = one_change(ES, "cluster.name", Action::Change, Some("prod"));
        let error = driver("127.0.0.1:9").apply(&plan, true).await.unwrap_err();
        assert!(matches!(&error, DriverError::Rejected { name, .. } if name == "cluster.name"), "{error:?}");
    }
}

// ------------------------------------------------------------- MongoDB

/// Replays recorded command replies over OP_MSG: the handshake whenever it
/// is asked, every other command in recorded order. Requests are checked
/// against the recorded command fields (the driver adds its own, such as
/// `lsid`).
mod mongo_wire {
    use super::*;
    use mongodb::bson::{Bson, Document};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const OP_MSG: i32 = 2013;

    struct Exchange {
        command: String,
        /// Answered whenever asked, outside the recorded order.
        always: bool,
        request: Option<Document>,
        reply: Document,
    }

    #[derive(Default)]
    struct State {
        next: usize,
        seen: Vec<Document>,
        problems: Vec<String>,
    }

    pub(crate) struct Replay {
        pub(crate) address: String,
        ordered: usize,
        state: Arc<Mutex<State>>,
    }

    fn document(text: &str) -> Document {
        let json: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        Document::try_from(json.as_object().unwrap().clone()).unwrap()
    }

    /// Reads `>>> command [*]` / request / `<<<` / reply blocks.
    fn parse(text: &str) -> Vec<Exchange> {
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let mut exchanges = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let head =
                lines[i].strip_prefix(">>> ").unwrap_or_else(|| panic!("expected `>>> command`, found {:?}", lines[i]));
            let (command, always) = match head.strip_suffix(" *") {
                Some(command) => (command, true),
                None => (head, false),
            };
            i += 1;
            let start = i;
            while lines[i] != "<<<" {
                i += 1;
            }
            let request = lines[start..i].join("\n");
            i += 1;
            let start = i;
            while i < lines.len() && !lines[i].starts_with(">>> ") {
                i += 1;
            }
            exchanges.push(Exchange {
                command: command.to_string(),
                always,
                request: (!request.trim().is_empty()).then(|| document(&request)),
                reply: document(&lines[start..i].join("\n")),
            });
        }
        exchanges
    }

    /// Equal, with numbers compared by value whatever their BSON type.
    fn same(a: &Bson, b: &Bson) -> bool {
        let number = |v: &Bson| match v {
            Bson::Int32(i) => Some(f64::from(*i)),
            Bson::Int64(i) => Some(*i as f64),
            Bson::Double(f) => Some(*f),
            _ => None,
        };
        match (a, b) {
            (Bson::Document(x), Bson::Document(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            (Bson::Array(x), Bson::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
            _ => match (number(a), number(b)) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            },
        }
    }

    pub(crate) async fn replay(paths: &[&str]) -> Replay {
        let exchanges: Vec<Exchange> = paths.iter().flat_map(|p| parse(&recording(p))).collect();
        let ordered = exchanges.iter().filter(|e| !e.always).count();
        let exchanges = Arc::new(exchanges);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (state, exchanges) = (shared.clone(), exchanges.clone());
                tokio::spawn(async move {
                    while let Some((request_id, command)) = read_message(&mut stream).await {
                        let reply = answer(&state, &exchanges, command);
                        if stream.write_all(&message(request_id, &reply)).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Replay { address, ordered, state }
    }

    fn answer(state: &Mutex<State>, exchanges: &[Exchange], command: Document) -> Document {
        let name = command.keys().next().cloned().unwrap_or_default();
        let failure =
            |why: String| mongodb::bson::doc! { "ok": 0.0, "errmsg": why, "code": 59, "codeName": "CommandNotFound" };
        if let Some(e) = exchanges.iter().find(|e| e.always && e.command == name) {
            return e.reply.clone();
        }
        let mut state = state.lock().unwrap();
        state.seen.push(command.clone());
        let ordered: Vec<&Exchange> = exchanges.iter().filter(|e| !e.always).collect();
        let Some(want) = ordered.get(state.next) else {
            state.problems.push(format!("unexpected command after the recording ended: {command}"));
            return failure("not in the recording".into());
        };
        state.next += 1;
        if want.command != name {
            state.problems.push(format!("expected `{}`, got {command}", want.command));
            return failure("not the recorded command".into());
        }
        for (key, value) in want.request.iter().flatten() {
            if !command.get(key).is_some_and(|sent| same(value, sent)) {
                state.problems.push(format!("`{name}`: expected {key}: {value}, got {command}"));
            }
        }
        want.reply.clone()
    }

    /// Reads one OP_MSG and returns its request id and its command (the
    /// body section).
    async fn read_message(stream: &mut tokio::net::TcpStream) -> Option<(i32, Document)> {
        let mut header = [0u8; 16];
        stream.read_exact(&mut header).await.ok()?;
        let field = |at: usize| i32::from_le_bytes(header[at..at + 4].try_into().unwrap());
        let (length, request_id, op_code) = (field(0), field(4), field(12));
        assert_eq!(op_code, OP_MSG, "the driver speaks OP_MSG only");
        let mut rest = vec![0u8; usize::try_from(length).ok()? - 16];
        stream.read_exact(&mut rest).await.ok()?;
        let flags = u32::from_le_bytes(rest[..4].try_into().unwrap());
        // A checksum, when present, closes the message.
        let end = if flags & 1 == 1 { rest.len() - 4 } else { rest.len() };
        let mut at = 4;
        let mut body = None;
        while at < end {
            let kind = rest[at];
            let size = usize::try_from(i32::from_le_bytes(rest[at + 1..at + 5].try_into().unwrap())).unwrap();
            if kind == 0 {
                body = Some(Document::from_reader(&rest[at + 1..at + 1 + size]).unwrap());
            }
            at += 1 + size;
        }
        Some((request_id, body?))
    }

    /// An OP_MSG reply to `request_id` with one body section.
    fn message(request_id: i32, reply: &Document) -> Vec<u8> {
        let mut doc = Vec::new();
        reply.to_writer(&mut doc).unwrap();
        let length = i32::try_from(16 + 4 + 1 + doc.len()).unwrap();
        let mut out = Vec::new();
        for field in [length, 0, request_id, OP_MSG] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out.push(0);
        out.extend_from_slice(&doc);
        out
    }

    impl Replay {
        /// The recorded-order commands that were sent, after checking that
        /// they were exactly the recording.
        pub(crate) fn finish(&self) -> Vec<Document> {
            let state = self.state.lock().unwrap();
            assert!(state.problems.is_empty(), "the driver strayed from the recording:\n{}", state.problems.join("\n"));
            assert_eq!(state.next, self.ordered, "the recording was not played to the end");
            state.seen.clone()
        }
    }
}

mod mongodb_driver {
    use super::*;
    use dbfleet_drivers::MongodbDriver;

    const MONGO: EngineKind = EngineKind::Mongodb;

    fn driver(address: &str, version: &str) -> MongodbDriver {
        MongodbDriver::new(conn(MONGO, version, address), Vec::new())
    }

    fn change(name: &str, action: Action, native: Option<&str>) -> Change {
        one_change(MONGO, name, action, native).changes.remove(0)
    }

    #[tokio::test]
    async fn recorded_command_answers_are_read_as_settings() {
        let replay = mongo_wire::replay(&["mongodb/handshake.wire", "mongodb/observe.wire"]).await;
        let observed = driver(&replay.address, "7.0.5").observe().await.unwrap();
        let sent = replay.finish();
        assert_eq!(sent.len(), 3);
        let s = &observed.settings;
        let value = |name: &str| s.get(name).unwrap_or_else(|| panic!("{name} not observed")).value.clone();
        // Options that only a restart changes: as the server started.
        assert_eq!(value("net.port"), Some(Typed::Int(27017)));
        assert_eq!(s["net.bindIp"].raw, "127.0.0.1");
        assert_eq!(value("systemLog.logAppend"), Some(Typed::Bool(true)));
        // Server parameters, as they are now.
        assert_eq!(value("setParameter.cursorTimeoutMillis"), Some(Typed::Int(600_000)));
        assert_eq!(value("setParameter.notablescan"), Some(Typed::Bool(true)));
        assert_eq!(value("systemLog.verbosity"), Some(Typed::Int(0)));
        assert_eq!(value("systemLog.component.query.verbosity"), Some(Typed::Int(-1)));
        // The live parameter wins over the startup option; its array reads
        // as the configuration file's comma-separated text.
        assert_eq!(value("setParameter.authenticationMechanisms"), Some(Typed::Str("SCRAM-SHA-256".into())));
        assert_eq!(value("operationProfiling.slowOpThresholdMs"), Some(Typed::Int(100)));
        assert_eq!(value("operationProfiling.slowOpSampleRate"), Some(Typed::Real(1.0)));
        assert!(!s.contains_key("featureCompatibilityVersion"));
        // Nothing says a value was set on purpose without dbfleet's file.
        assert!(s.values().all(|o| !o.explicit && !o.pending_restart));
    }

    #[tokio::test]
    async fn apply_then_restore_send_the_recorded_commands() {
        let replay =
            mongo_wire::replay(&["mongodb/handshake.wire", "mongodb/observe.wire", "mongodb/set-parameter.wire"]).await;
        let driver = driver(&replay.address, "7.0.5");
        let before = driver.observe().await.unwrap();
        let plan = Plan {
            instance: "db-1".into(),
            engine: MONGO,
            changes: vec![
                change("operationProfiling.slowOpThresholdMs", Action::Change, Some("200")),
                change("setParameter.cursorTimeoutMillis", Action::Change, Some("300000")),
                // MongoDB has no reset: the catalog's default is set.
                change("setParameter.notablescan", Action::Reset, None),
                change("systemLog.component.query.verbosity", Action::Change, Some("2")),
            ],
        };
        let applied = driver.apply(&plan, false).await.unwrap();
        assert_eq!(applied.changed.len(), 4);
        assert!(!applied.restarted && applied.pending_restart.is_empty());
        driver.restore(&before, &plan, false).await.unwrap();
        replay.finish();
    }

    #[tokio::test]
    async fn a_recorded_bad_value_is_a_rejection_of_that_setting() {
        let replay = mongo_wire::replay(&["mongodb/handshake.wire", "mongodb/set-parameter-rejected.wire"]).await;
        let plan =
            one_change(MONGO, "setParameter.internalQueryFrameworkControl", Action::Change, Some("trySbeRestricted"));
        let error = driver(&replay.address, "6.0.14").apply(&plan, false).await.unwrap_err();
        replay.finish();
        match error {
            DriverError::Rejected { name, reason } => {
                assert_eq!(name, "setParameter.internalQueryFrameworkControl");
                assert!(reason.starts_with("BadValue: Enumeration value 'trySbeRestricted'"), "{reason}");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_recorded_unauthorized_is_denied() {
        let replay = mongo_wire::replay(&["mongodb/handshake.wire", "mongodb/unauthorized.wire"]).await;
        let error = driver(&replay.address, "7.0.5").observe().await.unwrap_err();
        replay.finish();
        assert!(
            matches!(&error, DriverError::Denied { reason, .. } if reason.contains("requires authentication")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn no_server_is_unreachable() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = closed.local_addr().unwrap().to_string();
        drop(closed);
        let error = driver(&address, "7.0.5").observe().await.unwrap_err();
        assert!(error.is_connection(), "{error:?}");
    }
}

// --------------------------------------------------------------- Neo4j

/// Replays a recorded Bolt 4.4 conversation (in the `C:` / `S:` script
/// form of Neo4j's driver test stubs): the handshake and HELLO on every
/// new connection, RESET and GOODBYE whenever sent, every other client
/// message in recorded order, each answered by the `S:` lines after it.
/// RUN is checked for its query, its parameters and the `extra` fields the
/// script gives; other messages for their name.
mod bolt {
    use super::*;
    use serde_json::{Map, Value as Json};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const MESSAGES: &[(&str, u8)] = &[
        ("HELLO", 0x01),
        ("GOODBYE", 0x02),
        ("RESET", 0x0F),
        ("RUN", 0x10),
        ("DISCARD", 0x2F),
        ("PULL", 0x3F),
        ("BEGIN", 0x11),
        ("COMMIT", 0x12),
        ("ROLLBACK", 0x13),
        ("SUCCESS", 0x70),
        ("RECORD", 0x71),
        ("IGNORED", 0x7E),
        ("FAILURE", 0x7F),
    ];

    fn tag(name: &str) -> u8 {
        MESSAGES.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("unknown Bolt message {name}")).1
    }

    fn name(tag: u8) -> &'static str {
        MESSAGES.iter().find(|(_, t)| *t == tag).map_or("?", |(n, _)| n)
    }

    #[derive(Clone)]
    struct Line {
        client: bool,
        message: String,
        fields: Vec<Json>,
    }

    /// A script: the HELLO answer and the ordered lines after it.
    struct Script {
        hello: Vec<Line>,
        lines: Vec<Line>,
    }

    fn parse(text: &str) -> Vec<Line> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("!:") && !l.trim().is_empty())
            .map(|l| {
                let (who, rest) = l.split_once(": ").unwrap_or_else(|| panic!("not a script line: {l}"));
                let (message, fields) = rest.split_once(' ').unwrap_or((rest, ""));
                let fields =
                    serde_json::Deserializer::from_str(fields).into_iter::<Json>().map(Result::unwrap).collect();
                Line { client: who == "C", message: message.to_string(), fields }
            })
            .collect()
    }

    // PackStream, as much as these messages use.

    fn write_size(out: &mut Vec<u8>, size: usize, tiny: u8, markers: [u8; 3]) {
        match size {
            0..=15 => out.push(tiny | size as u8),
            16..=0xFF => out.extend([markers[0], size as u8]),
            0x100..=0xFFFF => {
                out.push(markers[1]);
                out.extend((size as u16).to_be_bytes());
            }
            _ => {
                out.push(markers[2]);
                out.extend((size as u32).to_be_bytes());
            }
        }
    }

    fn pack(value: &Json, out: &mut Vec<u8>) {
        match value {
            Json::Null => out.push(0xC0),
            Json::Bool(b) => out.push(if *b { 0xC3 } else { 0xC2 }),
            Json::Number(n) if n.is_i64() => {
                let i = n.as_i64().unwrap();
                if (-16..=127).contains(&i) {
                    out.push(i as u8);
                } else {
                    out.push(0xCB);
                    out.extend(i.to_be_bytes());
                }
            }
            Json::Number(n) => {
                out.push(0xC1);
                out.extend(n.as_f64().unwrap().to_be_bytes());
            }
            Json::String(s) => {
                write_size(out, s.len(), 0x80, [0xD0, 0xD1, 0xD2]);
                out.extend(s.as_bytes());
            }
            Json::Array(items) => {
                write_size(out, items.len(), 0x90, [0xD4, 0xD5, 0xD6]);
                items.iter().for_each(|i| pack(i, out));
            }
            Json::Object(map) => {
                write_size(out, map.len(), 0xA0, [0xD8, 0xD9, 0xDA]);
                for (k, v) in map {
                    pack(&Json::String(k.clone()), out);
                    pack(v, out);
                }
            }
        }
    }

    fn unpack(data: &[u8], at: &mut usize) -> Json {
        let byte = |at: &mut usize| {
            *at += 1;
            data[*at - 1]
        };
        let take = |at: &mut usize, n: usize| {
            *at += n;
            &data[*at - n..*at]
        };
        let size =
            |at: &mut usize, width: usize| take(at, width).iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        let marker = byte(at);
        let (kind, length) = match marker {
            0x80..=0x8F => ("string", usize::from(marker & 0x0F)),
            0x90..=0x9F => ("list", usize::from(marker & 0x0F)),
            0xA0..=0xAF => ("map", usize::from(marker & 0x0F)),
            0xD0..=0xD2 => ("string", size(at, 1 << (marker - 0xD0))),
            0xD4..=0xD6 => ("list", size(at, 1 << (marker - 0xD4))),
            0xD8..=0xDA => ("map", size(at, 1 << (marker - 0xD8))),
            0xC0 => return Json::Null,
            0xC2 => return Json::Bool(false),
            0xC3 => return Json::Bool(true),
            0xC1 => return Json::from(f64::from_be_bytes(take(at, 8).try_into().unwrap())),
            0xC8 => return Json::from(i64::from(i8::from_be_bytes(take(at, 1).try_into().unwrap()))),
            0xC9 => return Json::from(i64::from(i16::from_be_bytes(take(at, 2).try_into().unwrap()))),
            0xCA => return Json::from(i64::from(i32::from_be_bytes(take(at, 4).try_into().unwrap()))),
            0xCB => return Json::from(i64::from_be_bytes(take(at, 8).try_into().unwrap())),
            0x00..=0x7F => return Json::from(i64::from(marker)),
            0xF0..=0xFF => return Json::from(i64::from(marker as i8)),
            other => panic!("PackStream marker {other:#x} is not used by these messages"),
        };
        match kind {
            "string" => Json::String(String::from_utf8(take(at, length).to_vec()).unwrap()),
            "list" => Json::Array((0..length).map(|_| unpack(data, at)).collect()),
            _ => {
                let mut map = Map::new();
                for _ in 0..length {
                    let Json::String(key) = unpack(data, at) else { panic!("a map key that is not a string") };
                    map.insert(key, unpack(data, at));
                }
                Json::Object(map)
            }
        }
    }

    /// Reads one chunked message: its name and fields.
    async fn read_message(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<Json>)> {
        let mut data = Vec::new();
        loop {
            let size = usize::from(stream.read_u16().await.ok()?);
            if size == 0 {
                if data.is_empty() {
                    continue; // a NOOP keep-alive
                }
                break;
            }
            let start = data.len();
            data.resize(start + size, 0);
            stream.read_exact(&mut data[start..]).await.ok()?;
        }
        let fields = usize::from(data[0] & 0x0F);
        let mut at = 2;
        Some((name(data[1]).to_string(), (0..fields).map(|_| unpack(&data, &mut at)).collect()))
    }

    async fn write_message(stream: &mut tokio::net::TcpStream, line: &Line) -> std::io::Result<()> {
        let mut body = vec![0xB0 | line.fields.len() as u8, tag(&line.message)];
        line.fields.iter().for_each(|f| pack(f, &mut body));
        let mut out = Vec::new();
        for chunk in body.chunks(0xFFFF) {
            out.extend((chunk.len() as u16).to_be_bytes());
            out.extend(chunk);
        }
        out.extend([0, 0]);
        stream.write_all(&out).await
    }

    #[derive(Default)]
    struct State {
        next: usize,
        seen: Vec<(String, Vec<Json>)>,
        problems: Vec<String>,
    }

    pub(crate) struct Replay {
        pub(crate) address: String,
        lines: usize,
        state: Arc<Mutex<State>>,
    }

    /// Serves `hello` (a script of the HELLO exchange) on every connection,
    /// then the other scripts in order.
    pub(crate) async fn replay(hello: &str, scripts: &[&str]) -> Replay {
        let text = recording(hello);
        assert!(text.contains("!: BOLT 4.4"));
        let script = Arc::new(Script {
            hello: parse(&text).into_iter().filter(|l| !l.client).collect(),
            lines: scripts.iter().flat_map(|s| parse(&recording(s))).collect(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let (shared, lines) = (state.clone(), script.lines.len());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, script.clone(), shared.clone()));
            }
        });
        Replay { address, lines, state }
    }

    async fn serve(mut stream: tokio::net::TcpStream, script: Arc<Script>, state: Arc<Mutex<State>>) {
        let mut handshake = [0u8; 20];
        if stream.read_exact(&mut handshake).await.is_err() {
            return;
        }
        assert_eq!(handshake[..4], [0x60, 0x60, 0xB0, 0x17], "the Bolt magic preamble");
        let offered: Vec<[u8; 4]> = handshake[4..].chunks(4).map(|c| c.try_into().unwrap()).collect();
        assert!(offered.contains(&[0, 0, 4, 4]), "the client offers Bolt 4.4: {offered:?}");
        if stream.write_all(&[0, 0, 4, 4]).await.is_err() {
            return;
        }
        while let Some((message, fields)) = read_message(&mut stream).await {
            let answers = match message.as_str() {
                "HELLO" => script.hello.clone(),
                "RESET" => {
                    vec![Line { client: false, message: "SUCCESS".into(), fields: vec![Json::Object(Map::new())] }]
                }
                "GOODBYE" => return,
                _ => next_answers(&script, &state, message, fields),
            };
            for line in &answers {
                if write_message(&mut stream, line).await.is_err() {
                    return;
                }
            }
            if answers.iter().any(|l| l.message == "FAILURE") && script.hello.iter().any(|l| l.message == "FAILURE") {
                return; // a refused HELLO closes the connection
            }
        }
    }

    /// Checks a client message against the next `C:` line and returns the
    /// `S:` lines that follow it.
    fn next_answers(script: &Script, state: &Mutex<State>, message: String, fields: Vec<Json>) -> Vec<Line> {
        let mut state = state.lock().unwrap();
        state.seen.push((message.clone(), fields.clone()));
        let Some(want) = script.lines.get(state.next).filter(|l| l.client) else {
            state.problems.push(format!("unexpected {message} {fields:?}"));
            return vec![Line {
                client: false,
                message: "FAILURE".into(),
                fields: vec![serde_json::json!({"code": "Stub.Unexpected", "message": "not in the recording"})],
            }];
        };
        state.next += 1;
        if want.message != message {
            state.problems.push(format!("expected {}, got {message} {fields:?}", want.message));
        } else if message == "RUN" {
            if fields.first() != want.fields.first() || fields.get(1) != want.fields.get(1) {
                state.problems.push(format!("RUN: expected {:?}, got {fields:?}", &want.fields[..2]));
            }
            for (key, value) in want.fields.get(2).and_then(Json::as_object).into_iter().flatten() {
                if fields.get(2).and_then(|extra| extra.get(key)) != Some(value) {
                    state.problems.push(format!("RUN: expected {key}: {value} in the extra fields, got {fields:?}"));
                }
            }
        }
        let answers: Vec<Line> = script.lines[state.next..].iter().take_while(|l| !l.client).cloned().collect();
        state.next += answers.len();
        answers
    }

    impl Replay {
        /// The ordered messages the client sent, after checking that they
        /// were exactly the recording.
        pub(crate) fn finish(&self) -> Vec<(String, Vec<Json>)> {
            let state = self.state.lock().unwrap();
            assert!(state.problems.is_empty(), "the driver strayed from the recording:\n{}", state.problems.join("\n"));
            assert_eq!(state.next, self.lines, "the recording was not played to the end");
            state.seen.clone()
        }
    }
}

mod neo4j_driver {
    use super::*;
    use dbfleet_drivers::Neo4jDriver;

    const NEO4J: EngineKind = EngineKind::Neo4j;

    fn driver(address: &str) -> Neo4jDriver {
        Neo4jDriver::new(conn(NEO4J, "5.26.0", address), Vec::new())
    }

    fn change(name: &str, action: Action, native: Option<&str>) -> Change {
        one_change(NEO4J, name, action, native).changes.remove(0)
    }

    #[tokio::test]
    async fn recorded_list_config_rows_are_read_as_settings() {
        let replay = bolt::replay("neo4j/hello.bolt", &["neo4j/list-config.bolt"]).await;
        let observed = driver(&replay.address).observe().await.unwrap();
        replay.finish();
        let s = &observed.settings;
        assert_eq!(s["db.logs.query.enabled"].value, Some(Typed::Str("VERBOSE".into())));
        assert_eq!(s["db.transaction.timeout"].value, Some(Typed::Micros(0)));
        // Neo4j reports sizes with decimals.
        assert_eq!(s["server.memory.heap.max_size"].value, Some(Typed::Bytes(512 << 20)));
        assert_eq!(s["server.databases.read_only"].value, Some(Typed::List(Vec::new())));
        // No value: Neo4j sizes it itself, as if not set.
        assert!(!s.contains_key("server.memory.pagecache.size"));
        assert!(s.values().all(|o| !o.explicit && !o.pending_restart));
    }

    #[tokio::test]
    async fn apply_sends_the_recorded_set_config_value_calls() {
        let replay = bolt::replay("neo4j/hello.bolt", &["neo4j/set-config-value.bolt"]).await;
        let plan = Plan {
            instance: "db-1".into(),
            engine: NEO4J,
            changes: vec![
                change("db.logs.query.enabled", Action::Change, Some("OFF")),
                change("db.transaction.timeout", Action::Set, Some("10s")),
                // A reset is Neo4j's empty value.
                change("db.logs.query.threshold", Action::Reset, None),
            ],
        };
        let applied = driver(&replay.address).apply(&plan, false).await.unwrap();
        assert_eq!(applied.changed, ["db.logs.query.enabled", "db.transaction.timeout", "db.logs.query.threshold"]);
        replay.finish();
    }

    #[tokio::test]
    async fn restore_puts_back_the_observed_values_through_the_recorded_calls() {
        let replay = bolt::replay("neo4j/hello.bolt", &["neo4j/set-config-value.bolt"]).await;
        // What a server reported before a plan that changed these three.
        let mut before = Observed::default();
        for (name, raw) in [("db.logs.query.enabled", "OFF"), ("db.transaction.timeout", "10s")] {
            let o = dbfleet_plan::ObservedSetting {
                value: None,
                raw: raw.into(),
                pending_restart: false,
                digest: None,
                explicit: false,
            };
            before.settings.insert(name.into(), o);
        }
        let plan = Plan {
            instance: "db-1".into(),
            engine: NEO4J,
            changes: vec![
                change("db.logs.query.enabled", Action::Change, Some("INFO")),
                change("db.transaction.timeout", Action::Change, Some("1m")),
                // Not reported before: put back as the default.
                change("db.logs.query.threshold", Action::Set, Some("1s")),
            ],
        };
        driver(&replay.address).restore(&before, &plan, false).await.unwrap();
        replay.finish();
    }

    #[tokio::test]
    async fn a_recorded_procedure_not_found_is_a_rejection() {
        let replay = bolt::replay("neo4j/hello.bolt", &["neo4j/procedure-not-found.bolt"]).await;
        let plan = one_change(NEO4J, "db.transaction.timeout", Action::Set, Some("10s"));
        let error = driver(&replay.address).apply(&plan, false).await.unwrap_err();
        replay.finish();
        assert!(
            matches!(&error, DriverError::Rejected { name, reason } if name == "db.transaction.timeout" && reason.starts_with("Neo.ClientError.Procedure.ProcedureNotFound")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_recorded_authentication_failure_is_denied() {
        let replay = bolt::replay("neo4j/unauthorized.bolt", &[]).await;
        let error = driver(&replay.address).observe().await.unwrap_err();
        replay.finish();
        assert!(matches!(&error, DriverError::Denied { reason, .. } if reason.contains("unauthorized")), "{error:?}");
    }
}

// ----------------------------------------------------------- Cassandra

/// Cassandra's CQL side is NOT replayed: the scylla client's session start
/// (OPTIONS, STARTUP, REGISTER, paged reads of system.local, system.peers
/// and system_schema.keyspaces with typed rows, one pool per node) would
/// take a CQL server of its own to fake. Reading `system_views.settings`
/// is tested instead as a pure function on a recorded `SELECT` (unit tests
/// in `src/cassandra.rs`). nodetool is run here for real: a shell script
/// stands in for it, logs its arguments and prints recorded output.
mod cassandra_driver {
    use super::*;
    use dbfleet_drivers::CassandraDriver;

    const CASSANDRA: EngineKind = EngineKind::Cassandra;

    /// A stand-in for nodetool that logs each call and answers `info`
    /// with the recorded output; `fail` makes every other call fail the
    /// way nodetool does when JMX is unreachable.
    fn nodetool(dir: &std::path::Path, fail: bool) -> Vec<String> {
        let info = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/recordings/cassandra/nodetool-info.txt");
        recording("cassandra/nodetool-info.txt");
        let log = dir.join("nodetool.log");
        let failing = if fail {
            r#"echo "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused'." >&2; exit 1"#
        } else {
            ""
        };
        let script = format!(
            r#"echo "$*" >> '{}'; if [ "$1" = info ]; then grep -v '^#' '{}'; exit 0; fi; {failing}"#,
            log.display(),
            info.display()
        );
        vec!["sh".into(), "-c".into(), script, "nodetool".into()]
    }

    fn change(name: &str, action: Action, native: Option<&str>) -> Change {
        one_change(CASSANDRA, name, action, native).changes.remove(0)
    }

    #[tokio::test]
    async fn apply_runs_nodetool_for_each_runtime_change() {
        let dir = tempfile::tempdir().unwrap();
        let driver = CassandraDriver::new(conn(CASSANDRA, "4.1.5", "127.0.0.1:9042"), Vec::new())
            .with_nodetool(nodetool(dir.path(), false));
        let plan = Plan {
            instance: "db-1".into(),
            engine: CASSANDRA,
            changes: vec![
                change("compaction_throughput", Action::Change, Some("32MiB")),
                change("incremental_backups", Action::Set, Some("true")),
                // nodetool has no reset: the catalog default is set.
                change("read_request_timeout", Action::Reset, None),
                change("row_cache_size", Action::Set, Some("256MiB")),
            ],
        };
        let applied = driver.apply(&plan, false).await.unwrap();
        assert_eq!(applied.changed.len(), 4);
        let log = std::fs::read_to_string(dir.path().join("nodetool.log")).unwrap();
        assert_eq!(
            log.lines().collect::<Vec<_>>(),
            [
                "setcompactionthroughput 32",
                "enablebackup",
                "settimeout read 5000",
                // The other two cache sizes, from the recorded `nodetool info`.
                "info",
                "setcachecapacity 49 256 24",
            ]
        );
    }

    #[tokio::test]
    async fn runtime_changes_go_through_nodetool_and_static_ones_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // Stands for the node, for the health probe after the restart.
        let node = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut conn = conn(CASSANDRA, "4.1.5", &node.local_addr().unwrap().to_string());
        conn.config_dir = Some(dir.path().join("conf"));
        let restarts = dir.path().join("restarts");
        conn.restart_command =
            Some(vec!["sh".into(), "-c".into(), format!("echo restarted >> '{}'", restarts.display())]);
        let wanted = [("compaction_throughput", "32MiB"), ("concurrent_reads", "64")];
        let driver =
            CassandraDriver::new(conn, render(CASSANDRA, "4.1.5", &wanted)).with_nodetool(nodetool(dir.path(), false));
        let mut plan = one_change(CASSANDRA, "compaction_throughput", Action::Change, Some("32MiB"));
        plan.changes.push(change("concurrent_reads", Action::Change, Some("64")));

        let applied = driver.apply(&plan, true).await.unwrap();
        assert!(applied.restarted, "{applied:?}");
        assert_eq!(std::fs::read_to_string(dir.path().join("nodetool.log")).unwrap(), "setcompactionthroughput 32\n");
        assert_eq!(std::fs::read_to_string(&restarts).unwrap(), "restarted\n");
        // The file holds both: nodetool's change would not survive a restart.
        let yaml = std::fs::read_to_string(dir.path().join("conf/cassandra.yaml")).unwrap();
        assert!(yaml.contains("concurrent_reads: 64") && yaml.contains("compaction_throughput: 32MiB/s"), "{yaml}");
    }

    #[tokio::test]
    async fn a_failing_nodetool_fails_the_apply_with_its_message() {
        let dir = tempfile::tempdir().unwrap();
        let driver = CassandraDriver::new(conn(CASSANDRA, "4.1.5", "127.0.0.1:9042"), Vec::new())
            .with_nodetool(nodetool(dir.path(), true));
        let plan = one_change(CASSANDRA, "concurrent_compactors", Action::Change, Some("4"));
        let error = driver.apply(&plan, false).await.unwrap_err();
        assert!(
            matches!(&error, DriverError::Command { command, reason } if command.ends_with("setconcurrentcompactors 4") && reason.contains("Connection refused")),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn observing_a_node_that_is_not_there_is_unreachable() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = closed.local_addr().unwrap().to_string();
        drop(closed);
        let error = CassandraDriver::new(conn(CASSANDRA, "4.1.5", &address), Vec::new()).observe().await.unwrap_err();
        assert!(error.is_connection(), "{error:?}");
    }
}
