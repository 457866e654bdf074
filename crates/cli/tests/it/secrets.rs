//! Secrets through the CLI: the age store, and `resolve --check-secrets`
//! against a real OpenBao server. No output may ever contain a value.

use dbfleet_testsupport::BaoServer;

use crate::harness::TestFleet;

const VALUE: &str = "s3cr3t-Value-that-must-never-print";

fn fleet_with_secrets(refs: &[&str]) -> TestFleet {
    let fleet = TestFleet::minimal();
    let mut base = String::from("instance:\n  max_connections: 100\n");
    for (i, r) in refs.iter().enumerate() {
        base.push_str(&format!("  secret_{i}: {{$secret: \"{r}\"}}\n"));
    }
    fleet.write("layers/base/postgresql.yaml", &base);
    fleet
}

#[test]
fn age_store_round_trip_through_the_cli() {
    let fleet = TestFleet::minimal();
    let id1 = fleet.path().join("id1.txt");
    let id2 = fleet.path().join("id2.txt");
    let id1s = id1.to_str().unwrap();
    let run = fleet.run(&["secret", "keygen", "--identity", id1s]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("age1"), "{}", run.stdout);

    let mut cmd = std::process::Command::new(crate::harness::BIN);
    cmd.args(["-C", fleet.path().to_str().unwrap(), "secret", "set", "pg-prod"]).env("NO_COLOR", "1");
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), format!("{VALUE}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = std::fs::read_to_string(fleet.path().join("secrets/pg-prod.age")).unwrap();
    assert!(!file.contains(VALUE));

    let shown = fleet.run(&["secret", "get", "pg-prod", "--identity", id1s]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(!shown.stdout.contains(VALUE), "get without --reveal must not print the value");
    let revealed = fleet.run(&["secret", "get", "pg-prod", "--reveal", "--identity", id1s]);
    assert_eq!(revealed.stdout.trim_end(), VALUE);

    let list = fleet.run(&["secret", "list"]);
    assert!(list.stdout.contains("pg-prod"), "{}", list.stdout);

    // A second teammate: can read only after a rekey.
    let id2s = id2.to_str().unwrap();
    assert_eq!(fleet.run(&["secret", "keygen", "--identity", id2s]).code, 0);
    let denied = fleet.run(&["secret", "get", "pg-prod", "--reveal", "--identity", id2s]);
    assert_ne!(denied.code, 0);
    assert!(!denied.stderr.contains(VALUE));
    assert_eq!(fleet.run(&["secret", "rekey", "--identity", id1s]).code, 0);
    let now = fleet.run(&["secret", "get", "pg-prod", "--reveal", "--identity", id2s]);
    assert_eq!(now.stdout.trim_end(), VALUE, "{}", now.stderr);

    // Resolving with the secret referenced never shows the value.
    let fleet2 = fleet_with_secrets(&["age:pg-prod"]);
    std::fs::create_dir_all(fleet2.path().join("secrets")).unwrap();
    for f in ["pg-prod.age", "recipients.txt"] {
        std::fs::copy(fleet.path().join("secrets").join(f), fleet2.path().join("secrets").join(f)).unwrap();
    }
    let run = fleet2.run_env(&["resolve", "--check-secrets"], &[("DBFLEET_AGE_IDENTITY", id1s)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("<secret age:pg-prod>"), "{}", run.stdout);
    assert!(!run.stdout.contains(VALUE) && !run.stderr.contains(VALUE));
    let missing =
        fleet_with_secrets(&["age:nope"]).run_env(&["resolve", "--check-secrets"], &[("DBFLEET_AGE_IDENTITY", id1s)]);
    assert_eq!(missing.code, 5, "{}", missing.stderr);
}

#[test]
fn check_secrets_against_openbao() {
    let bao = BaoServer::start().expect("OpenBao starts (scripts/install-deps.sh installs it)");
    bao.kv_put("db/pg", &[("password", VALUE), ("user", "dbfleet")]).unwrap();
    let env = [("VAULT_ADDR", bao.address()), ("VAULT_TOKEN", bao.root_token().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let ok = fleet_with_secrets(&["vault:secret/db/pg#password", "env:HOME"]);
    let run = ok.run_env(&["resolve", "--check-secrets"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(VALUE) && !run.stderr.contains(VALUE));

    let bad = fleet_with_secrets(&[
        "vault:secret/db/pg#password",
        "vault:secret/db/pg#passwd",
        "vault:secret/db/mysql#password",
        "env:DBFLEET_SURELY_UNSET",
    ]);
    let run = bad.run_env(&["resolve", "--check-secrets"], &env);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("--> layers/base/postgresql.yaml:4:13"), "{}", run.stderr);
    assert!(run.stderr.contains("has no field `passwd`"), "{}", run.stderr);
    assert!(run.stderr.contains("--> layers/base/postgresql.yaml:5:13"), "{}", run.stderr);
    assert!(run.stderr.contains("--> layers/base/postgresql.yaml:6:13"), "{}", run.stderr);
    assert!(run.stderr.contains("DBFLEET_SURELY_UNSET"), "{}", run.stderr);
    assert!(run.stderr.contains("3 errors"), "{}", run.stderr);
    assert!(!run.stdout.contains(VALUE) && !run.stderr.contains(VALUE));

    let denied =
        ok.run_env(&["resolve", "--check-secrets"], &[("VAULT_ADDR", &bao.address()), ("VAULT_TOKEN", "wrong")]);
    assert_eq!(denied.code, 5);
    assert!(denied.stderr.contains("denied") || denied.stderr.contains("403"), "{}", denied.stderr);
}
