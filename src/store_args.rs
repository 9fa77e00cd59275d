//! Where the store is, for the commands that work on one: `--data-dir`,
//! else the one `--config` names, else the demo's (which must exist).

use std::path::PathBuf;

use switchboard_core::Service;
use switchboard_core::config::Config;

use crate::app;
use crate::cli::{DEMO_DATA_DIR, load};

/// Where the store is, for commands that work on one (beside a running server too).
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct StoreArgs {
    /// Data directory of the store. Default: the config's store.data_dir
    /// with --config, else the demo's (.switchboard-demo).
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Optional config file (project types, environments, templates, and the
    /// store it names).
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub(crate) config: Option<PathBuf>,
}

impl StoreArgs {
    /// Loads the config and opens the store, logging warnings only. Links
    /// point where a server on this store said it was served, unless the
    /// config names `server.base_url`.
    pub(crate) async fn open(&self) -> anyhow::Result<Service> {
        Ok(self.open_in().await?.0)
    }

    /// As [`Self::open`], with the directory the store is in.
    pub(crate) async fn open_in(&self) -> anyhow::Result<(Service, PathBuf)> {
        let mut config = load(self.config.as_ref())?;
        app::init_logging(&config.log, true);
        let dir = self.dir(&config)?;
        if config.server.base_url.is_none()
            && let Ok(url) = std::fs::read_to_string(dir.join(app::PORTAL_URL_FILE))
            && (url.starts_with("http://") || url.starts_with("https://"))
        {
            config.server.base_url = Some(url.trim().to_owned());
        }
        Ok((app::open(&config, &dir).await?.service, dir))
    }

    /// A store at `dir` with the default config.
    pub(crate) fn at(dir: PathBuf) -> Self {
        Self { data_dir: Some(dir), config: None }
    }

    /// Whether `--data-dir` or `--config` was given.
    pub(crate) fn names_a_store(&self) -> bool {
        self.data_dir.is_some() || self.config.is_some()
    }

    /// `--data-dir`, else the store the config names, else the demo's —
    /// which must exist: an empty store made by accident would answer every
    /// question with nothing.
    pub(crate) fn dir(&self, config: &Config) -> anyhow::Result<PathBuf> {
        Ok(match (&self.data_dir, &self.config) {
            (Some(d), _) => d.clone(),
            (None, Some(_)) => config.store.data_dir.clone(),
            (None, None) => {
                let demo = PathBuf::from(DEMO_DATA_DIR);
                if !demo.join(switchboard_store::sqlite::DB_FILE).exists() {
                    let here = std::env::current_dir().map(|d| d.join(DEMO_DATA_DIR)).unwrap_or(demo);
                    anyhow::bail!(
                        "no store at {}: without --data-dir or --config this command uses the demo's store, \
                         which `switchboard demo` makes in the directory it runs in. Run it here first, \
                         or name a store with --data-dir DIR or --config FILE",
                        here.display()
                    );
                }
                demo
            }
        })
    }
}
