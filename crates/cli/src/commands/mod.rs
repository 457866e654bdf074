//! One module per subcommand, each with its `Args` and `run`.

pub(crate) mod deploy;
pub(crate) mod explain;
pub(crate) mod import;
pub(crate) mod init;
pub(crate) mod render;
pub(crate) mod resolve;
pub(crate) mod schema;
pub(crate) mod secret;
pub(crate) mod targets;
pub(crate) mod validate;
