//! `dbfleet secret`: age-encrypted secrets kept in the fleet repo
//! (`secrets/<name>.age`, encrypted to every key in `secrets/recipients.txt`).
//!
//! Values go in through standard input and come out only with `get --reveal`,
//! so they never land in shell history or in logs.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use dbfleet_secrets::{AgeStore, SecretError, SecretErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::exit::{Exit, fail};
use crate::output::{self, Format};

#[derive(clap::Subcommand, Debug)]
pub(crate) enum Command {
    /// Create an age identity (private key, mode 0600) and add its public key to the recipients.
    Keygen(IdentityArg),
    /// Encrypt a value read from standard input (or --from-file) to every recipient.
    Set {
        name: String,
        /// Read the value from this file instead of standard input.
        #[arg(long)]
        from_file: Option<PathBuf>,
    },
    /// Show a secret's metadata; with --reveal, print its value.
    Get {
        name: String,
        /// Print the decrypted value on standard output.
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        identity: IdentityArg,
    },
    /// List the secrets in the repo (without decrypting them).
    List,
    /// Re-encrypt every secret to the current recipients (after adding or removing one).
    Rekey(IdentityArg),
    /// Delete a secret.
    Rm { name: String },
}

#[derive(clap::Args, Debug)]
pub(crate) struct IdentityArg {
    /// The age identity file [default: $DBFLEET_AGE_IDENTITY, else ~/.config/dbfleet/age-identity.txt].
    #[arg(long)]
    identity: Option<PathBuf>,
}

impl IdentityArg {
    fn path(&self) -> anyhow::Result<PathBuf> {
        if let Some(p) = &self.identity {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var_os("DBFLEET_AGE_IDENTITY").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        let home = std::env::var_os("HOME")
            .ok_or_else(|| fail(Exit::Usage, "no --identity, DBFLEET_AGE_IDENTITY or HOME to find an identity"))?;
        Ok(PathBuf::from(home).join(".config/dbfleet/age-identity.txt"))
    }
}

fn exit_for(e: SecretError) -> anyhow::Error {
    let exit = match e.kind() {
        SecretErrorKind::NotFound => Exit::NotFound,
        SecretErrorKind::Denied => Exit::Denied,
        _ => Exit::Secret,
    };
    fail(exit, e.to_string())
}

pub(crate) fn run(repo: &Path, format: Format, cmd: Command) -> anyhow::Result<Exit> {
    let store = AgeStore::new(repo);
    match cmd {
        Command::Keygen(id) => {
            let path = id.path()?;
            let public = store.keygen(&path).map_err(exit_for)?;
            eprintln!("wrote identity {} and added its public key to secrets/recipients.txt", path.display());
            println!("{public}");
        }
        Command::Set { name, from_file } => {
            let value = match from_file {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| fail(Exit::Failure, format!("cannot read {}: {e}", path.display())))?,
                None => {
                    if std::io::stdin().is_terminal() {
                        eprintln!("enter the value of `{name}`, then Ctrl-D:");
                    }
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    s
                }
            };
            let value = SecretString::from(value.trim_end_matches(['\n', '\r']).to_string());
            store.set(&name, &value).map_err(exit_for)?;
            eprintln!("stored secret `{name}`; reference it as {{$secret: \"age:{name}\"}}");
        }
        Command::Get { name, reveal, identity } => {
            let path = identity.path()?;
            let value = store.get(&name, &path).map_err(exit_for)?;
            if reveal {
                let mut out = std::io::stdout().lock();
                out.write_all(value.expose_secret().as_bytes())?;
                out.write_all(b"\n")?;
            } else {
                let len = value.expose_secret().chars().count();
                match format {
                    Format::Json => output::json(&json!({ "name": name, "decrypts": true, "length": len })),
                    Format::Human => println!(
                        "`{name}` decrypts with {} ({len} characters); pass --reveal to print it",
                        path.display()
                    ),
                }
            }
        }
        Command::List => {
            let list = store.list().map_err(exit_for)?;
            match format {
                Format::Json => output::json(&json!(
                    list.iter()
                        .map(|s| json!({
                            "name": s.name,
                            "recipients": s.recipients,
                            "modified": jiff::Timestamp::try_from(s.modified).ok().map(|t| t.to_string()),
                        }))
                        .collect::<Vec<_>>()
                )),
                Format::Human => {
                    let mut rows = vec![vec!["NAME".to_string(), "RECIPIENTS".to_string(), "MODIFIED".to_string()]];
                    for s in &list {
                        rows.push(vec![
                            s.name.clone(),
                            s.recipients.map_or("?".into(), |n| n.to_string()),
                            jiff::Timestamp::try_from(s.modified)
                                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                                .unwrap_or_default(),
                        ]);
                    }
                    print!("{}", output::table(&rows));
                }
            }
        }
        Command::Rekey(id) => {
            let path = id.path()?;
            let names = store.rekey(&path).map_err(exit_for)?;
            eprintln!("re-encrypted {} secret{}", names.len(), if names.len() == 1 { "" } else { "s" });
            for n in names {
                println!("{n}");
            }
        }
        Command::Rm { name } => {
            store.remove(&name).map_err(exit_for)?;
            eprintln!("removed secret `{name}`");
        }
    }
    Ok(Exit::Ok)
}
