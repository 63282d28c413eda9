//! The alert rules in force, reloaded within half a second of a change through the API.
//!
//! Every change bumps one revision in the metadata store; [`AlertRuleRegistry::run`] polls it
//! and recompiles all rules when it moves. Processors and the evaluator take one [`AlertRules`]
//! snapshot per batch, so a batch sees one version of the rules.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use nexuslog_alerting::{Rule, RuleSet, RuleSpec};
use nexuslog_common::shutdown::Shutdown;
use nexuslog_metastore::{MetaStore, MetaStoreError};

/// How often the revision is polled.
pub const ALERT_RULES_POLL: Duration = Duration::from_millis(500);

/// One version of every project's rules.
#[derive(Debug, Default)]
pub struct AlertRules {
    pub revision: i64,
    /// Enabled rules by project, indexed: what the processors match records against.
    pub by_project: HashMap<String, RuleSet>,
    /// Every rule by id, enabled or not: what the evaluator judges windows with.
    pub by_id: HashMap<String, Arc<Rule>>,
}

impl AlertRules {
    pub fn is_empty(&self) -> bool {
        self.by_project.is_empty()
    }

    /// The project's rules (none for a project without rules: its records still move the
    /// watermark through [`nexuslog_alerting::Collector::observe`]).
    pub fn of_project(&self, project_id: &str) -> &RuleSet {
        static NONE: std::sync::LazyLock<RuleSet> = std::sync::LazyLock::new(RuleSet::default);
        self.by_project.get(project_id).unwrap_or(&NONE)
    }
}

pub struct AlertRuleRegistry {
    meta: Arc<dyn MetaStore>,
    current: RwLock<Arc<AlertRules>>,
}

impl AlertRuleRegistry {
    pub fn new(meta: Arc<dyn MetaStore>) -> Arc<Self> {
        Arc::new(Self { meta, current: RwLock::new(Arc::new(AlertRules { revision: -1, ..AlertRules::default() })) })
    }

    pub fn snapshot(&self) -> Arc<AlertRules> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Reloads every rule when the revision moved; returns whether it did.
    ///
    /// # Errors
    /// When the metadata store cannot be read (the rules in force stay).
    pub async fn refresh(&self) -> Result<bool, MetaStoreError> {
        let revision = self.meta.alert_revision().await?;
        if revision == self.snapshot().revision {
            return Ok(false);
        }
        let mut rules = AlertRules { revision, ..AlertRules::default() };
        let mut enabled: HashMap<String, Vec<Arc<Rule>>> = HashMap::new();
        for row in self.meta.all_alert_rules().await? {
            // A stored rule that no longer compiles (saved by another version) is skipped with
            // an error log rather than stopping every other rule.
            let rule = match serde_json::from_str::<RuleSpec>(&row.definition) {
                Ok(spec) => match spec.compile(&row.id, &row.project_id) {
                    Ok(rule) => Arc::new(rule),
                    Err(e) => {
                        tracing::error!(rule = row.id, error = %e, "skipping an alert rule that does not compile");
                        continue;
                    }
                },
                Err(e) => {
                    tracing::error!(rule = row.id, error = %e, "skipping an alert rule that does not parse");
                    continue;
                }
            };
            enabled.entry(row.project_id.clone()).or_default().push(rule.clone());
            rules.by_id.insert(row.id, rule);
        }
        // RuleSet keeps the enabled ones; a project whose rules are all disabled has none.
        rules.by_project = enabled.into_iter().map(|(project, list)| (project, RuleSet::new(list))).filter(|(_, set)| !set.is_empty()).collect();
        tracing::info!(revision, rules = rules.by_id.len(), "alert rules loaded");
        metrics::counter!("nexuslog_alert_rule_reloads_total").increment(1);
        metrics::gauge!("nexuslog_alert_rules_enabled").set(rules.by_project.values().map(RuleSet::len).sum::<usize>() as f64);
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(rules);
        Ok(true)
    }

    /// Polls for changes until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: Shutdown) {
        loop {
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "cannot poll alert rules; the loaded rules stay in force");
            }
            tokio::select! {
                () = tokio::time::sleep(ALERT_RULES_POLL) => {}
                () = shutdown.wait() => return,
            }
        }
    }
}
