//! `streamfront distributions put|delete|list`: changes to the control store's distributions
//! for users without the API. Each commit prints its change number.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde::Deserialize;
use sf_control::{Store, StoreOptions};

use crate::distributions::from_entries;
use crate::settings::{self, Settings, StreamingDistributionEntry};
use sf_api::state::{Change, ControlState};

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The control store: a directory or s3://BUCKET[/PREFIX]. Default: the config file's
    /// `store`, else <data_dir>/control.
    #[arg(long, value_name = "DIR|s3://BUCKET[/PREFIX]")]
    store: Option<String>,
    /// The serve config file, for `store`, `data_dir`, `distribution_domain` and `[s3]`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DistributionsCommand {
    /// Puts (creates or replaces) the [[streaming_distributions]] of FILE, one change each.
    Put {
        #[command(flatten)]
        store: StoreArgs,
        /// TOML with [[streaming_distributions]] entries, keys as in the config file.
        file: PathBuf,
    },
    /// Deletes the streaming distribution ID.
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Prints the store's streaming distributions as JSON.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// The file `put` reads: only distributions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutFile {
    #[serde(default)]
    streaming_distributions: Vec<StreamingDistributionEntry>,
}

pub fn run(command: DistributionsCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("streamfront: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("streamfront: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: DistributionsCommand) -> Result<(), String> {
    match command {
        DistributionsCommand::Put { store, file } => {
            let (settings, store) = open(&store).await?;
            let entries = read_put_file(&file)?;
            let statics = from_entries(&entries, &settings.distribution_domain)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            for d in statics {
                let (id, domain) = (d.record.id.clone(), d.record.domain_name.clone());
                let change = Change::PutStreaming { record: Box::new(d.record), origin: d.origin_spec };
                let seq = store.commit(&change).await.map_err(|e| format!("--store {}: {e}", store.describe()))?;
                println!("committed {seq}: put streaming distribution {id} ({domain})");
            }
            Ok(())
        }
        DistributionsCommand::Delete { store, id } => {
            let (_, store) = open(&store).await?;
            let state = load(&store).await?;
            if !state.streaming.contains_key(&id) {
                return Err(format!("--store {}: no streaming distribution {id}", store.describe()));
            }
            let change = Change::DeleteStreaming { id: id.clone() };
            let seq = store.commit(&change).await.map_err(|e| format!("--store {}: {e}", store.describe()))?;
            println!("committed {seq}: deleted streaming distribution {id}");
            Ok(())
        }
        DistributionsCommand::List { store } => {
            let (_, store) = open(&store).await?;
            let state = load(&store).await?;
            let list: Vec<_> = state.streaming.values().collect();
            println!("{}", serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

fn read_put_file(file: &Path) -> Result<Vec<StreamingDistributionEntry>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let parsed: PutFile =
        toml::from_str(&text).map_err(|e| format!("{}: {}", file.display(), e.to_string().trim_end()))?;
    if parsed.streaming_distributions.is_empty() {
        return Err(format!("{}: no [[streaming_distributions]] entry", file.display()));
    }
    Ok(parsed.streaming_distributions)
}

/// The settings of `--config` (defaults without it) with `--store` over its `store`, and the
/// store opened.
async fn open(args: &StoreArgs) -> Result<(Settings, Arc<Store>), String> {
    let mut settings = match &args.config {
        Some(path) => settings::read_file(path)?,
        None => Settings::default(),
    };
    if args.store.is_some() {
        settings.store.clone_from(&args.store);
    }
    let store = crate::follow::open_store(&settings, StoreOptions::default()).await?;
    Ok((settings, store))
}

async fn load(store: &Store) -> Result<ControlState, String> {
    let applied = store.load::<ControlState>().await.map_err(|e| format!("--store {}: {e}", store.describe()))?;
    Ok(applied.state)
}
