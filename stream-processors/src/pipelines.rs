//! The projects' pipelines as this processor runs them, reloaded when they change.
//!
//! Every change to a project's rules bumps its revision in the metadata store in the same
//! transaction. [`PipelineRegistry::run`] polls the revisions every [`PIPELINE_POLL`] and
//! recompiles only the projects whose revision moved, so an edit made through the API is in
//! force at every processor replica within about a second, without a restart. Each batch takes
//! one [`Snapshot`], so all records of a batch see the same version of the rules.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use nexuslog_common::shutdown::Shutdown;
use nexuslog_metastore::{AuditEntry, MetaStore, MetaStoreError};
use nexuslog_pipeline::{Pipeline, RuleSpec};

/// How often revisions are polled.
pub const PIPELINE_POLL: Duration = Duration::from_secs(1);

/// Project id → compiled pipeline; projects without rules are absent.
pub type Snapshot = Arc<HashMap<String, Arc<Pipeline>>>;

/// The compiled pipelines of every project, shared by the processing tasks.
pub struct PipelineRegistry {
    meta: Arc<dyn MetaStore>,
    current: RwLock<Snapshot>,
}

impl PipelineRegistry {
    pub fn new(meta: Arc<dyn MetaStore>) -> Arc<Self> {
        Arc::new(Self { meta, current: RwLock::new(Arc::default()) })
    }

    /// The pipelines now in force.
    pub fn snapshot(&self) -> Snapshot {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reloads the projects whose revision changed; returns how many were reloaded.
    ///
    /// # Errors
    /// When the metadata store cannot be read (the pipelines in force stay).
    pub async fn refresh(&self) -> Result<usize, MetaStoreError> {
        let revisions: HashMap<String, i64> = self.meta.pipeline_revisions().await?.into_iter().collect();
        let current = self.snapshot();
        let mut next: HashMap<String, Arc<Pipeline>> = HashMap::with_capacity(revisions.len());
        let mut reloaded = 0;
        for (project, revision) in &revisions {
            if let Some(p) = current.get(project).filter(|p| p.revision() == *revision) {
                next.insert(project.clone(), p.clone());
                continue;
            }
            reloaded += 1;
            let pipeline = self.load(project, *revision).await?;
            if !pipeline.is_empty() {
                next.insert(project.clone(), Arc::new(pipeline));
            }
        }
        let changed = reloaded > 0 || next.len() != current.len();
        if changed {
            *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        }
        Ok(reloaded)
    }

    /// Compiles a project's rules. A stored rule that no longer compiles (saved by another
    /// version) is skipped with an error log rather than stopping every other rule.
    async fn load(&self, project: &str, revision: i64) -> Result<Pipeline, MetaStoreError> {
        let rows = self.meta.pipeline_rules(project).await?;
        let mut specs = Vec::with_capacity(rows.len());
        for row in &rows {
            match serde_json::from_str::<RuleSpec>(&row.definition) {
                Ok(spec) => match Pipeline::validate(&spec) {
                    Ok(()) => specs.push((row.id.as_str(), spec)),
                    Err(e) => tracing::error!(project, rule = row.id, error = %e, "skipping a rule that does not compile"),
                },
                Err(e) => tracing::error!(project, rule = row.id, error = %e, "skipping a rule that does not parse"),
            }
        }
        let pipeline = Pipeline::compile(specs.iter().map(|(id, s)| (*id, s)), revision).unwrap_or_default();
        tracing::info!(project, revision, rules = specs.len(), "pipeline loaded");
        metrics::counter!("nexuslog_pipeline_reloads_total").increment(1);
        Ok(pipeline)
    }

    /// Stores the auto rules' new per-source choices, first writer wins, so every replica
    /// parses a source with the same preset: each adopts what the store holds. The replica whose
    /// choice was stored audits it.
    ///
    /// # Errors
    /// When the metadata store cannot be written (the local choices stay in force).
    pub async fn share_auto_choices(&self) -> Result<(), MetaStoreError> {
        for (project, pipeline) in self.snapshot().iter() {
            for (rule, chooser) in pipeline.auto_choosers() {
                let mut proposals = chooser.take_proposals().into_iter();
                while let Some(p) = proposals.next() {
                    let name = format!("auto-preset:{project}:{rule}:{}:{}", p.source, p.generation);
                    let nonce = nexuslog_metastore::new_id();
                    let ours = serde_json::json!({ "preset": p.preset, "share": p.share, "nonce": nonce }).to_string();
                    let stored = match self.meta.setting_or_insert(&name, &ours).await {
                        Ok(stored) => stored,
                        Err(e) => {
                            // Tried again at the next poll.
                            chooser.requeue(std::iter::once(p).chain(proposals));
                            return Err(e);
                        }
                    };
                    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap_or_default();
                    let preset = stored["preset"].as_str().and_then(nexuslog_pipeline::presets::preset).map(|p| p.name);
                    chooser.adopt(&p.source, p.generation, preset);
                    if stored["nonce"].as_str() != Some(nonce.as_str()) {
                        continue;
                    }
                    tracing::info!(project, rule, source = p.source, preset = ?p.preset, previous = ?p.previous, share = p.share, "auto mode chose a preset");
                    let detail = serde_json::json!({ "rule": rule, "preset": p.preset, "previous": p.previous, "share": p.share, "generation": p.generation });
                    self.meta
                        .append_audit(&AuditEntry {
                            id: nexuslog_metastore::new_id(),
                            at: nexuslog_metastore::now(),
                            actor: "system".into(),
                            actor_name: "processor".into(),
                            action: "pipeline.auto_preset".into(),
                            project_id: Some(project.clone()),
                            target: p.source.clone(),
                            outcome: "success".into(),
                            detail: detail.to_string(),
                            ip: String::new(),
                        })
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Polls for changes until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: Shutdown) {
        loop {
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "cannot poll pipeline revisions; the loaded pipelines stay in force");
            }
            if let Err(e) = self.share_auto_choices().await {
                tracing::warn!(error = %e, "cannot store auto mode's choices; each processor keeps its own for now");
            }
            tokio::select! {
                () = tokio::time::sleep(PIPELINE_POLL) => {}
                () = shutdown.wait() => return,
            }
        }
    }
}
