//! Cassandra 4.1 and 5.0: `cassandra.yaml`, `jvm-server.options` and the
//! per-JDK server options file; and readers for them.
//!
//! `cassandra.yaml` uses the 4.1 names, whose values carry their unit
//! (`256MiB`, `10s`): dotted names become nested maps
//! (`client_encryption_options.enabled`), and the throughput settings are
//! written with the `/s` that Cassandra's rate type requires (`64MiB/s`),
//! which the reader strips again. Cassandra wants a unit on a zero too, so
//! zero is written in the parameter's own unit (`0MiB`) where the catalog's
//! spelling would give a bare `0`.
//!
//! JVM options: `bin/cassandra` reads `jvm-server.options` on every JDK and
//! then one per-JDK file, `jvm11-server.options` on Java 11 (the newest JDK
//! 4.1 supports) or `jvm17-server.options` on Java 17 (5.0's newest). The
//! collector and its tuning must live in the per-JDK file: the stock one
//! selects a collector, and the JVM refuses to start with two. So the GC
//! settings go to the per-JDK file of the version (`jvm11-server.options`
//! for 4.x, `jvm17-server.options` from 5.0 on; a node running another JDK
//! reads another file and would not see them), everything else to
//! `jvm-server.options`. Without GC settings the per-JDK file selects no
//! collector and the JVM's default applies (G1 on Java 11 and 17, where the
//! stock 4.1 file may choose another). Because dbfleet replaces the per-JDK file, it also
//! writes the lines of the stock file that Cassandra needs on that JDK
//! (module access for Java 11+ and Netty's options, copied from
//! apache/cassandra's `conf/jvm11-server.options` and
//! `conf/jvm17-server.options` as found in its repository, not checked
//! against the 4.1 and 5.0 release tarballs). The stock file's GC tuning
//! beyond the catalog's flags is not carried over, and the stock
//! `jvm-server.options` flags are replaced by the catalog's: add others with
//! `jvm.extra_options`, which goes to `jvm-server.options`. Nothing here was
//! checked against a running node.

use dbfleet_catalog::{Parameter, Typed};
use dbfleet_model::{EngineKind, Value, Version};

use crate::common::{self, guard, jvm, yaml};
use crate::{ParseError, Parsed, RenderError, RenderInput, RenderValue, RenderedFile, Setting};

const YAML: &str = "cassandra.yaml";
const JVM_SERVER: &str = "jvm-server.options";
const JVM11_SERVER: &str = "jvm11-server.options";
const JVM17_SERVER: &str = "jvm17-server.options";

/// Size settings that Cassandra reads as a rate, `<size>/s`.
const THROUGHPUTS: &[&str] = &[
    "compaction_throughput",
    "entire_sstable_stream_throughput_outbound",
    "inter_dc_stream_throughput_outbound",
    "stream_throughput_outbound",
];

/// JVM settings that belong with the collector choice in the per-JDK file.
const GC_SETTINGS: &[&str] =
    &["jvm.conc_gc_threads", "jvm.g1.max_gc_pause_millis", "jvm.gc", "jvm.parallel_gc_threads"];

/// The lines of 4.1's stock `jvm11-server.options` besides GC settings and
/// comments: module access the server needs on Java 11, and Netty options.
const STOCK_JDK11: &[&str] = &[
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-exports java.base/jdk.internal.util=ALL-UNNAMED",
    "--add-exports java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports java.sql/java.sql=ALL-UNNAMED",
    "--add-opens java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
];

/// The same for 5.0's stock `jvm17-server.options`.
const STOCK_JDK17: &[&str] = &[
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports java.sql/java.sql=ALL-UNNAMED",
    "--add-exports java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-opens java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens java.base/java.io=ALL-UNNAMED",
    "--add-opens java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens java.base/java.lang=ALL-UNNAMED",
    "--add-opens java.base/java.util=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
];

/// The per-JDK file a version reads on its newest JDK, with its stock lines.
fn per_jdk_file(version: &Version) -> (&'static str, &'static [&'static str]) {
    if version.major() >= 5 { (JVM17_SERVER, STOCK_JDK17) } else { (JVM11_SERVER, STOCK_JDK11) }
}

pub(crate) fn render(input: &RenderInput<'_>) -> Result<Vec<RenderedFile>, RenderError> {
    guard::check(input, &["main", "jvm"])?;

    let main = common::section(&input.settings, "main");
    let mut tree = yaml::Map::default();
    for s in &main {
        let value = match &s.value {
            RenderValue::Typed(t @ (Typed::Bytes(_) | Typed::Micros(_))) => {
                yaml::Yaml::Scalar(yaml::native_scalar(&quantity(s.parameter, t)))
            }
            _ => yaml::setting(input, s),
        };
        let path: Vec<&str> = s.name.split('.').collect();
        tree.insert(&path, value, common::origin(input, s))
            .map_err(|reason| RenderError::Unrenderable { name: s.name.to_string(), reason })?;
    }
    let mut yaml_text = common::hash_header(input);
    tree.write(&mut yaml_text);

    let (gc, server): (Vec<&Setting<'_>>, Vec<&Setting<'_>>) =
        common::section(&input.settings, "jvm").into_iter().partition(|s| GC_SETTINGS.contains(&s.name));
    let (jdk_file, stock) = per_jdk_file(input.version);
    refuse_missing_collector(input, &gc, jdk_file)?;

    let mut server_text = common::hash_header(input);
    jvm::write(input, &server, &mut server_text)?;

    let mut jdk_text = common::hash_header(input);
    jdk_text.push_str(&format!(
        "# Lines of the stock {jdk_file} that Cassandra needs on this JDK: dbfleet\n# replaces the file, so it writes them itself.\n"
    ));
    for line in stock {
        jdk_text.push_str(line);
        jdk_text.push('\n');
    }
    if !gc.is_empty() {
        jdk_text.push_str("\n# Garbage collection.\n");
        jvm::write(input, &gc, &mut jdk_text)?;
    }

    Ok(vec![
        RenderedFile { path: YAML.into(), contents: yaml_text, sensitive: common::any_secret(main.iter().copied()) },
        RenderedFile {
            path: JVM_SERVER.into(),
            contents: server_text,
            sensitive: common::any_secret(server.iter().copied()),
        },
        RenderedFile { path: jdk_file.into(), contents: jdk_text, sensitive: common::any_secret(gc.iter().copied()) },
    ])
}

/// CMS was removed from the JDK in Java 14, so the Java 17 file of 5.0
/// cannot select it: the JVM would refuse to start.
fn refuse_missing_collector(input: &RenderInput<'_>, gc: &[&Setting<'_>], jdk_file: &str) -> Result<(), RenderError> {
    let cms = gc.iter().find(|s| s.name == "jvm.gc" && common::native(input, s) == "ConcMarkSweepGC");
    match cms {
        Some(s) if jdk_file == JVM17_SERVER => Err(RenderError::Unrenderable {
            name: s.name.to_string(),
            reason: format!("Java 17, which cassandra {} runs on, has no ConcMarkSweepGC", input.version),
        }),
        _ => Ok(()),
    }
}

/// A size or duration as cassandra.yaml takes it: always with a unit, never
/// smaller than the parameter's own, and `/s` after a throughput.
fn quantity(p: &Parameter, t: &Typed) -> String {
    let text = match t {
        Typed::Bytes(0) => format!("0{}", p.unit.as_deref().unwrap_or("B")),
        // Cassandra spells minutes `m`, where the catalog's units say `min`.
        Typed::Micros(0) => format!("0{}", p.unit.as_deref().map_or("s", |u| if u == "min" { "m" } else { u })),
        _ => p.format_native(EngineKind::Cassandra, t),
    };
    if THROUGHPUTS.contains(&p.name.as_str()) { format!("{text}/s") } else { text }
}

/// Reads `cassandra.yaml` (the old `_in_mb` names too) or any `jvm*.options`
/// file. The stock lines dbfleet writes into a per-JDK file come back as
/// unmapped, so that nothing read is silently dropped.
pub(crate) fn parse(file_name: &str, text: &str) -> Result<Parsed, ParseError> {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    if base.starts_with("jvm") && base.ends_with(".options") {
        let stock = match base {
            JVM11_SERVER => STOCK_JDK11,
            JVM17_SERVER => STOCK_JDK17,
            _ => &[],
        };
        return Ok(jvm::parse(EngineKind::Cassandra, text, stock));
    }
    let mut parsed = yaml::flatten(EngineKind::Cassandra, file_name, text, &["main"])?;
    for s in &mut parsed.settings {
        if THROUGHPUTS.contains(&s.name.as_str())
            && let Value::String(rate) = &s.value
            && let Some(size) = rate.strip_suffix("/s")
        {
            s.value = Value::String(size.to_string());
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use dbfleet_catalog::ParamType;

    use super::*;
    use crate::common::testing;

    fn files(version: &str, pairs: &[(&str, &str)]) -> Vec<RenderedFile> {
        render(&testing::input(EngineKind::Cassandra, version, pairs)).unwrap()
    }

    fn body(file: &RenderedFile) -> &str {
        file.contents.split_once("\n\n").unwrap().1
    }

    #[test]
    fn throughputs_get_a_rate_suffix_and_zero_keeps_its_unit() {
        let files = files(
            "4.1",
            &[
                ("compaction_throughput", "64MiB"),
                ("stream_throughput_outbound", "0"),
                ("row_cache_size", "0"),
                ("index_summary_resize_interval", "0"),
                ("read_request_timeout", "5000ms"),
                ("client_encryption_options.enabled", "true"),
            ],
        );
        assert_eq!(
            body(&files[0]),
            "client_encryption_options:\n  enabled: true\ncompaction_throughput: 64MiB/s\nindex_summary_resize_interval: 0m\nread_request_timeout: 5s\nrow_cache_size: 0MiB\nstream_throughput_outbound: 0MiB/s\n"
        );
        let parsed = parse(YAML, &files[0].contents).unwrap();
        let throughput = parsed.settings.iter().find(|s| s.name == "compaction_throughput").unwrap();
        assert_eq!(throughput.value, Value::String("64MiB".into()));
    }

    /// Guards the list against catalog changes: every size whose
    /// description says it is written with `/s` is a throughput here.
    #[test]
    fn throughputs_match_the_catalog() {
        let catalog = dbfleet_catalog::catalog(EngineKind::Cassandra);
        let mut described: Vec<&str> = catalog
            .parameters()
            .filter(|p| p.ty == ParamType::Size && p.description.contains("/s suffix"))
            .map(|p| p.name.as_str())
            .collect();
        described.sort_unstable();
        let listed: Vec<&str> = THROUGHPUTS.iter().copied().filter(|n| catalog.get(n).is_some()).collect();
        assert_eq!(described, listed);
    }

    #[test]
    fn gc_settings_go_to_the_per_jdk_file_of_the_version() {
        let pairs = [("jvm.gc", "G1GC"), ("jvm.g1.max_gc_pause_millis", "300"), ("jvm.heap.max", "8GB")];
        let paths = |files: &[RenderedFile]| files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        let four = files("4.1", &pairs);
        assert_eq!(paths(&four), [YAML, JVM_SERVER, JVM11_SERVER]);
        assert_eq!(body(&four[1]), "-Xmx8g\n");
        assert!(four[2].contents.ends_with("\n# Garbage collection.\n-XX:MaxGCPauseMillis=300\n-XX:+UseG1GC\n"));
        let five = files("5.0", &pairs);
        assert_eq!(paths(&five), [YAML, JVM_SERVER, JVM17_SERVER]);
        let parsed = parse(JVM17_SERVER, &five[2].contents).unwrap();
        assert_eq!(parsed.settings.len(), 2);
        assert_eq!(parsed.unmapped.len(), STOCK_JDK17.len());
    }

    #[test]
    fn cms_is_refused_on_java_17() {
        assert!(render(&testing::input(EngineKind::Cassandra, "4.1", &[("jvm.gc", "ConcMarkSweepGC")])).is_ok());
        let err = render(&testing::input(EngineKind::Cassandra, "5.0", &[("jvm.gc", "ConcMarkSweepGC")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot render `jvm.gc`: Java 17, which cassandra 5.0 runs on, has no ConcMarkSweepGC"
        );
    }

    #[test]
    fn old_names_are_read_and_jvm_options_in_cassandra_yaml_are_unmapped() {
        let parsed = parse(YAML, "compaction_throughput_mb_per_sec: 16\njvm:\n  heap:\n    max: 8g\n").unwrap();
        assert_eq!(parsed.settings[0].name, "compaction_throughput_mb_per_sec");
        assert_eq!(parsed.unmapped[0].text, "jvm.heap.max: 8g");
    }
}
